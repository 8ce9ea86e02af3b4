"""The lab page as a workspace, in headless Chromium.

The first tests need no sandbox: a ready session row is enough to lay out the page (the resource panel
reports that it cannot list, which is fine here). The last one starts a lab on the real stack
(`lab_stack`), as a learner would, and checks the same promises with a live console.
"""

import os
import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from labapp.labs.models import LabSession
from tests.browser import chromium, sign_in, sign_up, start_lab_console

from .conftest import add_attempt, make_session

PASSWORD = "correct horse battery"
SHOTS = os.environ.get("LAB_TEST_SCREENSHOTS", "")  # a folder: screenshots for a human to look at


def in_viewport(page, selector: str) -> bool:
    """Whether the element's box lies wholly inside the viewport, without scrolling the page."""
    return page.evaluate(
        """(selector) => {
            const el = document.querySelector(selector);
            if (!el) return false;
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
                && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
        }""",
        selector,
    )


def page_scroll(page) -> dict:
    return page.evaluate(
        "() => ({x: window.scrollX, y: window.scrollY, width: document.documentElement.scrollWidth})"
    )


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"))


def assert_workspace_fits(page) -> None:
    """At 1366x900: console input, Check, the score and the instructions all on screen at once."""
    for selector in ["#console-input", "#check-button", "#tasks-panel [data-score]", "#instructions-heading",
                     '[data-ws-status]']:
        assert in_viewport(page, selector), f"{selector} is not in the viewport"
    assert page_scroll(page)["y"] == 0


def assert_phone_tabs(page) -> None:
    """At 390x844: nothing wider than the screen, and the four tabs switch panes."""
    assert page_scroll(page)["width"] <= 390, page_scroll(page)
    tabs = page.get_by_role("tablist", name="Lab workspace")
    assert tabs.is_visible()
    for name, pane, visible in [("Console", "#pane-workbench", "#console-input"),
                                ("Tasks", "#pane-tasks", "#check-button"),
                                ("Sandbox", "#pane-sandbox", "#session-panel"),
                                ("Instructions", "#pane-instructions", "#instructions-heading")]:
        tabs.get_by_role("tab", name=name).click()
        assert page.locator(pane).is_visible(), pane
        assert page.locator(visible).is_visible(), visible
        assert tabs.get_by_role("tab", name=name).get_attribute("aria-selected") == "true"
        others = [p for p in ["#pane-instructions", "#pane-workbench", "#pane-tasks", "#pane-sandbox"] if p != pane]
        assert not any(page.locator(p).is_visible() for p in others), name
        assert page_scroll(page)["width"] <= 390, (name, page_scroll(page))
    # The keyboard alone: arrow keys move between tabs (the ARIA tabs pattern).
    tabs.get_by_role("tab", name="Instructions").focus()
    page.keyboard.press("ArrowRight")
    assert tabs.get_by_role("tab", name="Console").get_attribute("aria-selected") == "true"
    assert page.locator("#pane-workbench").is_visible()
    page.keyboard.press("End")
    assert tabs.get_by_role("tab", name="Sandbox").get_attribute("aria-selected") == "true"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_workspace_layout_on_a_laptop_and_a_phone(live_server, alice, session, lab):
    add_attempt(session)
    with chromium() as (new_page, problems):
        page = new_page(viewport={"width": 1366, "height": 900})
        sign_in(page, live_server.url, "alice", PASSWORD)
        page.goto(f"{live_server.url}/labs/{lab.slug}/")
        page.wait_for_selector("#check-button")
        shot(page, "desktop")
        assert_workspace_fits(page)

        # The timer ticks, but not inside a live region; the sandbox panel is not a live region either.
        live_timer = page.evaluate(
            """() => [...document.querySelectorAll('[data-timer-text]')]
                     .some(el => el.closest('[aria-live], [role=status], [role=log], [role=alert]'))"""
        )
        assert not live_timer
        assert page.locator("#session-panel").get_attribute("aria-live") is None

        # The splitter resizes the instructions with the keyboard and remembers the size.
        splitter = page.get_by_role("separator", name="Resize the instructions")
        before = page.locator("#pane-instructions").bounding_box()["width"]
        splitter.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        after = page.locator("#pane-instructions").bounding_box()["width"]
        assert after > before + 50, (before, after)
        value = splitter.get_attribute("aria-valuenow")
        page.reload()
        page.wait_for_selector("#check-button")
        assert page.get_by_role("separator", name="Resize the instructions").get_attribute("aria-valuenow") == value
        assert_workspace_fits(page)

        # Alt+Shift+C takes the keyboard to "Check my progress".
        page.locator("body").press("Alt+Shift+C")
        assert page.evaluate("document.activeElement.id") == "check-button"

        phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        sign_in(phone, live_server.url, "alice", PASSWORD)
        phone.goto(f"{live_server.url}/labs/{lab.slug}/")
        phone.wait_for_selector('[data-ws-tabs]:not([hidden])')
        shot(phone, "phone")
        assert_phone_tabs(phone)
        # The shortcut reveals the Tasks tab before focusing Check.
        phone.get_by_role("tab", name="Instructions").click()
        phone.locator("body").press("Alt+Shift+C")
        assert phone.evaluate("document.activeElement.id") == "check-button"
        assert phone.get_by_role("tab", name="Tasks").get_attribute("aria-selected") == "true"
    assert not problems, problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_axe_finds_nothing_serious_in_the_workspace(live_server, alice, session, lab):
    """axe-core (vendored) on the live workspace, laid out for a laptop and as tabs for a phone."""
    from tests.web.test_accessibility import FAILING, run_axe

    add_attempt(session)
    with chromium() as (new_page, _problems):
        for viewport in [{"width": 1366, "height": 900}, {"width": 390, "height": 844}]:
            page = new_page(viewport=viewport, bypass_csp=True)  # to inject axe; the site's CSP stays tested above
            sign_in(page, live_server.url, "alice", PASSWORD)
            page.goto(f"{live_server.url}/labs/{lab.slug}/")
            page.wait_for_selector("#check-button", state="attached")
            serious = [v for v in run_axe(page) if v["impact"] in FAILING]
            assert not serious, (viewport, serious)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_copy_buttons_are_named_and_copied_is_announced(live_server, alice, session, lab):
    with chromium() as (new_page, problems):
        page = new_page(viewport={"width": 1366, "height": 900}, permissions=["clipboard-read", "clipboard-write"])
        sign_in(page, live_server.url, "alice", PASSWORD)
        page.goto(f"{live_server.url}/labs/{lab.slug}/")
        page.get_by_role("button", name="Copy access key ID").click()
        page.wait_for_function("() => document.querySelector('#copy-status').textContent === 'Copied access key ID'")
        assert page.evaluate("navigator.clipboard.readText()") == session.access_key_id

        # The environment snippet shows the secret masked, and Copy copies the real one.
        page.get_by_text("Environment variables", exact=True).click()
        shown = page.locator('[data-snippet-shown="env"]').inner_text()
        assert session.secret_access_key not in shown and "****" in shown
        page.get_by_role("button", name="Copy environment variables").click()
        page.wait_for_function("() => document.querySelector('#copy-status').textContent.includes('environment')")
        assert f"AWS_SECRET_ACCESS_KEY={session.secret_access_key}" in page.evaluate("navigator.clipboard.readText()")
    assert not problems, problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_full_marks_show_lab_complete_without_moving_focus(live_server, alice, session, lab):
    from labapp.labs.models import Attempt

    from .test_lab_workspace import FULL

    attempt = add_attempt(session, status=Attempt.Status.RUNNING)
    with chromium() as (new_page, problems):
        page = new_page(viewport={"width": 1366, "height": 900})
        sign_in(page, live_server.url, "alice", PASSWORD)
        page.goto(f"{live_server.url}/labs/{lab.slug}/")
        page.wait_for_selector('[data-attempt-status="running"]')
        page.get_by_label("AWS CLI command").focus()
        Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.GRADED, score=5, max_score=5,
                                                     results=FULL, graded_at=timezone.now())
        banner = page.locator("[data-lab-complete]")
        banner.wait_for(timeout=10_000)
        assert banner.get_attribute("role") == "status"
        assert "Lab complete: 5 / 5" in banner.inner_text()
        page.wait_for_function(
            "() => document.querySelector('#lab-announcer').textContent === 'Checked: 5 of 5 points. Lab complete.'"
        )
        assert page.locator("[data-check-status]").inner_text() == "Checked: 5 of 5 points"
        assert page.evaluate("document.activeElement.id") == "console-input"  # the learner's typing is not interrupted
    assert not problems, problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_submitting_with_failing_tasks_asks_first(live_server, alice, session, lab):
    from labapp.classroom.models import Assignment, Classroom, Membership, Submission

    from .conftest import make_user

    teacher = make_user("teacher")
    room = Classroom.objects.create(name="Cohort 1", created_by=teacher)
    Membership.objects.create(classroom=room, user=alice, role=Membership.Role.LEARNER)
    Assignment.objects.create(classroom=room, kind=Assignment.Kind.LAB, lab=lab,
                              opens_at=timezone.now() - timedelta(days=1), due_at=timezone.now() + timedelta(days=6))
    add_attempt(session)
    with chromium() as (new_page, problems):
        page = new_page(viewport={"width": 1366, "height": 900})
        sign_in(page, live_server.url, "alice", PASSWORD)
        page.goto(f"{live_server.url}/labs/{lab.slug}/")
        asked = []

        def dismiss(dialog):
            asked.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.get_by_role("button", name="Submit for grading").click()
        page.wait_for_timeout(300)
        assert asked and asked[0].startswith("1 of 2 tasks are not passing in your last check.")
        assert asked[0].endswith("Submit anyway?")
        assert not Submission.objects.exists()
        assert LabSession.objects.get(pk=session.pk).status == LabSession.Status.READY
    assert not problems, problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_session_ending_elsewhere_shows_a_banner_and_tells_the_console(live_server, alice, session, lab):
    add_attempt(session)
    with chromium() as (new_page, problems):
        page = new_page(viewport={"width": 1366, "height": 900})
        sign_in(page, live_server.url, "alice", PASSWORD)
        page.goto(f"{live_server.url}/labs/{lab.slug}/")
        page.wait_for_selector("#check-button")
        page.evaluate(
            """() => { window.__ended = 0;
                       document.addEventListener('lab:session-ended', () => { window.__ended += 1; }); }"""
        )
        LabSession.objects.filter(pk=session.pk).update(status=LabSession.Status.EXPIRED)
        page.wait_for_selector('#session-panel[data-session-status="expired"]', timeout=10_000)
        banner = page.locator("[data-session-ended]")
        assert "time ran out" in banner.text_content() and "2/5" in banner.text_content()
        assert page.evaluate("window.__ended") == 1
        assert page.locator("#check-button").is_disabled()
        assert "Start lab" not in page.locator("#session-panel").text_content()
        # Said once, politely, by the page's own status region.
        page.wait_for_function("() => document.querySelector('#lab-announcer').textContent.includes('ended')")
    assert not problems, problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_expiry_warning_is_announced_and_extend_gives_more_time(live_server, alice, lab):
    session = make_session(alice, lab)
    LabSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() + timedelta(minutes=4))
    with chromium() as (new_page, problems):
        page = new_page(viewport={"width": 1366, "height": 900})
        sign_in(page, live_server.url, "alice", PASSWORD)
        page.goto(f"{live_server.url}/labs/{lab.slug}/")
        warning = page.locator("[data-expiry-warning]")
        warning.wait_for()
        assert "minutes" in warning.text_content()
        page.wait_for_function(
            "() => document.querySelector('#lab-announcer').textContent.includes('ends in 4 minutes')"
        )
        old = LabSession.objects.get(pk=session.pk).expires_at
        warning.get_by_role("button", name="Extend").click()
        page.wait_for_selector("[data-extended]")
        assert LabSession.objects.get(pk=session.pk).expires_at > old + timedelta(minutes=20)
        page.wait_for_function("() => document.querySelector('[data-expiry-warning]').hidden")
        page.wait_for_function("() => document.querySelector('#lab-announcer').textContent.includes('Extended')")
    assert not problems, problems


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_learner_starts_a_lab_and_sees_console_check_and_score_together(lab_stack, live_server):
    """On the real stack: start s3-versioning, run a command in the console, check, and see it all at once."""
    username = "workspace" + secrets.token_hex(3)
    password = "a perfectly long passphrase " + secrets.token_hex(4)
    with chromium() as (new_page, problems):
        page = new_page(viewport={"width": 1366, "height": 900})
        sign_up(page, live_server.url, username, password)
        console = start_lab_console(page, live_server.url, "s3-versioning")
        bucket = page.locator('[data-param="bucket"]').text_content().strip()
        console.fill(f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled")
        console.press("Enter")
        page.locator('#console-log .run[data-run-status="done"]').first.wait_for(timeout=30_000)

        page.get_by_role("button", name="Check my progress", exact=True).click()
        page.wait_for_selector("#tasks-panel [data-score]", timeout=60_000)
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "stack-desktop")
        assert_workspace_fits(page)
        assert page.locator("[data-check-status]").text_content().startswith("Checked: ")
        assert page.locator('[data-task="versioning"]').get_attribute("data-passed") == "true"

        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_selector('[data-ws-tabs]:not([hidden])')
        shot(page, "stack-phone")
        assert_phone_tabs(page)
    assert not problems, problems
