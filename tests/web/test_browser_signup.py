"""The first hour in headless Chromium: a new learner opens an invite link signed out, creates an account
from the sign-in page and lands in the class's join confirmation, joins, and marks a lesson read; an
instructor signs in and lands on the dashboard."""

import secrets
import uuid

import pytest

from tests.browser import chromium, sign_in


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of two computed CSS colours ("rgb(r, g, b)")."""
    def luminance(css):
        r, g, b = (int(v) / 255 for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_invite_link_sign_up_lands_in_the_class_and_the_instructor_on_the_dashboard(live_server, lessons):
    from django.contrib.auth import get_user_model

    from labapp.classroom import services
    from labapp.courses.models import Lesson, LessonProgress

    long_read = Lesson.objects.create(
        uuid=uuid.uuid4(), module=lessons[0].module, slug="long-read", title="A long read", order=3,
        body_markdown="x", body_html="".join(f"<p>Paragraph {i} of a long lesson.</p>" for i in range(150)),
    )

    teacher_password = "teach " + secrets.token_hex(6)
    irene = get_user_model().objects.create_user("irene", password=teacher_password, is_staff=True)
    classroom = services.create_classroom(irene, "Invite cohort")
    base = live_server.url
    learner = "newbie" + secrets.token_hex(3)
    password = "a perfectly long passphrase " + secrets.token_hex(4)

    with chromium() as (new_page, problems):
        page = new_page()
        page.goto(f"{base}/join/{classroom.join_code}/")
        assert page.url.endswith(f"/login/?next=/join/{classroom.join_code}/")
        # The header's Sign up button is readable (it was white on white).
        button = page.locator(".site-nav a.button")
        colours = button.evaluate("el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]")
        assert contrast(*colours) >= 4.5, colours

        page.get_by_role("link", name="Create an account").click()
        page.get_by_label("Username").fill(learner)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_label("Password confirmation").fill(password)
        page.get_by_role("button", name="Sign up").click()
        page.get_by_role("heading", name="Join “Invite cohort”").wait_for()
        assert page.url.endswith(f"/join/{classroom.join_code}/")
        assert page.get_by_text(f"Welcome, {learner}!").is_visible()
        page.get_by_role("button", name="Join the class").click()
        page.get_by_text("You joined “Invite cohort”").wait_for()

        # The welcome's "start here" lesson: opening it does not mark it read; the button does.
        page.goto(f"{base}/courses/aws-dev/s3/lessons/buckets/")
        page.get_by_role("button", name="Mark as read").click()
        page.get_by_text("You have read this lesson").wait_for()
        # A long lesson is marked read once the reader scrolls to its end, not on opening.
        page.goto(f"{base}/courses/aws-dev/s3/lessons/long-read/")
        page.wait_for_timeout(500)
        assert not LessonProgress.objects.filter(user__username=learner, lesson=long_read).exists()
        page.mouse.wheel(0, 100_000)
        page.get_by_text("You have read this lesson").wait_for()
        assert LessonProgress.objects.filter(user__username=learner, lesson=long_read).exists()

        teacher = new_page()
        sign_in(teacher, base, "irene", teacher_password)
        teacher.get_by_role("heading", name="Your teaching").wait_for()
        assert teacher.get_by_role("link", name="Invite cohort").is_visible()
        assert "1 learner" in teacher.locator("[data-dash-classes]").inner_text()
    assert not problems, problems
