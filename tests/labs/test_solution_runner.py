"""Reference solutions run in the learners' console runner, not on the host: what a step reads is the
sandbox's, its files and variables come with it, and a failing step stops the solution with the reason."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from labapp.courses.models import Lab, Module
from labapp.labs.models import LabSession
from labapp.labs.solution import run_solution
from labapp.runner.pool import ServingSandbox, pool_from_settings

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session(lab_stack, runner_reaches_gateway):
    from django.utils import timezone

    from labapp.labs import services

    lab = Lab.objects.create(
        uuid=uuid.uuid4(), module=Module.objects.first(), slug="solution-runner-lab", title="Solution runner",
        source_path="tests",
        definition={"parameters": {"bucket": {"generate": "bucket_name", "prefix": "sol"}}, "tasks": [],
                    "setup": [{"call": "s3.create_bucket", "args": {"Bucket": "{{ bucket }}"}}], "solution": []},
    )
    user = get_user_model().objects.create_user(f"sol-{uuid.uuid4().hex[:6]}")
    session = services.start_session(user, lab)
    deadline = timezone.now().timestamp() + 30
    while session.status == LabSession.Status.PROVISIONING and timezone.now().timestamp() < deadline:
        session.refresh_from_db()
    assert session.status == LabSession.Status.READY, session.error
    return session


def body(session, key: str) -> bytes:
    from labapp.sandbox.client import client

    return client(session, "s3").get_object(Bucket=session.params["bucket"], Key=key)["Body"].read()


@pytest.mark.parametrize("serving", [True, False], ids=["serving-sandbox", "sandbox-per-step"])
def test_steps_run_in_the_sandbox_with_their_files_and_variables(session, serving):
    steps = [
        # /etc/passwd inside the sandbox is a one-line fake: the host's file is out of reach.
        "aws s3api put-object --bucket {{ bucket }} --key passwd --body /etc/passwd",
        {"run": "aws s3api put-object --bucket {{ bucket }} --key notes.txt --body notes.txt",
         "files": {"notes.txt": "notes for {{ bucket }}\n"}},
        {"run": "aws sts get-caller-identity", "save": {"account": "Account"}},
        {"run": "aws s3api put-object --bucket {{ bucket }} --key from-env.txt --body /etc/hosts",
         "env": {"AWS_DEFAULT_REGION": "us-west-2"}},
    ]
    pool = pool_from_settings(size=0)
    runner = ServingSandbox(pool) if serving else pool
    try:
        results = run_solution(session, steps, runner=runner)
    finally:
        if serving:
            runner.close()
        pool.close()
    assert [r.exit_code for r in results] == [0, 0, 0, 0], [r.stderr for r in results]
    assert body(session, "passwd").startswith(b"learner:x:1000:1000:") and b"root:" not in body(session, "passwd")
    assert body(session, "notes.txt") == f"notes for {session.params['bucket']}\n".encode()


def test_a_failing_step_stops_the_solution_with_its_error(session):
    steps = [
        "aws s3api put-object --bucket {{ bucket }} --key hostname --body /etc/hostname",  # not in the sandbox
        "aws s3api put-object --bucket {{ bucket }} --key never --body /etc/hosts",
    ]
    pool = pool_from_settings(size=0)
    try:
        with ServingSandbox(pool) as runner:
            results = run_solution(session, steps, runner=runner)
    finally:
        pool.close()
    assert len(results) == 1 and results[0].exit_code != 0
    assert "Blob values must be a path to a file" in results[0].stderr and "/etc/hostname" in results[0].command
    refused = run_solution(session, [{"run": "aws s3 ls", "env": {"LD_PRELOAD": "/tmp/x.so"}}],
                           runner=object())  # refused before any sandbox is used
    assert refused[0].exit_code == 2 and "Only AWS_* variables" in refused[0].stderr
