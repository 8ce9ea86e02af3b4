"""`manage.py lab run <slug> --user <username> [--json] -- aws ...` and `--script FILE`: one console command
or script in a learner's live session, through the sandboxed runner, with the command's exit status."""

import json
import subprocess
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.stack import PYTHON, REPO

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def box(sandbox_stack, settings):
    from tests.sandbox.helpers import make_sandbox

    settings.LAB_RUNNER_GATEWAY_HOST = "127.0.0.1"
    settings.LAB_RUNNER_GATEWAY_PORT = sandbox_stack.port  # the relay in this process, for call_command
    return make_sandbox(sandbox_stack.url)


def manage_lab_run(stack, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`manage.py lab run ...` as a process of its own, against the test stack and database."""
    return subprocess.run(
        [PYTHON, str(REPO / "manage.py"), "lab", "run", *args],
        cwd=REPO, env=stack.env, input=stdin, capture_output=True, text=True, timeout=120,
    )


def test_a_command_prints_its_output_and_exits_with_its_status(sandbox_stack, box):
    from labapp.runner.models import Run

    slug, user = box.session.lab.slug, box.session.user.username
    who = manage_lab_run(sandbox_stack, slug, "--user", user, "--", "aws", "sts", "get-caller-identity",
                         "--query", "Account", "--output", "text")
    assert (who.returncode, who.stdout.strip()) == (0, box.account_id), who.stderr

    # A failing command: its stderr and exit status, and the same in one JSON object with --json.
    missing = manage_lab_run(sandbox_stack, slug, "--user", user, "--", "aws", "s3api", "head-object",
                             "--bucket", "no-such-bucket-here", "--key", "k")
    assert missing.returncode not in (0, 1) and "404" in missing.stderr and missing.stdout == ""
    as_json = manage_lab_run(sandbox_stack, slug, "--user", user, "--json", "--", "aws", "s3api", "head-object",
                             "--bucket", "no-such-bucket-here", "--key", "k")
    result = json.loads(as_json.stdout)
    assert result["exit_code"] == as_json.returncode == missing.returncode
    assert "404" in result["stderr"] and not result["refused"] and not result["infra_error"]
    # Stored like a console command, so the learner sees it in the console's history.
    assert Run.objects.filter(session=box.session, kind="cli").count() == 3
    assert Run.objects.get(pk=result["run_id"]).status == "done"


def test_a_script_from_a_file_or_stdin_runs_with_the_sessions_credentials(sandbox_stack, box, tmp_path):
    bucket = f"lab-run-{uuid.uuid4().hex[:10]}"
    script = tmp_path / "make_bucket.py"
    script.write_text(
        "import boto3, sys\n"
        f"boto3.client('s3').create_bucket(Bucket='{bucket}')\n"
        "print(boto3.client('sts').get_caller_identity()['Account'])\n"
        "sys.exit(3)\n"
    )
    slug, user = box.session.lab.slug, box.session.user.username
    done = manage_lab_run(sandbox_stack, slug, "--user", user, "--script", str(script))
    assert done.returncode == 3 and done.stdout.strip() == box.account_id, done.stderr
    assert bucket in [b["Name"] for b in box.client("s3").list_buckets()["Buckets"]]

    failing = manage_lab_run(sandbox_stack, slug, "--user", user, "--script", "-", stdin="raise KeyError('nope')\n")
    assert failing.returncode == 1 and 'File "script.py", line 1' in failing.stderr and "KeyError" in failing.stderr


def test_anything_but_aws_is_refused_with_the_consoles_message(box):
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as stopped:
        call_command("lab", "run", box.session.lab.slug, "--user", box.session.user.username, "--", "ls", "-la",
                     stdout=out, stderr=err)
    assert stopped.value.code == 2
    assert "Only aws commands run here" in err.getvalue() and out.getvalue() == ""


def test_clear_errors_for_unknown_lab_user_or_session(sandbox_stack, box):
    from django.contrib.auth import get_user_model

    slug, user = box.session.lab.slug, box.session.user.username
    cases = [
        (("no-such-lab", "--user", user), "no lab 'no-such-lab'"),
        ((slug, "--user", "nobody-here"), "no user named 'nobody-here'"),
    ]
    stranger = get_user_model().objects.create(username=f"stranger-{uuid.uuid4().hex[:6]}")
    cases.append(((slug, "--user", stranger.username), f"{stranger.username} has no live session of {slug}"))
    for args, message in cases:
        with pytest.raises(CommandError, match=message):
            call_command("lab", "run", *args, "--", "aws", "s3", "ls")
    with pytest.raises(CommandError, match="either an aws command after -- .* or --script FILE"):
        call_command("lab", "run", slug, "--user", user)
    box.session.status = "provisioning"
    box.session.save()
    with pytest.raises(CommandError, match="is provisioning, not ready yet"):
        call_command("lab", "run", slug, "--user", user, "--", "aws", "s3", "ls")

    # The same errors from the command line: one line on stderr, exit status 1.
    done = manage_lab_run(sandbox_stack, "no-such-lab", "--user", user, "--", "aws", "s3", "ls")
    assert done.returncode == 1 and "no lab 'no-such-lab'" in done.stderr and "Traceback" not in done.stderr
