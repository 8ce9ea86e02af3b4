"""The workbench in headless Chromium, on the real stack: a learner with no terminal of their own types AWS
CLI commands into the console and runs a boto3 script, each executed by the Celery worker in a bubblewrap
sandbox against the learner's own emulated account; keyboard only, as the issue asks."""

import secrets

import pytest

from tests.browser import chromium, sign_up

SCRIPT = """import boto3

s3 = boto3.client("s3")
names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
print("buckets:", ", ".join(names))
url = s3.generate_presigned_url("get_object", Params={"Bucket": names[0], "Key": "x"}, ExpiresIn=60)
print("presigned:", url.split("?")[0])
"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_learner_uses_the_console_and_the_script_runner_with_the_keyboard(lab_stack, live_server):
    username = "console" + secrets.token_hex(3)
    password = "a perfectly long passphrase " + secrets.token_hex(4)

    with chromium() as (new_page, problems):
        page = new_page()
        sign_up(page, live_server.url, username, password)

        page.goto(f"{live_server.url}/labs/s3-versioning/")
        page.get_by_role("button", name="Start lab", exact=True).click()
        # The workbench swaps itself in when the sandbox is ready, without a reload.
        console = page.get_by_label("AWS CLI command")
        console.wait_for(timeout=60_000)
        bucket = page.locator('[data-param="bucket"]').text_content().strip()

        # Console: type, press Enter, see the real AWS CLI's output in the log.
        console.fill("aws s3 ls")
        console.press("Enter")
        entry = page.locator('#console-log .run[data-command="aws s3 ls"][data-run-status="done"]')
        entry.wait_for(timeout=30_000)
        assert bucket in entry.locator(".run-stdout").text_content()
        assert "exit status 0" in entry.locator(".run-meta").text_content()
        assert console.input_value() == ""  # an accepted command empties the prompt

        # --query and --output work; output that looks like HTML stays text.
        console.fill(f"aws s3api put-object --bucket {bucket} --key '<b>bold</b>.html' --query ETag --output text")
        console.press("Enter")
        page.locator('#console-log .run[data-run-status="done"]').nth(1).wait_for()
        console.fill(f"aws s3api list-objects-v2 --bucket {bucket} --query Contents[].Key --output text")
        console.press("Enter")
        listing = page.locator('#console-log .run[data-run-status="done"]').nth(2)
        listing.wait_for()
        assert "<b>bold</b>.html" in listing.locator(".run-stdout").text_content().split()
        assert page.locator("#console-log b").count() == 0

        # Anything but `aws` gets a one-line refusal.
        console.fill("ls -la /")
        console.press("Enter")
        refused = page.locator('#console-log .run[data-command="ls -la /"]')
        refused.wait_for()
        assert "Only aws commands run here" in refused.text_content()

        # ArrowUp walks back through the history, ArrowDown forward again.
        console.press("ArrowUp")
        assert console.input_value() == "ls -la /"
        console.press("ArrowUp")
        assert console.input_value().startswith("aws s3api list-objects-v2")
        console.press("ArrowDown")
        assert console.input_value() == "ls -la /"

        # Script runner: switch tabs with the keyboard, type with Tab indents, Ctrl+Enter runs.
        page.get_by_role("tab", name="AWS CLI console").focus()
        page.keyboard.press("ArrowRight")
        assert page.get_by_role("tab", name="Python script").get_attribute("aria-selected") == "true"
        editor = page.get_by_label("Script", exact=True)
        assert editor.is_visible() and not console.is_visible()
        editor.fill("")
        editor.press_sequentially("for n in range(2):\nprint('line', n)")
        # Enter after a colon indented the next line by four spaces.
        assert editor.input_value() == "for n in range(2):\n    print('line', n)"
        editor.press("Tab")
        assert page.evaluate("document.activeElement.id") == "script-source"  # Tab indented, focus stayed
        editor.fill(SCRIPT)
        editor.press("Control+Enter")
        result = page.locator('#script-output .run[data-run-status="done"]')
        result.wait_for(timeout=30_000)
        output = result.locator(".run-stdout").text_content()
        assert f"buckets: {bucket}" in output and "presigned: http" in output and f"/{bucket}/x" in output
        assert "exit status 0" in result.locator(".run-meta").text_content()

        # An exception shows its trace.
        editor.fill("import boto3\nboto3.client('s3').head_bucket(Bucket='no-such-bucket-here')\n")
        editor.press("Control+Enter")
        page.locator('#script-output .run[data-run-status="done"] .run-stderr').wait_for(timeout=30_000)
        trace = page.locator("#script-output .run-stderr").text_content()
        assert "Traceback (most recent call last)" in trace and "404" in trace

        # The script is kept for this session: a reload shows it again.
        page.reload()
        page.get_by_role("tab", name="Python script").click()
        assert "no-such-bucket-here" in page.get_by_label("Script", exact=True).input_value()

    assert not problems, problems
