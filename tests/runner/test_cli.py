"""Console command lines: split like a shell, never given to one; only `aws`; readable help."""

import shlex
from types import SimpleNamespace

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from labapp.runner.api import REFUSAL, CommandRefused, run_cli, split_command
from labapp.runner.sandbox import RunnerUnavailable

from .conftest import TEST_LIMITS


class RecordingPool:
    """Records the job it is handed instead of running it."""

    def __init__(self, seen: list):
        self.seen = seen

    def run(self, job, limits, should_stop=None):
        self.seen.append(job)
        raise RunnerUnavailable("recorded")

METACHARS = ";|&$()`<>*?!~#{}[]\\'\"\n\t =%^"


@pytest.mark.parametrize("line", ["ls -la", "", "   ", "sudo aws s3 ls", "rm -rf /", "python -c 1", "/usr/bin/aws s3 ls",
                                  "AWS s3 ls", "bash -c 'aws s3 ls'", "$(aws) s3 ls", "aws;ls"])
def test_anything_but_aws_is_refused_in_one_line(line, fake_session):
    result = run_cli(fake_session, line, pool=object())  # a pool is never touched for refusals
    assert result.refused and result.exit_code == 2
    assert result.stderr == result.message == REFUSAL
    assert "\n" not in result.message


def test_unparsable_and_oversized_lines_are_refused(fake_session):
    assert run_cli(fake_session, 'aws s3 ls "unterminated', pool=object()).message.startswith("Could not read")
    assert run_cli(fake_session, "aws " + "x" * 10000, pool=object()).refused


@given(st.text(alphabet=METACHARS + "abcxyz-_./:", min_size=1, max_size=40))
@hsettings(max_examples=300, deadline=None)
def test_metacharacters_stay_inside_plain_arguments(payload):
    """Whatever the learner types after `aws`, the result is a list of literal strings for the CLI: a quoted
    payload is exactly one argument, and an unquoted one is split only on whitespace, never on ; | & $()."""
    assert split_command("aws s3 ls " + shlex.quote(payload)) == ["aws", "s3", "ls", payload]
    try:
        argv = split_command("aws s3 ls s3://" + payload)
    except CommandRefused:
        return  # unbalanced quotes or a trailing backslash: refused, nothing runs
    assert argv[:3] == ["aws", "s3", "ls"] and argv[0] == "aws"
    assert "".join(argv[3:]).replace("s3://", "", 1) == "".join(
        c for c in shlex.split("s3://" + payload)[0:] for c in c).replace("s3://", "", 1)


@given(st.text(alphabet=METACHARS + "abc", min_size=1, max_size=30))
@hsettings(max_examples=200, deadline=None)
def test_the_job_carries_the_argv_and_never_a_shell_line(payload):
    """run_cli hands the sandbox a JSON argv list (mode "cli"); entry.py passes it to the AWS CLI driver."""
    seen = []
    session = SimpleNamespace(access_key_id="AKID", secret_access_key="s", region="us-east-1")
    line = "aws s3 ls " + shlex.quote(payload)
    result = run_cli(session, line, pool=RecordingPool(seen))
    assert result.infra_error
    assert seen[0]["mode"] == "cli" and seen[0]["argv"] == ["aws", "s3", "ls", payload]
    assert set(seen[0]) == {"mode", "argv", "env"}


def test_no_shell_anywhere_in_the_runner():
    from pathlib import Path

    import labapp.runner

    for path in Path(labapp.runner.__file__).parent.rglob("*.py"):
        text = path.read_text()
        assert "shell=True" not in text and "os.system(" not in text and "/bin/sh" not in text, path


def test_a_shell_injection_reaches_the_cli_as_arguments(runner_pool, fake_session):
    result = run_cli(fake_session, "aws s3 ls; touch /tmp/pwned", limits=TEST_LIMITS, pool=runner_pool)
    assert result.exit_code not in (0, None) and not result.limit
    assert "Invalid choice: 'ls;'" in result.stderr  # `;` reached the AWS CLI as part of an argument
    import os
    import uuid

    marker = f"/tmp/pwned-{uuid.uuid4().hex}"
    probe = run_cli(fake_session, f"aws s3 ls `touch {marker}` $(touch {marker}) | cat > {marker}", limits=TEST_LIMITS,
                    pool=runner_pool)
    assert probe.exit_code != 0
    assert not os.path.exists(marker)


def test_configure_list_shows_the_session_credentials_from_the_environment(runner_pool, fake_session):
    result = run_cli(fake_session, "aws configure list", limits=TEST_LIMITS, pool=runner_pool)
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert lines["access_key"][1].endswith("0001") and lines["access_key"][2] == "env"
    assert lines["secret_key"][2] == "env"
    assert lines["region"][1:3] == ["us-east-1", "env"]
    assert "runner-test-secret" not in result.stdout


def test_help_is_readable_plain_text(runner_pool, fake_session):
    result = run_cli(fake_session, "aws s3 help", limits=TEST_LIMITS, pool=runner_pool)
    assert result.exit_code == 0, result.stderr
    assert "DESCRIPTION" in result.stdout or "Description" in result.stdout
    assert "ls" in result.stdout and "\x1b" not in result.stdout and ".TH " not in result.stdout
    assert "\x08" not in result.stdout  # no overstrike bold from man
    op = run_cli(fake_session, "aws s3api put-bucket-versioning help", limits=TEST_LIMITS, pool=runner_pool)
    assert op.exit_code == 0 and "--versioning-configuration" in op.stdout


def test_cli_errors_show_on_stderr_with_the_exit_status(runner_pool, fake_session):
    result = run_cli(fake_session, "aws s3 no-such-command", limits=TEST_LIMITS, pool=runner_pool)
    assert result.exit_code in (2, 252) and "Invalid choice" in result.stderr


@pytest.mark.parametrize("line, service", [
    ("aws sqs list-queues", "sqs"),
    ("aws --region eu-west-1 --output json sqs list-queues", "sqs"),
    ("aws --debug rds describe-db-instances", "rds"),
    ("aws --query=Foo emr list-clusters", "emr"),
])
def test_services_cli_v1_would_send_to_real_aws_get_the_gateway_explicitly(line, service):
    """CLI v1 ignores AWS_ENDPOINT_URL for these (overridesslcommonname) and would call real AWS."""
    seen = []
    session = SimpleNamespace(access_key_id="AKID", secret_access_key="s", region="us-east-1")
    run_cli(session, line, pool=RecordingPool(seen))
    argv = seen[0]["argv"]
    assert argv[:3] == ["aws", "--endpoint-url", seen[0]["env"]["AWS_ENDPOINT_URL"]]
    assert service in argv
    run_cli(session, "aws s3 ls", pool=RecordingPool(seen))
    assert seen[1]["argv"] == ["aws", "s3", "ls"]  # services that honour the environment are left alone


def test_the_endpoint_list_is_read_without_importing_the_cli_into_this_process():
    """Importing awscli would switch every later boto3 client of this process (web, worker, emulator) to
    the CLI's older service models; moto would then route Athena as JSON only and 404 boto3's rest-json."""
    import subprocess
    import sys

    probe = (
        "import sys; from labapp.runner.api import services_ignoring_endpoint_env as f; names = f(); "
        "assert {'sqs', 'emr'} <= names, names; "
        "assert not [m for m in sys.modules if m.startswith('awscli')], 'awscli was imported'"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
