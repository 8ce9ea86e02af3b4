"""The runner against the real gateway and emulator: console commands and boto3 scripts in a learner's
own sandbox account."""

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
