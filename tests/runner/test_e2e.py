"""The runner against the real gateway and emulator: console commands and boto3 scripts in a learner's
own sandbox account."""

import time
import uuid
from urllib.parse import urlsplit

import pytest

from labapp.runner.api import run_cli, run_script

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def gateway_pool():
    """A runner pool whose relay targets the gateway this process's settings point at (set by the stack
    fixture), whatever LAB_GATEWAY_HOST/PORT say."""
    from django.conf import settings

    from labapp.runner.pool import Pool

    def target():
        url = urlsplit(settings.LAB_GATEWAY_URL)
        return url.hostname, url.port or 80

    pool = Pool(size=2, gateway=target)
    yield pool
    pool.close()


def test_console_and_script_in_the_learners_own_account(sandbox_stack, gateway_pool):
    from tests.sandbox.helpers import make_sandbox

    box = make_sandbox(sandbox_stack.url)
    session = box.session
    bucket = f"runner-{uuid.uuid4().hex[:10]}"
    made = run_cli(session, f"aws s3 mb s3://{bucket}", pool=gateway_pool)
    assert made.exit_code == 0, made.stderr
    listed = run_cli(session, "aws s3 ls", pool=gateway_pool)
    assert listed.exit_code == 0 and bucket in listed.stdout
    who = run_cli(session, "aws sts get-caller-identity --query Account --output text", pool=gateway_pool)
    assert who.stdout.strip() == box.account_id
    table = run_cli(session, "aws iam list-users --output table", pool=gateway_pool)
    assert table.exit_code == 0 and "ListUsers" in table.stdout
    script = f"""
import time, urllib.request
import boto3
from botocore.config import Config
s3 = boto3.client("s3", config=Config(retries={{"mode": "standard", "max_attempts": 3}}))
s3.put_object(Bucket="{bucket}", Key="hello.txt", Body=b"hi from the runner")
url = s3.generate_presigned_url("get_object", Params={{"Bucket": "{bucket}", "Key": "hello.txt"}}, ExpiresIn=60)
print(urllib.request.urlopen(url, timeout=5).read().decode())
pages = s3.get_paginator("list_objects_v2").paginate(Bucket="{bucket}", PaginationConfig={{"PageSize": 1}})
print(sum(len(p.get("Contents", [])) for p in pages))
s3.get_waiter("object_exists").wait(Bucket="{bucket}", Key="hello.txt")
print("waited")
"""
    result = run_script(session, script, pool=gateway_pool)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["hi from the runner", "1", "waited"]
    assert box.client("s3").get_object(Bucket=bucket, Key="hello.txt")["Body"].read() == b"hi from the runner"


def test_script_errors_show_the_learners_traceback(sandbox_stack, gateway_pool):
    from tests.sandbox.helpers import make_sandbox

    box = make_sandbox(sandbox_stack.url)
    result = run_script(box.session, "import boto3\nboto3.client('s3').get_object(Bucket='nope-nope', Key='k')\n",
                        pool=gateway_pool)
    assert result.exit_code == 1
    assert 'File "script.py", line 2' in result.stderr and "NoSuchBucket" in result.stderr
    assert "entry.py" not in result.stderr


def test_another_learners_keys_do_not_reach_their_account(sandbox_stack, gateway_pool):
    """The sandbox only reaches the gateway, which pins each key to its own account."""
    from tests.sandbox.helpers import make_sandbox

    alice, bob = make_sandbox(sandbox_stack.url), make_sandbox(sandbox_stack.url)
    bucket = f"alice-{uuid.uuid4().hex[:10]}"
    alice.client("s3").create_bucket(Bucket=bucket)
    listed = run_cli(bob.session, "aws s3 ls", pool=gateway_pool)
    assert bucket not in listed.stdout


def wait_ready(session, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.refresh_from_db()
        if session.status != "provisioning":
            return session
        time.sleep(0.2)
    raise AssertionError("session did not become ready")


def test_a_labs_reference_solution_runs_through_the_console(request, gateway_pool):
    """Every lab's solution proves the console works for it (lab test will call the runner too)."""
    try:
        request.getfixturevalue("lab_stack")
    except pytest.FixtureLookupError:
        pytest.skip("the lab_stack fixture (tests/conftest.py) is not available yet")
    from django.contrib.auth import get_user_model

    from labapp.courses.models import Lab
    from labapp.grading.solution import iter_commands
    from labapp.labs.services import start_session

    user = get_user_model().objects.create(username=f"runner-{uuid.uuid4().hex[:8]}")
    # The first three labs; some later labs' solutions read host files (e.g. --body /etc/hostname) that
    # the sandbox rightly cannot see. Moving every solution onto the runner is issue 3's remaining work.
    for lab in Lab.objects.filter(slug__in=["iam-users-groups", "s3-versioning", "ec2-security-group"]):
        session = wait_ready(start_session(user, lab))
        assert session.status == "ready", session.error
        for command, record_output in iter_commands(lab.definition.get("solution", []), session.params):
            result = run_cli(session, command, pool=gateway_pool)
            assert result.exit_code == 0, (lab.slug, command, result.stderr)
            record_output(result.stdout)


def test_lab_run_command_runs_in_the_learners_session(sandbox_stack, settings, capsys):
    import json
    from io import StringIO

    from labapp.runner.management.commands.lab_run import lab_run, print_run
    from tests.sandbox.helpers import make_sandbox

    settings.LAB_RUNNER_GATEWAY_PORT = urlsplit(sandbox_stack.url).port
    box = make_sandbox(sandbox_stack.url)
    session = box.session
    result = lab_run(session.lab.slug, session.user.username,
                     command=["aws", "sts", "get-caller-identity", "--query", "Account", "--output", "text"])
    assert result["exit_code"] == 0 and result["stdout"].strip() == box.account_id, result
    out = StringIO()
    assert print_run(result, True, out, StringIO()) == 0 and json.loads(out.getvalue())["exit_code"] == 0
    refused = lab_run(session.lab.slug, session.user.username, command=["ls", "-la"])
    assert refused["refused"] and refused["exit_code"] == 2
