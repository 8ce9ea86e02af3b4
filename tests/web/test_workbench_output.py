"""How the workbench shows output, as the learner reads it: hints before the first command, the "Did you
mean" of a long usage error first with the list folded away, a boto3 traceback without botocore's frames
(the full one a click away), and tables and help unwrapped while ordinary output wraps."""

import re
import subprocess
import sys
from pathlib import Path

from .test_workbench import HTMX, PreparedPool, finish, run_id_in, type_command

AWS = str(Path(sys.executable).with_name("aws"))


def real_cli_stderr(*args: str) -> bytes:
    """What the installed AWS CLI prints for a command line it cannot parse (it never reaches a network)."""
    env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
           "HOME": "/nonexistent", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([AWS, *args], capture_output=True, env=env, timeout=60)
    assert done.returncode != 0
    return done.stderr


def test_before_the_first_command_the_console_and_script_tab_say_what_to_do(alice_client, session, no_gateway):
    html = alice_client.get("/labs/web-test-lab/").content.decode()
    hint = re.search(r'<p class="console-empty"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "Type an AWS CLI command" in hint and "<code>aws s3 ls</code>" in hint and "↑" in hint
    # The hint is inside the console's log box, where the output will appear.
    assert html.index('id="console-log"') < html.index('class="console-empty"') < html.index('id="console-entries"')
    assert "Nothing run yet" in html and "Run script" in html

    run_id = run_id_in(type_command(alice_client, session, "aws s3 ls", **HTMX).content.decode())
    finish(run_id, PreparedPool(stdout=b"bucket\n"))
    assert 'class="console-empty"' not in alice_client.get("/labs/web-test-lab/").content.decode()


def test_the_output_boxes_are_keyboard_reachable_named_scroll_regions(alice_client, session, no_gateway):
    html = alice_client.get("/labs/web-test-lab/").content.decode()
    log = re.search(r'<div id="console-log"[^>]*>', html).group(0)
    assert 'tabindex="0"' in log and 'aria-label="Console output"' in log and 'role="log"' in log
    script = re.search(r'<div id="script-output"[^>]*>', html).group(0)
    assert 'tabindex="0"' in script and 'aria-label="Script output"' in script
    assert "css/workbench.css" in html  # where the boxes get their bounded height


def test_a_mistyped_command_leads_with_the_error_and_did_you_mean(alice_client, session):
    stderr = real_cli_stderr("s3api", "list-buckt")
    assert len(stderr) > 4000
    run_id = run_id_in(type_command(alice_client, session, "aws s3api list-buckt", **HTMX).content.decode())
    finish(run_id, PreparedPool(stderr=stderr, exit_code=252))
    html = alice_client.get(f"/runs/{run_id}/", **HTMX).content.decode()
    headline = html.index("Invalid choice: &#x27;list-buckt&#x27;")
    suggestion = html.index("Did you mean <code>aws s3api list-buckets</code>")
    assert re.search(r'data-use-command="aws s3api list-buckets" aria-label="Put in the prompt: aws s3api '
                     r'list-buckets" hidden>Put in the prompt<', html)  # JS shows it
    folded = html.index("<details")
    assert headline < suggestion < folded
    # The long list of valid choices is only inside the folded part.
    assert html.count("abort-multipart-upload") == 1 and html.index("abort-multipart-upload") > folded
    assert re.search(r"<summary>The \d+ valid choices and usage</summary>", html)


def test_a_boto3_traceback_shows_the_learners_lines_and_the_error_first(alice_client, session):
    trace = (
        "Traceback (most recent call last):\n"
        '  File "script.py", line 4, in <module>\n'
        "    s3.get_object(Bucket='nope', Key='k')\n"
        '  File "/opt/lab/site-packages/awscli/botocore/client.py", line 606, in _api_call\n'
        "    return self._make_api_call(operation_name, kwargs)\n"
        '  File "/opt/lab/site-packages/awscli/botocore/client.py", line 1078, in _make_api_call\n'
        "    raise error_class(parsed_response, operation_name)\n"
        "botocore.errorfactory.NoSuchBucket: An error occurred (NoSuchBucket) when calling the GetObject operation\n"
    ).encode()
    run_id = run_id_in(alice_client.post(f"/sessions/{session.pk}/script/", {"source": "x"}, **HTMX).content.decode())
    finish(run_id, PreparedPool(stderr=trace, exit_code=1))
    html = alice_client.get(f"/runs/{run_id}/", **HTMX).content.decode()
    shown = re.search(r'<pre class="run-stderr run-trimmed"[^>]*>(.*?)</pre>', html, re.S).group(1)
    assert "s3.get_object(Bucket=&#x27;nope&#x27;, Key=&#x27;k&#x27;)" in shown and "NoSuchBucket" in shown
    assert "client.py" not in shown and "… 2 frames inside botocore" in shown
    assert "<summary>Full traceback (2 internal frames hidden above)</summary>" in html
    assert html.index("/awscli/botocore/client.py") > html.index("<details")


def test_tables_and_help_are_not_wrapped_but_ordinary_output_is(alice_client, session):
    table = b"-----------\n|ListUsers|\n+---------+\n||  Users ||\n"
    cases = {"aws iam list-users --output table": True, "aws s3api help": True, "aws iam list-users": False,
             "aws iam list-users --output=table": True}
    for command, unwrapped in cases.items():
        run_id = run_id_in(type_command(alice_client, session, command, **HTMX).content.decode())
        finish(run_id, PreparedPool(stdout=table))
        html = alice_client.get(f"/runs/{run_id}/", **HTMX).content.decode()
        assert ("run-stdout run-unwrapped" in html) is unwrapped, command


def test_the_console_has_a_hidden_note_for_when_the_session_ends(alice_client, session):
    html = alice_client.get("/labs/web-test-lab/").content.decode()
    note = re.search(r"<p class=\"workbench-ended\"[^>]*>(.*?)</p>", html, re.S)
    assert " hidden" in note.group(0).split(">")[0] and "This lab session has ended" in note.group(1)
