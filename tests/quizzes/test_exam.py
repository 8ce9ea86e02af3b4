"""The practice exam: 65 questions drawn across modules in proportion, stored on the attempt; a 130-minute
deadline stored server-side (a reload keeps it; answers after it are refused and the exam finishes
itself); no feedback until the end, then a score by module and a review of every answer."""

import random
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from labapp.courses.loader import load_courses
from labapp.courses.models import Course
from labapp.quizzes import services
from labapp.quizzes.models import ExamAttempt, Question

from .conftest import HTMX, right, wrong

pytestmark = pytest.mark.django_db


def start(client, course="practice") -> ExamAttempt:
    response = client.post(f"/courses/{course}/exam/start/")
    assert response.status_code == 302
    attempt_id = response["Location"].rstrip("/").split("/")[-1]
    assert response["Location"] == f"/exams/{attempt_id}/"
    return ExamAttempt.objects.get(pk=attempt_id)


def answer(client, attempt, question, choices, **extra):
    return client.post(f"/exams/{attempt.pk}/answer/", {"question": question.pk, "choice": choices}, **extra)


def deadline_on_page(html: str) -> str:
    return re.search(r'data-expires-at="([^"]+)"', html).group(1)


def test_the_draw_is_proportional_random_and_65_long(practice):
    picks = [services.draw_exam_questions(practice, rng=random.Random(seed)) for seed in (1, 2)]
    for ids in picks:
        assert len(ids) == len(set(ids)) == 65
        modules = Counter(Question.objects.get(pk=pk).module.slug for pk in ids)
        # 65 × 30/70 = 27.9, 65 × 25/70 = 23.2, 65 × 15/70 = 13.9 (largest remainders round up)
        assert modules == {"storage": 28, "compute": 23, "network": 14}
    assert picks[0] != picks[1]


def test_starting_an_exam_stores_its_questions_and_deadline(practice, alice_client):
    before = timezone.now()
    attempt = start(alice_client)
    assert len(attempt.question_ids) == 65 and attempt.max_score == 65
    assert attempt.deadline - attempt.started_at == timedelta(minutes=130)
    assert before <= attempt.started_at <= timezone.now()
    page = alice_client.get(f"/exams/{attempt.pk}/").content.decode()
    assert page.count('class="question"') == 65
    assert "Answered <strong>0</strong> of 65" in page
    assert "data-short-exam" not in page
    # No feedback while the exam runs.
    assert "Explanation for" not in page and "correct" not in page.lower().replace("correct horse", "")


def test_reload_shows_the_same_exam_and_the_same_deadline(practice, alice_client):
    attempt = start(alice_client)
    first = alice_client.get(f"/exams/{attempt.pk}/").content.decode()
    first_question = Question.objects.get(pk=attempt.question_ids[0])
    answer(alice_client, attempt, first_question, right(first_question), **HTMX)
    second = alice_client.get(f"/exams/{attempt.pk}/").content.decode()
    assert deadline_on_page(first) == deadline_on_page(second) == attempt.deadline.isoformat()
    ids = lambda html: re.findall(r'data-question="(\d+)"', html)  # noqa: E731
    assert ids(first) == ids(second) == [str(pk) for pk in attempt.question_ids]
    # Starting again resumes the same attempt instead of drawing a new one.
    assert start(alice_client).pk == attempt.pk
    attempt.refresh_from_db()
    assert attempt.answers == {str(first_question.pk): first_question.correct_ids}


def test_answers_are_saved_without_feedback_and_can_change(practice, alice_client):
    attempt = start(alice_client)
    question = Question.objects.get(pk=attempt.question_ids[3])
    html = answer(alice_client, attempt, question, wrong(question), **HTMX).content.decode()
    assert "Saved." in html and "Answered <strong>1</strong> of 65" in html
    assert "Explanation" not in html and "Correct" not in html and "Not quite" not in html
    # Only the saved state, the progress and the palette button come back (the choices the learner is
    # on keep their focus); the reloaded page shows the choice checked.
    assert 'name="choice"' not in html
    page = alice_client.get(f"/exams/{attempt.pk}/").content.decode()
    assert f'value="{wrong(question)[0]}" checked' in page
    answer(alice_client, attempt, question, right(question), **HTMX)
    attempt.refresh_from_db()
    assert attempt.answers == {str(question.pk): question.correct_ids}


def test_an_answer_after_the_deadline_is_refused_and_the_exam_finishes(practice, alice_client):
    attempt = start(alice_client)
    first, second = (Question.objects.get(pk=pk) for pk in attempt.question_ids[:2])
    # The whole right answer: a drawn question may be multi-select.
    answer(alice_client, attempt, first, right(first), **HTMX)
    # The clock runs out (the stored deadline is what counts, not the page's timer).
    ExamAttempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    response = answer(alice_client, attempt, second, right(second), **HTMX)
    assert response["HX-Redirect"] == f"/exams/{attempt.pk}/results/"
    attempt.refresh_from_db()
    assert attempt.is_finished and attempt.timed_out
    assert str(second.pk) not in attempt.answers and attempt.score == 1
    results = alice_client.get(f"/exams/{attempt.pk}/results/").content.decode()
    assert "the time ran out" in results
    assert "Time is up: the exam has ended and this answer was not recorded." in results
    # The exam page now goes to the results.
    assert alice_client.get(f"/exams/{attempt.pk}/")["Location"] == f"/exams/{attempt.pk}/results/"


def test_time_moving_past_the_deadline_finishes_the_exam_on_reload(practice, alice_client, monkeypatch):
    attempt = start(alice_client)
    question = Question.objects.get(pk=attempt.question_ids[0])
    later = attempt.deadline + timedelta(seconds=5)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = answer(alice_client, attempt, question, right(question))  # without JavaScript
    assert response.status_code == 302 and response["Location"] == f"/exams/{attempt.pk}/results/"
    attempt.refresh_from_db()
    assert attempt.timed_out and attempt.answers == {} and attempt.finished_at == attempt.deadline


def test_results_give_a_score_by_module_and_review_every_answer(practice, alice_client):
    attempt = start(alice_client)
    questions = [Question.objects.get(pk=pk) for pk in attempt.question_ids]
    right_by_module = Counter()
    for n, question in enumerate(questions):
        if n % 2 == 0:  # every other one right; the rest left unanswered
            answer(alice_client, attempt, question, right(question), **HTMX)
            right_by_module[question.module.slug] += 1
    missed = questions[1]
    answer(alice_client, attempt, missed, wrong(missed), **HTMX)
    response = alice_client.post(f"/exams/{attempt.pk}/finish/")
    assert response["Location"] == f"/exams/{attempt.pk}/results/"
    html = alice_client.get(response["Location"]).content.decode()
    assert "Your score: <span data-exam-score>33 of 65</span> (51%)" in html
    totals = Counter(q.module.slug for q in questions)
    for slug in ("storage", "compute", "network"):
        row = re.search(rf'<tr data-module="{slug}">(.*?)</tr>', html, re.S).group(1)
        assert re.findall(r"<td>(\d+)%?</td>", row)[:2] == [str(right_by_module[slug]), str(totals[slug])]
    assert html.count("data-review=") == 65
    assert html.count("Explanation for") == 65
    assert html.count("badge-bad\">not answered") == 31
    assert "badge-bad\">wrong" in html
    assert 'href="/courses/practice/' in html  # links to the lesson sections
    # Finished exams take no more answers.
    answer(alice_client, attempt, questions[3], right(questions[3]), **HTMX)
    attempt.refresh_from_db()
    assert str(questions[3].pk) not in attempt.answers


def test_another_learners_exam_is_not_found(practice, alice_client, bob_client):
    attempt = start(alice_client)
    question = Question.objects.get(pk=attempt.question_ids[0])
    assert bob_client.get(f"/exams/{attempt.pk}/").status_code == 404
    assert bob_client.get(f"/exams/{attempt.pk}/results/").status_code == 404
    assert answer(bob_client, attempt, question, right(question)).status_code == 404
    assert bob_client.post(f"/exams/{attempt.pk}/finish/").status_code == 404
    attempt.refresh_from_db()
    assert attempt.answers == {} and not attempt.is_finished
    assert Client().get(f"/exams/{attempt.pk}/").status_code == 302  # anonymous: sign in first


def test_with_fewer_than_65_questions_the_exam_uses_all_and_says_so(db, settings, alice_client):
    demo = Path(__file__).parent.parent / "courses" / "fixtures"
    settings.COURSES_DIR = demo
    assert load_courses(demo).ok
    assert "the exam uses all of them" in alice_client.get("/courses/demo/exam/").content.decode()
    attempt = start(alice_client, "demo")
    assert sorted(attempt.question_ids) == sorted(Question.objects.filter(module__course__slug="demo")
                                                  .values_list("pk", flat=True))
    page = alice_client.get(f"/exams/{attempt.pk}/").content.decode()
    assert "data-short-exam" in page and "uses all of them (a full exam has 65)" in page


def test_a_course_without_questions_cannot_start_an_exam(db, alice_client):
    import uuid

    Course.objects.create(uuid=uuid.uuid4(), slug="empty", title="Empty")
    response = alice_client.post("/courses/empty/exam/start/", follow=True)
    assert "no practice questions yet" in response.content.decode()
    assert not ExamAttempt.objects.exists()
