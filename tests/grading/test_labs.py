"""The real lab files end to end against the test moto server: after setup an untouched sandbox scores 0
and every task fails; the reference solution, run with the real AWS CLI, scores full marks.

The CLI cannot send `x-moto-account-id`, so each test creates an IAM user with an access key in its
account: moto maps a key it issued to that key's account. The gateway's journal is not here: rows for
the S3 delete-object calls are made from the CLI's own arguments and output, as the gateway would
record them.
"""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from labapp.courses.loader import scan
from labapp.grading.grader import grade
from labapp.grading.parameters import generate_params
from labapp.grading.setup import run_setup
from labapp.grading.solution import iter_commands

AWS = str(Path(sys.executable).with_name("aws"))
LABS = {lab.slug: lab.definition for c in scan(settings.COURSES_DIR).courses for m in c.modules for lab in m.labs}


def cli_env(sandbox):
    iam = sandbox.client("iam")
    iam.create_user(UserName="lab-cli")
    key = iam.create_access_key(UserName="lab-cli")["AccessKey"]
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": "/nonexistent",
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": sandbox.endpoint,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    }


def journal_row(argv, stdout):
    """What the gateway journals for an S3 DeleteObject made by the learner (see
    labapp/sandbox/gateway/operations.py add_response_params)."""
    if argv[1:3] != ["s3api", "delete-object"]:
        return None
    opts = dict(zip(argv[3::2], argv[4::2], strict=False))
    out = json.loads(stdout or "{}")
    params = {"Bucket": opts["--bucket"], "Key": opts["--key"]}
    if "--version-id" in opts:
        params["RequestVersionId"] = opts["--version-id"]
    if out.get("DeleteMarker"):
        params["DeleteMarker"] = True
    if out.get("VersionId"):
        params["VersionId"] = out["VersionId"]
    return {"action": "DeleteObject", "service": "s3", "source": "learner", "status": 204,
            "at": "2026-01-01T00:00:00Z", "params": params}


def test_all_three_labs_are_there():
    assert {"iam-users-groups", "s3-versioning", "ec2-security-group"} <= set(LABS)


# Plain moto (no gateway journal, no emulator extensions, no IAM decisions) can grade only these; every lab,
# these included, is proven end to end through the real gateway and worker by `manage.py lab test`
# (tests/labs). iam-users-groups asks the sandbox's IAM engine what alice may do (`iam.access`), which plain
# moto cannot answer.
PLAIN_MOTO_LABS = ["ec2-security-group", "s3-versioning"]


@pytest.mark.parametrize("slug", PLAIN_MOTO_LABS)
def test_untouched_scores_zero_and_solution_full_marks(sandbox, slug):
    definition = LABS[slug]
    params = generate_params(definition, user_id=4242, account_id=sandbox.account_id)
    run_setup(definition, params, sandbox.client)

    untouched = grade(definition, params, sandbox.ctx(params=params))
    assert untouched["score"] == 0, untouched
    assert not any(t["passed"] for t in untouched["tasks"])
    assert untouched["max_score"] == sum(t["points"] for t in definition["tasks"])

    env = cli_env(sandbox)
    journal = []
    for command, record in iter_commands(definition["solution"], params):
        argv = shlex.split(command)
        done = subprocess.run([AWS, *argv[1:]], env=env, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        record(done.stdout)
        row = journal_row(argv, done.stdout)
        if row:
            journal.append(row)

    solved = grade(definition, params, sandbox.ctx(params=params, journal=journal))
    assert solved["score"] == solved["max_score"], json.dumps(solved, indent=1)
    assert all(t["passed"] for t in solved["tasks"])
