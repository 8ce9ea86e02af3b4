"""One end-to-end run in headless Chromium: sign up, start the s3-versioning lab, use the credentials
shown on the page with boto3, press "Check my progress" and watch the task go green, live.

Needs the real stack (emulator, gateway, Celery worker, courses loaded), which the `lab_stack` fixture
from tests/conftest.py provides, and Debian's chromium at /usr/bin/chromium.
"""

import os
import secrets
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture
def stack(request):
    try:
        return request.getfixturevalue("lab_stack")
    except pytest.FixtureLookupError:
        pytest.skip("the lab_stack fixture (tests/conftest.py) is not available")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_learner_enables_versioning_and_sees_the_task_pass(stack, live_server):
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    import boto3
    from botocore.config import Config

    # Playwright's sync API runs an event loop in this thread; Django's ORM (live_server's fixtures)
    # would otherwise refuse to run here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    username = "learner" + secrets.token_hex(3)
    password = "a perfectly long passphrase " + secrets.token_hex(4)
    problems: list[str] = []

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
            page.on("pageerror", lambda exc: problems.append(str(exc)))

            # Sign up through the form.
            page.goto(f"{live_server.url}/signup/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password", exact=True).fill(password)
            page.get_by_label("Password confirmation").fill(password)
            page.get_by_role("button", name="Sign up").click()
            page.wait_for_selector(f"text=Signed in as {username}")

            # Open the lab and start it.
            page.goto(f"{live_server.url}/labs/s3-versioning/")
            page.get_by_role("button", name="Start lab", exact=True).click()
            page.wait_for_selector(
                '[data-credential="access-key-id"], [data-session-status="failed"]', timeout=60_000
            )
            panel = page.locator("#session-panel")
            assert panel.get_attribute("data-session-status") == "ready", panel.text_content()

            # Everything the learner needs is read from the page.
            key = page.locator('[data-credential="access-key-id"]').text_content().strip()
            secret = page.locator('[data-credential="secret-access-key"]').text_content().strip()
            region = page.locator('[data-credential="region"]').text_content().strip()
            endpoint = page.locator('[data-credential="endpoint-url"]').text_content().strip()
            bucket = page.locator('[data-param="bucket"]').text_content().strip()
            assert key and secret and endpoint.startswith("http") and bucket

            s3 = boto3.client(
                "s3",
                aws_access_key_id=key,
                aws_secret_access_key=secret,
                region_name=region,
                endpoint_url=endpoint,
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
            )
            # The first call right after "Ready": the gateway must already accept the new keys.
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
            called = time.monotonic()

            # The learner's own call shows in the journal, and the resource panel re-lists, without a
            # reload and within about two seconds (1 s polls plus the gateway's journal batching).
            page.wait_for_selector('#journal-panel [data-action="PutBucketVersioning"]', timeout=15_000)
            journal_delay = time.monotonic() - called
            page.wait_for_selector('#resources-panel td:text-is("Enabled")', timeout=15_000)
            resources_delay = time.monotonic() - called
            assert journal_delay < 3.0, f"journal showed the call after {journal_delay:.1f}s"
            assert resources_delay < 3.0, f"resources showed the change after {resources_delay:.1f}s"

            page.get_by_role("button", name="Check my progress", exact=True).click()
            page.wait_for_selector('[data-task="versioning"][data-passed="true"]', timeout=60_000)
            assert page.locator('[data-task="two-versions"]').get_attribute("data-passed") == "false"
            assert "Passed" in page.locator('[data-task="versioning"] .task-state').text_content()
        finally:
            browser.close()

    csp = [message for message in problems if "Content Security Policy" in message]
    assert not csp, csp
