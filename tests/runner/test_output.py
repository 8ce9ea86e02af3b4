"""What the learner reads first, worked out from the real AWS CLI's and Python's output in a sandbox:
the "maybe you meant" of a usage error before its 8 KB list of choices, and a boto3 traceback without
the frames of botocore."""

from labapp.runner.api import run_job, session_env
from labapp.runner.output import trim_traceback, usage_error

from .conftest import TEST_LIMITS


def cli(runner_pool, fake_session, argv):
    result, _ = run_job({"mode": "cli", "argv": argv, "env": session_env(fake_session)}, TEST_LIMITS, runner_pool)
    assert not result.infra_error, result.message
    return result


def test_a_mistyped_subcommand_is_summed_up_by_the_error_and_the_suggestion(runner_pool, fake_session):
    result = cli(runner_pool, fake_session, ["aws", "s3api", "list-buckt", "--output", "table"])
    assert result.exit_code != 0 and len(result.stderr) > 4000  # the long list of valid choices
    found = usage_error(result.stderr, "aws s3api list-buckt --output table")
    assert found.error == "argument operation: Invalid choice: 'list-buckt'"
    # The suggestion is the learner's own command with the word corrected.
    assert found.suggestions == ["aws s3api list-buckets --output table"]
    assert found.choices > 50


def test_several_suggestions_and_a_mistyped_service(runner_pool, fake_session):
    found = usage_error(cli(runner_pool, fake_session, ["aws", "iam", "creat-group"]).stderr, "aws iam creat-group")
    assert "aws iam create-group" in found.suggestions and len(found.suggestions) >= 2
    found = usage_error(cli(runner_pool, fake_session, ["aws", "s3apii", "ls"]).stderr, "aws s3apii ls")
    assert found.suggestions == ["aws s3api ls"]


def test_a_usage_error_without_suggestions_still_leads_with_the_error(runner_pool, fake_session):
    found = usage_error(cli(runner_pool, fake_session, ["aws", "iam", "create-group"]).stderr, "aws iam create-group")
    assert found.error == "the following arguments are required: --group-name"
    assert found.suggestions == [] and found.choices == 0


def test_ordinary_cli_errors_are_left_alone():
    stderr = "\nAn error occurred (NoSuchBucket) when calling the ListObjectsV2 operation: The specified bucket does not exist\n"
    assert usage_error(stderr, "aws s3 ls s3://nope") is None


def test_a_boto3_traceback_keeps_the_learners_lines_and_the_error(run):
    result, _ = run("import boto3\n\ndef fetch():\n    return boto3.client('s3').get_object(Bucket=123, Key='k')\n\nfetch()\n")
    assert result.exit_code == 1 and "/botocore/" in result.stderr  # the real trace goes deep into botocore
    trimmed = trim_traceback(result.stderr)
    assert trimmed.hidden_frames >= 3
    assert 'File "script.py", line 6, in <module>' in trimmed.text and 'File "script.py", line 4, in fetch' in trimmed.text
    assert "return boto3.client('s3').get_object(Bucket=123, Key='k')" in trimmed.text  # the learner's own line
    assert "/botocore/" not in trimmed.text and "/site-packages/" not in trimmed.text
    assert "inside botocore" in trimmed.text
    assert trimmed.text.rstrip().splitlines()[-1] == result.stderr.rstrip().splitlines()[-1]  # the final error


def test_a_traceback_of_the_learners_own_code_only_is_not_touched(run):
    result, _ = run("def f():\n    raise ValueError('mine')\nf()\n")
    assert "ValueError: mine" in result.stderr
    assert trim_traceback(result.stderr) is None


def test_a_chained_traceback_shows_the_last_exception_and_says_what_it_hid():
    stderr = (
        "Traceback (most recent call last):\n"
        '  File "/opt/lab/site-packages/urllib3/connection.py", line 1, in connect\n'
        "    sock.connect(sa)\n"
        "ConnectionRefusedError: [Errno 111] Connection refused\n\n"
        "The above exception was the direct cause of the following exception:\n\n"
        "Traceback (most recent call last):\n"
        '  File "script.py", line 3, in <module>\n'
        "    s3.list_buckets()\n"
        '  File "/opt/lab/site-packages/botocore/client.py", line 602, in _api_call\n'
        "    return self._make_api_call(operation_name, kwargs)\n"
        '  File "/usr/lib/python3.13/http/client.py", line 1331, in endheaders\n'
        "    self._send_output()\n"
        "botocore.exceptions.EndpointConnectionError: Could not connect\n"
    )
    trimmed = trim_traceback(stderr)
    assert trimmed.hidden_tracebacks == 1 and trimmed.hidden_frames == 2
    assert "1 earlier exception" in trimmed.text and "ConnectionRefusedError" not in trimmed.text
    assert "… 2 frames inside botocore, the standard library" in trimmed.text
    assert trimmed.text.endswith("botocore.exceptions.EndpointConnectionError: Could not connect\n")
