"""The practice exam as a real one works: flags for review kept on the attempt, a question palette, a
review screen that counts unanswered and flagged questions before Finish, and results by exam domain
with the lessons behind every missed question."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from labapp.quizzes import domains
from labapp.quizzes.models import ExamAttempt, Question

from .conftest import HTMX, right, wrong
from .test_exam import answer, start

pytestmark = pytest.mark.django_db


def flag(client, attempt, question, on=True, **extra):
    return client.post(f"/exams/{attempt.pk}/flag/", {"question": question.pk, "flag": "on" if on else "off"}, **extra)


def exam_questions(attempt):
    return [Question.objects.get(pk=pk) for pk in attempt.question_ids]


def palette_button(html, question) -> str:
    return re.search(rf'<a id="pal-{question.pk}".*?</a>', html, re.S).group(0)


@pytest.fixture
def practice_domains(monkeypatch):
    """The fixture course's modules placed in three of the four exam domains."""
    for slug, domain in {"storage": domains.DEVELOPMENT, "network": domains.SECURITY,
                         "compute": domains.DEPLOYMENT}.items():
        monkeypatch.setitem(domains.MODULE_DOMAINS, slug, domain)


# --- the question page ---------------------------------------------------------------------------


def test_the_page_has_a_palette_a_flag_per_question_and_autosave_wording(practice, alice_client):
    attempt = start(alice_client)
    page = alice_client.get(f"/exams/{attempt.pk}/").content.decode()
    assert page.count('class="palette-item"') == 65  # nothing answered or flagged yet
    assert page.count("Flag for review</button>") == 65
    assert 'aria-pressed="true"' not in page
    assert "Answers save automatically" in page
    # The "Save answer" buttons are the no-JavaScript fallback only, hidden by static/js/exam.js.
    assert page.count("data-nojs-only>Save answer</button>") == 65
    assert page.count("Not answered yet.") == 65
    # The ticking timer is not announced every second: no live region around it.
    bar = re.search(r'<div class="exam-bar">(.*?)</div>', page, re.S).group(1)
    assert "aria-live" not in bar and "role=\"status\"" not in bar and "data-timer-text" in bar
    assert 'id="exam-announce" class="offscreen" role="status"' in page
    assert f'href="/exams/{attempt.pk}/review/"' in page


def test_a_flag_is_kept_on_the_attempt_and_survives_a_reload(practice, alice_client):
    attempt = start(alice_client)
    first, second = exam_questions(attempt)[:2]
    html = flag(alice_client, attempt, second, **HTMX).content.decode()
    assert 'aria-pressed="true"' in html and "Flagged</span>" in html
    assert 'hx-swap-oob="true"' in palette_button(html, second) and "not answered, flagged" in html
    attempt.refresh_from_db()
    assert attempt.flagged == [second.pk]

    page = alice_client.get(f"/exams/{attempt.pk}/").content.decode()
    assert "not answered, flagged" in palette_button(page, second)
    assert "flagged" not in palette_button(page, first)
    assert page.count('aria-pressed="true"') == 1

    # Answering keeps the flag; the palette button then says both.
    html = answer(alice_client, attempt, second, right(second), **HTMX).content.decode()
    assert "answered, flagged" in palette_button(html, second) and "not answered" not in palette_button(html, second)

    flag(alice_client, attempt, second, on=False, **HTMX)
    attempt.refresh_from_db()
    assert attempt.flagged == []
    assert 'aria-pressed="true"' not in alice_client.get(f"/exams/{attempt.pk}/").content.decode()


def test_flagging_without_javascript_returns_to_the_question(practice, alice_client):
    attempt = start(alice_client)
    question = exam_questions(attempt)[5]
    response = flag(alice_client, attempt, question)
    assert response.status_code == 302 and response["Location"] == f"/exams/{attempt.pk}/#q-{question.pk}"
    attempt.refresh_from_db()
    assert attempt.flagged == [question.pk]


def test_flags_are_refused_for_other_questions_other_learners_and_finished_exams(practice, alice_client, bob_client):
    attempt = start(alice_client)
    question = exam_questions(attempt)[0]
    outsider = Question.objects.exclude(pk__in=attempt.question_ids).first()
    html = flag(alice_client, attempt, outsider, **HTMX)
    assert html.status_code == 400 and "not part of this exam" in html.content.decode()
    assert flag(bob_client, attempt, question).status_code == 404
    alice_client.post(f"/exams/{attempt.pk}/finish/")
    response = flag(alice_client, attempt, question, **HTMX)
    assert response["HX-Redirect"] == f"/exams/{attempt.pk}/results/"
    attempt.refresh_from_db()
    assert attempt.flagged == []


# --- the review screen -----------------------------------------------------------------------------


def test_review_counts_unanswered_and_flagged_questions_and_links_to_them(practice, alice_client):
    attempt = start(alice_client)
    questions = exam_questions(attempt)
    for question in questions[:3]:
        answer(alice_client, attempt, question, wrong(question), **HTMX)
    flag(alice_client, attempt, questions[1], **HTMX)   # answered and flagged
    flag(alice_client, attempt, questions[40], **HTMX)  # unanswered and flagged
    page = alice_client.get(f"/exams/{attempt.pk}/review/").content.decode()
    assert "You answered 3 of 65 questions" in page
    assert '<strong data-count="unanswered">62</strong> unanswered' in page
    assert '<strong data-count="flagged">2</strong> flagged for review' in page
    unanswered = re.search(r'data-list="unanswered">(.*?)</ul>', page, re.S).group(1)
    flagged = re.search(r'data-list="flagged">(.*?)</ul>', page, re.S).group(1)
    assert unanswered.count("<li>") == 62 and "Question 1<" not in unanswered and "Question 4<" in unanswered
    assert re.findall(r'href="([^"]+)">Question (\d+)<', flagged) == [
        (f"/exams/{attempt.pk}/#q-{questions[1].pk}", "2"), (f"/exams/{attempt.pk}/#q-{questions[40].pk}", "41")]
    # Finish is confirmed from here, and the confirmation says what is left.
    confirm = re.search(r'data-confirm="([^"]+)"', page).group(1)
    assert confirm.startswith("Finish the exam now? 62 of 65 questions are unanswered and 2 are flagged for review.")
    assert f'action="/exams/{attempt.pk}/finish/"' in page


def test_review_with_everything_answered_says_so(practice, alice_client):
    attempt = start(alice_client)
    ExamAttempt.objects.filter(pk=attempt.pk).update(
        answers={str(q.pk): q.correct_ids for q in exam_questions(attempt)})
    page = alice_client.get(f"/exams/{attempt.pk}/review/").content.decode()
    assert '<strong data-count="unanswered">0</strong>' in page and "every question has an answer" in page
    assert 'data-confirm="Finish the exam now? Every question is answered.' in page


def test_review_of_a_finished_or_expired_exam_goes_to_the_results(practice, alice_client):
    attempt = start(alice_client)
    ExamAttempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    response = alice_client.get(f"/exams/{attempt.pk}/review/")
    assert response.status_code == 302 and response["Location"] == f"/exams/{attempt.pk}/results/"


# --- results by domain -----------------------------------------------------------------------------


def domain_row(html, slug) -> list[str]:
    row = re.search(rf'<tr data-domain="{slug}">(.*?)</tr>', html, re.S).group(1)
    return re.findall(r"<td>(\d+)%?</td>", row)


def test_results_score_each_domain_and_link_missed_questions_to_their_lessons(practice, practice_domains,
                                                                              alice_client):
    attempt = start(alice_client)
    questions = exam_questions(attempt)
    for question in questions:  # storage right, compute wrong, network left unanswered
        if question.module.slug == "storage":
            answer(alice_client, attempt, question, right(question), **HTMX)
        elif question.module.slug == "compute":
            answer(alice_client, attempt, question, wrong(question), **HTMX)
    alice_client.post(f"/exams/{attempt.pk}/finish/")
    html = alice_client.get(f"/exams/{attempt.pk}/results/").content.decode()
    counts = Counter(q.module.slug for q in questions)
    assert domain_row(html, "domain-1") == [str(counts["storage"]), str(counts["storage"]), "100"]
    assert domain_row(html, "domain-2") == ["0", str(counts["network"]), "0"]
    assert domain_row(html, "domain-3") == ["0", str(counts["compute"]), "0"]
    assert 'data-domain="domain-4"' not in html  # no question of that domain in this exam
    assert "Development with AWS Services" in html and "Deployment" in html

    # Each domain lists what was missed, with the lesson section behind the question.
    section = lambda slug: re.search(rf'data-missed-domain="{slug}"(.*?)</section>', html, re.S).group(1)  # noqa: E731
    assert "Nothing missed here." in section("domain-1")
    deployment = section("domain-3")
    assert deployment.count("<li data-missed=") == counts["compute"]
    assert deployment.count("(wrong, Compute)") == counts["compute"]
    number, question = next((n, q) for n, q in enumerate(questions, 1) if q.module.slug == "compute")
    missed = re.search(rf'<li data-missed="{question.pk}">(.*?)</li>', deployment, re.S).group(1)
    assert f'href="#review-{number}"' in missed
    assert f'href="/courses/practice/compute/lessons/basics/#{question.anchor}" data-link="lesson"' in missed
    assert section("domain-2").count("(not answered, Networking)") == counts["network"]


def test_a_module_without_a_domain_still_counts_under_other_topics(practice, alice_client):
    attempt = start(alice_client)
    alice_client.post(f"/exams/{attempt.pk}/finish/")
    html = alice_client.get(f"/exams/{attempt.pk}/results/").content.decode()
    assert domain_row(html, "domain-9") == ["0", "65", "0"]
    assert "Other topics" in html
