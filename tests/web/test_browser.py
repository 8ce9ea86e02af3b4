"""One end-to-end run in headless Chromium: sign up, start the s3-versioning lab, use the credentials
shown on the page with boto3, press "Check my progress" and watch the task go green, live.

Needs the real stack (emulator, gateway, Celery worker, courses loaded), which the `lab_stack` fixture
from tests/conftest.py provides, and Debian's chromium at /usr/bin/chromium.
"""

import secrets
import time

import pytest

from tests.browser import chromium, sign_up


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_learner_enables_versioning_and_sees_the_task_pass(lab_stack, live_server):
    import boto3
    from botocore.config import Config

    username = "learner" + secrets.token_hex(3)
    password = "a perfectly long passphrase " + secrets.token_hex(4)

    with chromium() as (new_page, problems):
        page = new_page()
        sign_up(page, live_server.url, username, password)

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

    csp = [message for message in problems if "Content Security Policy" in message]
    assert not csp, csp
