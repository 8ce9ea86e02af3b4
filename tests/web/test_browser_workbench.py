"""The workbench in headless Chromium, on the real stack: a learner with no terminal of their own types AWS
CLI commands into the console and runs a boto3 script, each executed by the Celery worker in a bubblewrap
sandbox against the learner's own emulated account; keyboard only, as the issue asks."""

import secrets

import pytest

from tests.browser import chromium, sign_in, sign_up, start_lab_console

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

        console = start_lab_console(page, live_server.url, "s3-versioning")
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
        page.locator('#script-output .run[data-run-status="done"] .run-stderr').first.wait_for(timeout=30_000)
        trace = page.locator("#script-output .run-stderr").first.text_content()
        assert "Traceback (most recent call last)" in trace and "404" in trace

        # The script is kept for this session: a reload shows it again.
        page.reload()
        page.get_by_role("tab", name="Python script").click()
        assert "no-such-bucket-here" in page.get_by_label("Script", exact=True).input_value()

    assert not problems, problems


ENDLESS = "n = 0\nwhile True:\n    n += 1\n"
LONG_OUTPUT = "for i in range(200000):\n    print('line', i, 'x' * 60)\n"
FAILING = "import boto3\n\ns3 = boto3.client('s3')\ns3.get_object(Bucket='no-such-bucket-here', Key='k')\n"


def wait_until(page, expression: str, timeout: float = 10.0):
    """Poll a JavaScript expression (the CSP forbids wait_for_function's string evaluation)."""
    import time

    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(expression)):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)
    return value


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_output_stays_in_bounded_boxes_runs_can_be_stopped_and_errors_lead_with_the_fix(lab_stack, live_server):
    from labapp.labs import services
    from labapp.labs.models import LabSession

    username = "stopper" + secrets.token_hex(3)
    password = "a perfectly long passphrase " + secrets.token_hex(4)

    with chromium() as (new_page, problems):
        page = new_page(viewport={"width": 1366, "height": 900})
        sign_up(page, live_server.url, username, password)
        console = start_lab_console(page, live_server.url, "s3-versioning")

        # Before the first command the black box says what to type.
        hint = page.locator("#console-log .console-empty")
        assert hint.is_visible() and "Type an AWS CLI command" in hint.text_content()

        # A typo: the error and the corrected command come first, the 8 KB list is folded away.
        console.fill("aws s3api list-buckt")
        console.press("Enter")
        typo = page.locator('#console-log .run[data-command="aws s3api list-buckt"][data-run-status="done"]')
        typo.wait_for(timeout=30_000)
        assert not hint.is_visible()
        assert "Invalid choice: 'list-buckt'" in typo.locator(".run-usage-error").text_content()
        assert "aws s3api list-buckets" in typo.locator(".run-suggestion").text_content()
        assert not typo.locator("details pre").is_visible()
        assert typo.locator("details summary").is_visible()
        typo.get_by_role("button", name="Put in the prompt: aws s3api list-buckets").click()
        assert console.input_value() == "aws s3api list-buckets"
        assert page.evaluate("document.activeElement.id") == "console-input"

        # A table is laid out unwrapped (the box scrolls sideways); ordinary output wraps.
        console.fill("aws s3api list-buckets --output table")
        console.press("Enter")
        table = page.locator('#console-log .run[data-run-status="done"] .run-stdout').last
        table.wait_for(timeout=30_000)
        assert table.evaluate("e => getComputedStyle(e).whiteSpace") == "pre"
        console.fill("aws s3api list-buckets")
        console.press("Enter")
        page.locator('#console-log .run[data-command="aws s3api list-buckets"][data-run-status="done"]').wait_for()
        plain = page.locator('#console-log .run[data-command="aws s3api list-buckets"] .run-stdout')
        assert plain.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"

        # 256 KiB of script output stays inside its box: the page does not grow.
        page.get_by_role("tab", name="Python script").click()
        assert "Nothing run yet" in page.locator("#script-output").text_content()
        editor = page.get_by_label("Script", exact=True)
        editor.fill(LONG_OUTPUT)
        editor.press("Control+Enter")
        page.locator('#script-output .run[data-run-status="done"]').wait_for(timeout=30_000)
        assert page.evaluate("document.body.scrollHeight") < 4000
        box = page.locator("#script-output")
        assert box.evaluate("e => e.scrollHeight > e.clientHeight + 1000")  # it scrolls instead
        assert box.get_attribute("tabindex") == "0"
        top, bottom = box.evaluate("e => [e.getBoundingClientRect().top, e.getBoundingClientRect().bottom]")
        assert bottom > 0 and top < 900  # the output was brought into view

        # An endless loop: a ticking timer and a Stop button that stops it within about two seconds.
        editor.fill(ENDLESS)
        editor.press("Control+Enter")
        running = page.locator("#script-output .run-pending")
        running.wait_for()
        wait_until(page, "/[2-9] s/.test((document.querySelector('#script-output .run-elapsed') || {}).textContent || '')")
        assert "Running…" in running.text_content()
        page.get_by_role("button", name="Stop this script").click()
        pressed = page.evaluate("Date.now()")
        stopped = page.locator('#script-output .run[data-run-status="done"] [data-limit="stopped"]')
        stopped.wait_for(timeout=5_000)
        assert page.evaluate("Date.now()") - pressed < 2500
        assert "Stopped by you" in stopped.text_content()

        # A failing boto3 call: the learner's line and the error, botocore's frames folded away.
        editor.fill(FAILING)
        editor.press("Control+Enter")
        trimmed = page.locator('#script-output .run[data-run-status="done"] .run-trimmed')
        trimmed.wait_for(timeout=30_000)
        text = trimmed.text_content()
        assert "s3.get_object(Bucket='no-such-bucket-here', Key='k')" in text and "NoSuchBucket" in text
        assert "client.py" not in text and "frames inside botocore" in text
        assert page.get_by_text("Full traceback").is_visible()

        # axe on the workbench full of output (history, folded usage error, table, trimmed traceback): no
        # serious or critical violation inside it, and none of the two the review found (scrollable regions
        # out of keyboard reach, role=log on a list). axe is injected, so this page does without the CSP.
        from tests.web.test_accessibility import run_axe

        audit = new_page(viewport={"width": 1366, "height": 900}, bypass_csp=True)
        sign_in(audit, live_server.url, username, password)
        audit.goto(f"{live_server.url}/labs/s3-versioning/")
        audit.locator("#console-log .run-usage").first.wait_for()
        in_workbench = [
            (v["id"], v["impact"], node["target"]) for v in run_axe(audit) for node in v["nodes"]
            if audit.locator(node["target"]).first.evaluate("e => !!e.closest('#workbench')")
        ]
        assert not [f for f in in_workbench if f[1] in ("serious", "critical")], in_workbench
        assert not [f for f in in_workbench if f[0] in ("scrollable-region-focusable", "aria-allowed-role")], in_workbench
        audit.close()

        # The session ends elsewhere: the console and the script runner stop taking input, and say why.
        session = LabSession.objects.get(user__username=username, status=LabSession.Status.READY)
        services.end_session(session)
        run_button = page.locator("[data-script-form] [data-run-button]")
        wait_until(page, "document.querySelector('[data-script-form] [data-run-button]').disabled", timeout=15)
        assert run_button.is_disabled() and console.is_disabled()
        assert page.locator("[data-session-ended-note]").is_visible()
        assert "This lab session has ended" in page.locator("[data-session-ended-note]").text_content()

    assert not problems, problems
