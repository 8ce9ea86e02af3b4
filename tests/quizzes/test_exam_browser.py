"""Headless Chromium: start the practice exam, answer a question, reload; the timer still counts down to
the same (server-stored) deadline and the answer is still there. Needs only live_server and the fixture
questions (no lab stack), and Debian's chromium at /usr/bin/chromium."""

import os
import re
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from labapp.courses.loader import load_courses
from labapp.quizzes.models import ExamAttempt

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]


def seconds_left(text: str) -> int:
    hours, minutes, seconds = map(int, re.fullmatch(r"(\d+):(\d\d):(\d\d)", text.strip()).groups())
    return hours * 3600 + minutes * 60 + seconds


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_exam_timer_survives_a_reload(live_server, settings):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    settings.COURSES_DIR = FIXTURES
    assert load_courses(FIXTURES).ok
    User.objects.create_user("examinee", "e@example.org", "a perfectly long passphrase")
    problems: list[str] = []

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
            page.on("pageerror", lambda exc: problems.append(str(exc)))

            page.goto(f"{live_server.url}/login/")
            page.get_by_label("Username").fill("examinee")
            page.get_by_label("Password").fill("a perfectly long passphrase")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_selector("text=Signed in as examinee")

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
            assert list(attempt.answers.values()) == [[1]]
        finally:
            browser.close()

    assert not problems, problems
