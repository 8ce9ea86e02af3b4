"""Serving sandboxes (what `lab test` runs reference solutions in) and the job extras solutions need:
extra AWS_* variables and files in the working directory.

A serving sandbox is one warm sandbox whose jobs each run in a fresh process forked from it, in a fresh
working directory, with the job's own environment and limits."""

import pytest

from labapp.runner.api import run_cli, run_job, session_env
from labapp.runner.pool import ServingSandbox

from .conftest import TEST_LIMITS


@pytest.fixture
def serving(runner_pool):
    with ServingSandbox(runner_pool) as sandbox:
        yield sandbox


def script(serving, fake_session, source: str, limits=TEST_LIMITS):
    result, _ = run_job({"mode": "script", "source": source, "env": session_env(fake_session)}, limits, serving)
    assert not result.infra_error, result.message
    return result


def test_each_job_is_a_fresh_process_with_a_fresh_working_directory(serving, fake_session):
    first = script(serving, fake_session, "import os\nopen('left-behind', 'w').write('x')\n"
                                          "os.environ['LEFT'] = '1'\nprint(os.getpid(), os.getcwd())")
    second = script(serving, fake_session, "import os\nprint(os.getpid(), os.getcwd(), os.listdir('.'),"
                                           " os.environ.get('LEFT'))")
    pid1, cwd1 = first.stdout.split()
    pid2, cwd2, listing, left = second.stdout.split(maxsplit=3)
    assert pid1 != pid2 and cwd1 != cwd2 and cwd2.startswith("/home/learner/")
    assert listing == "[]" and left.strip() == "None"
    assert serving.jobs == 2 and serving.sandbox is not None  # one sandbox served both


def test_limits_still_stop_a_job_and_the_next_job_runs(serving, fake_session):
    slow = script(serving, fake_session, "import time\nprint('start', flush=True)\ntime.sleep(60)")
    assert slow.limit == "time" and slow.message == f"stopped: time limit {TEST_LIMITS.wall_seconds:g} s"
    assert slow.stdout == "start\n"
    loud = script(serving, fake_session, "print('x' * 10_000_000)")
    assert loud.limit == "output" and len(loud.stdout) <= TEST_LIMITS.output_bytes
    big = script(serving, fake_session, "b = bytearray(2 * 1024 ** 3)")
    assert big.limit == "memory" and big.message == f"stopped: memory limit {TEST_LIMITS.memory_mb} MB"
    after = run_cli(fake_session, "aws configure list", limits=TEST_LIMITS, pool=serving)
    assert after.exit_code == 0 and "access_key" in after.stdout


def test_extra_aws_variables_reach_the_command(serving, fake_session):
    result = run_cli(fake_session, "aws configure list", limits=TEST_LIMITS, pool=serving,
                     env={"AWS_ACCESS_KEY_ID": "ASIATEMPORARY0000042", "AWS_SESSION_TOKEN": "token"})
    assert result.exit_code == 0, result.stderr
    access_key = next(line.split() for line in result.stdout.splitlines() if line.strip().startswith("access_key"))
    assert access_key[1].endswith("0042") and access_key[2] == "env"


@pytest.mark.parametrize("name", ["LD_PRELOAD", "PYTHONPATH", "HOME", "PATH", "aws_lowercase", "AWS_"])
def test_only_aws_variables_may_be_added(fake_session, name):
    result = run_cli(fake_session, "aws s3 ls", pool=object(), env={name: "x"})  # the pool is never touched
    assert result.refused and result.exit_code == 2
    assert result.message == f"Only AWS_* variables can be set for a command, not {name!r}."


def test_files_are_made_in_the_working_directory_before_the_command(serving, fake_session, stub_gateway):
    before = len(stub_gateway.requests)
    # The stub gateway answers nonsense, so the command fails; what matters is the request it got.
    run_cli(fake_session, "aws iam create-policy --policy-name p --policy-document file://policy.json",
            limits=TEST_LIMITS, pool=serving, files={"policy.json": "made-by-a-solution-step"})
    assert any(b"made-by-a-solution-step" in request for request in stub_gateway.requests[before:])
    sized = run_cli(fake_session, "aws s3 cp part1 s3://b/part1 --dryrun", limits=TEST_LIMITS, pool=serving,
                    files={"part1": 6_000_000})
    assert sized.exit_code == 0 and "upload: ./part1 to s3://b/part1" in sized.stdout


@pytest.mark.parametrize("name", ["../escape", "a/b", ".aws", "", "x" * 101])
def test_file_names_are_plain_names(fake_session, name):
    result = run_cli(fake_session, "aws s3 ls", pool=object(), files={name: "x"})
    assert result.refused and result.message == f"{name!r} is not a plain file name."


def test_files_bigger_than_the_scratch_space_hit_the_disk_limit(serving, fake_session):
    result = run_cli(fake_session, "aws s3 ls", limits=TEST_LIMITS, pool=serving, files={"huge": 40_000_000})
    assert result.limit == "disk" and result.exit_code != 0
    assert "could not create the job's files" in result.stderr


def test_a_fresh_sandbox_per_command_also_takes_files_and_variables(runner_pool, fake_session):
    """The console's own path (one sandbox per command) handles the same job extras."""
    result = run_cli(fake_session, "aws configure list", limits=TEST_LIMITS, pool=runner_pool,
                     env={"AWS_DEFAULT_REGION": "us-west-2"}, files={"policy.json": "{}"})
    assert result.exit_code == 0, result.stderr
    assert "us-west-2" in result.stdout
