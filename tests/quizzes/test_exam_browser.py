"""Headless Chromium on the practice exam. The timer survives a reload (the deadline is stored on the
server); one question at a time with Previous/Next, flags, the palette, the review screen and results by
domain; on a phone the sticky bar stays small and nothing scrolls sideways. Needs only live_server and the
fixture questions (no lab stack), and Debian's chromium at /usr/bin/chromium."""

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from labapp.courses.loader import load_courses
from labapp.quizzes import domains
from labapp.quizzes.choice_order import ordered_choices
from labapp.quizzes.models import ExamAttempt, Question
from tests.browser import chromium, sign_in

FIXTURES = Path(__file__).parent / "fixtures"


def seconds_left(text: str) -> int:
    hours, minutes, seconds = map(int, re.fullmatch(r"(\d+):(\d\d):(\d\d)", text.strip()).groups())
    return hours * 3600 + minutes * 60 + seconds


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_exam_timer_survives_a_reload(live_server, settings):
    settings.COURSES_DIR = FIXTURES
    assert load_courses(FIXTURES).ok
    User.objects.create_user("examinee", "e@example.org", "a perfectly long passphrase")

    with chromium(timeout_ms=20_000) as (new_page, problems):
        page = new_page()
        sign_in(page, live_server.url, "examinee", "a perfectly long passphrase")

        page.goto(f"{live_server.url}/courses/practice/exam/")
        page.get_by_role("button", name="Start the practice exam").click()
        page.wait_for_selector("text=Question 1")
        timer = page.locator("[data-expires-at] [data-timer-text]")
        deadline = page.locator("[data-expires-at]").get_attribute("data-expires-at")
        page.wait_for_function(
            "() => /^\\d+:\\d\\d:\\d\\d$/.test(document.querySelector('[data-timer-text]').textContent)")
        before = seconds_left(timer.text_content())
        assert 129 * 60 < before <= 130 * 60

        # Answer the first question: htmx saves it on change, without feedback.
        first = page.locator("section.question").first
        first.locator("label.choice").nth(1).click()
        first = page.locator("section.question").first
        first.locator("text=Saved.").wait_for()
        assert "Answered 1 of 65" in page.locator("#exam-progress").text_content()

        time.sleep(1.2)
        page.reload()
        page.wait_for_selector("text=Question 1")
        assert page.locator("[data-expires-at]").get_attribute("data-expires-at") == deadline
        page.wait_for_function(
            "() => /^\\d+:\\d\\d:\\d\\d$/.test(document.querySelector('[data-timer-text]').textContent)")
        after = seconds_left(timer.text_content())
        assert after < before, (before, after)  # still counting down from the same deadline
        # It keeps ticking (once a second: wait for the next tick rather than sleep a guess).
        page.wait_for_function(
            "(shown) => document.querySelector('[data-timer-text]').textContent !== shown",
            arg=timer.text_content(), timeout=10_000)
        assert seconds_left(timer.text_content()) < after
        assert page.locator("section.question").first.locator("input[name=choice]").nth(1).is_checked()
        assert "Answered 1 of 65" in page.locator("#exam-progress").text_content()

        attempt = ExamAttempt.objects.get()
        assert attempt.deadline.isoformat() == deadline and not attempt.is_finished
        # The learner clicked the second choice shown: stored as that choice's id, not as a position.
        [(question_pk, selected)] = attempt.answers.items()
        second_shown = ordered_choices(Question.objects.get(pk=question_pk), attempt.choice_seed)[1]
        assert selected == [second_shown["id"]]

    assert not problems, problems


MOBILE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}


def visible_questions(page) -> list[str]:
    return page.locator("section.question:visible .question-number").all_text_contents()


def wait_text(page, selector: str, text: str):
    page.locator(selector).filter(has_text=text).wait_for()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_exam_one_at_a_time_flag_review_finish_and_results_by_domain(live_server, settings, monkeypatch):
    settings.COURSES_DIR = FIXTURES
    assert load_courses(FIXTURES).ok
    for slug, domain in {"storage": domains.DEVELOPMENT, "network": domains.SECURITY,
                         "compute": domains.DEPLOYMENT}.items():
        monkeypatch.setitem(domains.MODULE_DOMAINS, slug, domain)
    User.objects.create_user("examinee", "e@example.org", "a perfectly long passphrase")

    with chromium(timeout_ms=20_000) as (new_page, problems):
        page = new_page(viewport={"width": 1366, "height": 900})
        sign_in(page, live_server.url, "examinee", "a perfectly long passphrase")
        page.goto(f"{live_server.url}/courses/practice/exam/")
        page.get_by_role("button", name="Start the practice exam").click()
        page.locator("section.question").first.wait_for()

        # One question at a time; answers save by themselves, so no "Save answer" button is shown.
        assert visible_questions(page) == ["Question 1"]
        assert page.get_by_text("Answers save automatically").is_visible()
        assert page.get_by_role("button", name="Save answer").count() == 0
        attempt = ExamAttempt.objects.get()
        pks = attempt.question_ids

        def answer_current(n: int):
            section = page.locator(f"#q-{pks[n - 1]}")
            section.locator("label.choice").first.click()
            wait_text(page, f"#save-{pks[n - 1]}", "Saved.")

        answer_current(1)
        # Saving swaps only the saved state: the choice keeps the keyboard focus.
        assert page.evaluate("document.activeElement.name") == "choice"
        # Next, with the keyboard: the next question shows and its heading has the focus.
        page.get_by_role("button", name="Next").focus()
        page.keyboard.press("Enter")
        page.locator(f"#q-{pks[1]}").wait_for()
        assert visible_questions(page) == ["Question 2"]
        assert page.evaluate("document.activeElement.textContent.trim()") == "Question 2"
        answer_current(2)
        page.locator(f"#q-{pks[1]}").get_by_role("button", name="Flag for review").click()
        page.locator(f"#flag-button-{pks[1]}[aria-pressed=true]").wait_for()
        assert page.evaluate("document.activeElement.id") == f"flag-button-{pks[1]}"  # focus kept
        assert page.locator(f"#q-{pks[1]} [data-flagged]").inner_text() == "Flagged"
        page.get_by_role("button", name="Next").click()
        answer_current(3)
        page.get_by_role("button", name="Previous").click()
        assert visible_questions(page) == ["Question 2"]
        assert "Answered 3 of 65" in page.locator("#exam-progress").text_content()

        # The palette: states in words (not colour alone); jump to any question.
        page.get_by_role("button", name="Questions", exact=True).click()
        palette = page.get_by_role("navigation", name="Questions", exact=True)
        assert palette.is_visible()
        assert page.locator(f"#pal-{pks[1]} .palette-glyph").inner_text() == "✓⚑"
        assert palette.get_by_role("link", name="2 answered, flagged", exact=True).count() == 1
        assert palette.get_by_role("link", name="4 not answered", exact=True).count() == 1
        palette.get_by_role("link", name="10 not answered", exact=True).click()
        assert visible_questions(page) == ["Question 10"]
        assert not palette.is_visible()  # closed after the jump

        # A reload keeps the flag and the question.
        page.reload()
        page.locator("section.question:visible").wait_for()
        assert visible_questions(page) == ["Question 10"]
        assert page.locator(f"#flag-button-{pks[1]}").get_attribute("aria-pressed") == "true"

        # The list view shows every question; the choice is remembered.
        page.get_by_role("button", name="Questions", exact=True).click()
        page.get_by_role("button", name="Show all questions").click()
        assert len(visible_questions(page)) == 65
        page.get_by_role("button", name="Questions", exact=True).click()
        page.get_by_role("button", name="Show one question at a time").click()
        assert len(visible_questions(page)) == 1

        # The timer is no live region; 10 minutes before the end a short message is announced.
        assert page.evaluate("document.querySelector('[data-timer-text]').closest('[aria-live],[role=status]')") is None
        ExamAttempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + timedelta(minutes=10, seconds=2))
        page.reload()
        wait_text(page, "#exam-announce", "10 minutes left in the exam.")

        # Review, then finish from there: the confirmation counts what is unanswered.
        page.get_by_role("link", name="Review and finish").first.click()
        page.get_by_role("heading", name="Review before you finish").wait_for()
        assert page.locator("[data-count=unanswered]").inner_text() == "62"
        assert page.locator("[data-count=flagged]").inner_text() == "1"
        assert page.locator("[data-list=flagged]").get_by_role("link").all_inner_texts() == ["Question 2"]
        dialogs = []
        page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        page.get_by_role("button", name="Finish the exam and see my score").click()
        page.get_by_role("heading", name="Practice exam results").wait_for()
        assert dialogs and "62 of 65 questions are unanswered and 1 is flagged for review" in dialogs[0]

        # Results by domain, each missed question with the lesson behind it.
        table = page.locator("table.score-by-domain")
        assert table.locator("caption").inner_text() == "Score by exam domain"
        assert {"Development with AWS Services", "Security", "Deployment"} <= {
            name.split(". ", 1)[1] for name in table.locator("tbody th").all_inner_texts()}
        missed = page.locator("[data-missed] a[data-link=lesson]")
        assert missed.count() >= 60
        href = missed.first.get_attribute("href")
        assert href.startswith("/courses/practice/") and "#" in href
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366

    assert not problems, problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_exam_on_a_phone_has_a_small_sticky_header_and_no_sideways_scroll(live_server, settings):
    settings.COURSES_DIR = FIXTURES
    assert load_courses(FIXTURES).ok
    User.objects.create_user("examinee", "e@example.org", "a perfectly long passphrase")

    with chromium(timeout_ms=20_000) as (new_page, problems):
        page = new_page(**MOBILE)
        sign_in(page, live_server.url, "examinee", "a perfectly long passphrase")
        page.goto(f"{live_server.url}/courses/practice/exam/")
        page.get_by_role("button", name="Start the practice exam").click()
        page.locator("section.question").first.wait_for()
        page.locator("section.question:visible label.choice").first.click()
        page.locator("section.question:visible .save-state").filter(has_text="Saved.").wait_for()

        def assert_fits():
            assert page.evaluate("document.documentElement.scrollWidth") <= 390

        assert_fits()
        # Scrolled down, the bar sticks to the top and takes at most 12% of the screen.
        page.get_by_role("button", name="Questions", exact=True).click()
        page.get_by_role("button", name="Show all questions").click()
        page.mouse.wheel(0, 3000)
        page.wait_for_timeout(200)
        box = page.locator(".exam-sticky").bounding_box()
        assert box["y"] <= 1, box  # stuck at the top
        assert box["height"] <= 0.12 * 844, box
        assert page.locator(".exam-sticky [data-timer-text]").is_visible()
        assert page.locator(".exam-sticky #exam-progress").is_visible()
        assert_fits()
        page.get_by_role("link", name="Review").first.click()
        page.get_by_role("heading", name="Review before you finish").wait_for()
        assert_fits()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Finish the exam and see my score").click()
        page.get_by_role("heading", name="Practice exam results").wait_for()
        assert_fits()

    assert not problems, problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_exam_is_a_list_with_save_buttons(live_server, settings):
    settings.COURSES_DIR = FIXTURES
    assert load_courses(FIXTURES).ok
    User.objects.create_user("examinee", "e@example.org", "a perfectly long passphrase")

    with chromium(timeout_ms=20_000) as (new_page, problems):
        page = new_page(java_script_enabled=False)
        sign_in(page, live_server.url, "examinee", "a perfectly long passphrase")
        page.goto(f"{live_server.url}/courses/practice/exam/")
        page.get_by_role("button", name="Start the practice exam").click()
        page.locator("section.question").first.wait_for()
        assert len(visible_questions(page)) == 65
        assert page.get_by_role("button", name="Save answer").count() == 65
        assert not page.get_by_text("Answers save automatically").is_visible()
        assert page.get_by_role("navigation", name="Questions").get_by_role("link").count() == 65

        pks = ExamAttempt.objects.get().question_ids
        third = page.locator(f"#q-{pks[2]}")
        third.locator("label.choice").first.click()
        third.get_by_role("button", name="Save answer").click()
        page.wait_for_url(f"**#q-{pks[2]}")
        assert "Answered." in page.locator(f"#save-{pks[2]}").inner_text()
        page.locator(f"#q-{pks[2]}").get_by_role("button", name="Flag for review").click()
        page.wait_for_url(f"**#q-{pks[2]}")
        assert page.locator(f"#flag-button-{pks[2]}").get_attribute("aria-pressed") == "true"

        page.get_by_role("link", name="Review and finish").last.click()
        assert page.locator("[data-count=unanswered]").inner_text() == "64"
        assert page.locator("[data-list=flagged]").get_by_role("link").all_inner_texts() == ["Question 3"]
        page.get_by_role("button", name="Finish the exam and see my score").click()
        page.get_by_role("heading", name="Practice exam results").wait_for()
        assert page.locator("table.score-by-domain tbody tr").count() >= 1

    assert not problems, problems
