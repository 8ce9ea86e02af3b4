"""Headless Chromium: start the practice exam, answer a question, reload; the timer still counts down to
the same (server-stored) deadline and the answer is still there. Needs only live_server and the fixture
questions (no lab stack), and Debian's chromium at /usr/bin/chromium."""

import re
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from labapp.courses.loader import load_courses
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
        page.wait_for_selector("text=Question 65")
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
        page.wait_for_selector("text=Question 65")
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
