"""The lab loop end to end through the real worker, gateway and emulator, driven by `manage.py lab`."""

import json
import os
from io import StringIO

import boto3
import pytest
from botocore.exceptions import ClientError
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]


def lab(*args) -> dict:
    out = StringIO()
    call_command("lab", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def sandbox_client(started: dict, service: str):
    creds = started["credentials"]
    return boto3.client(
        service,
        aws_access_key_id=creds["aws_access_key_id"],
        aws_secret_access_key=creds["aws_secret_access_key"],
        region_name=creds["region"],
        endpoint_url=creds["endpoint_url"],
    )


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice", password="a-long-password")


def test_every_lab_untouched_scores_zero_and_reference_solution_full_marks(lab_stack, runner_reaches_gateway):
    """Every lab's reference solution and near misses run through the learners' console runner (bubblewrap
    sandbox, gateway only), several labs at once: so every lab proves the console can do it."""
    from labapp.courses.models import Lab

    # While working on a few labs: LAB_TEST_ONLY=s3-cors,s3-lifecycle pytest tests/labs/test_lab_loop.py -k every_lab
    only = [slug for slug in os.environ.get("LAB_TEST_ONLY", "").split(",") if slug]
    out = StringIO()
    try:
        call_command("lab", "test", *only, "--json", "--jobs", "3", stdout=out)
    finally:
        print(out.getvalue())
    report = json.loads(out.getvalue())
    expected = sorted(only) if only else sorted(Lab.objects.values_list("slug", flat=True))
    assert sorted(r["slug"] for r in report["labs"]) == expected
    assert only or len(report["labs"]) >= 48
    for result in report["labs"]:
        assert result["problems"] == [], result
        assert result["untouched_score"] == 0
        assert result["solution_score"] == result["max_score"] > 0
        assert all(route["score"] == result["max_score"] for route in result["alternatives"]), result
        assert all(miss["score"] < result["max_score"] for miss in result["near_misses"]), result
    assert report["passed"] is True


def test_start_gives_a_ready_sandbox_of_its_own_and_start_again_returns_it(lab_stack, alice):
    started = lab("start", "s3-versioning", "--user", "alice")
    assert started["status"] == "ready"
    identity = sandbox_client(started, "sts").get_caller_identity()
    assert identity["Account"] == started["account_id"]
    # The setup ran in that account: the learner's bucket exists, unversioned, with index.html.
    s3 = sandbox_client(started, "s3")
    bucket = started["params"]["bucket"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["index.html"]
    assert lab("start", "s3-versioning", "--user", "alice")["session_id"] == started["session_id"]


def test_check_grades_through_the_worker_with_feedback_and_partial_credit(lab_stack, alice):
    started = lab("start", "s3-versioning", "--user", "alice")
    untouched = lab("check", "s3-versioning", "--user", "alice")
    assert untouched["status"] == "graded" and untouched["score"] == 0
    assert all(not task["passed"] and task["feedback"] for task in untouched["tasks"])

    sandbox_client(started, "s3").put_bucket_versioning(
        Bucket=started["params"]["bucket"], VersioningConfiguration={"Status": "Enabled"}
    )
    checked = lab("check", "s3-versioning", "--user", "alice")
    by_id = {task["id"]: task for task in checked["tasks"]}
    versioning = next(task for task in checked["tasks"] if "ersioning" in task["title"])
    assert versioning["passed"] and versioning["points"] == versioning["max_points"]
    assert 0 < checked["score"] < checked["max_score"]
    assert sum(task["points"] for task in by_id.values()) == checked["score"]


def test_end_retires_the_sandbox_and_its_keys_stop_working(lab_stack, alice):
    started = lab("start", "iam-users-groups", "--user", "alice")
    iam = sandbox_client(started, "iam")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["alice"]
    from labapp.sandbox.client import emulator_stats

    assert started["account_id"] in emulator_stats()["accounts"]
    ended = lab("end", "iam-users-groups", "--user", "alice")
    assert ended["status"] == "ended"

    def refused():
        try:
            iam.list_users()
        except ClientError as exc:
            return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        return False

    import time

    deadline = time.monotonic() + 5
    while not refused():
        assert time.monotonic() < deadline, "the ended session's keys still work"
        time.sleep(0.2)

    # The worker retired the sandbox: the emulator holds no state for that account any more.
    deadline = time.monotonic() + 5
    while started["account_id"] in emulator_stats()["accounts"]:
        assert time.monotonic() < deadline, "the ended session's account is still in the emulator"
        time.sleep(0.2)


def test_reset_starts_a_fresh_account_with_the_setup_again(lab_stack, alice):
    started = lab("start", "iam-users-groups", "--user", "alice")
    sandbox_client(started, "iam").create_group(GroupName="admins")
    again = lab("reset", "iam-users-groups", "--user", "alice")
    assert again["session_id"] != started["session_id"]
    assert again["account_id"] != started["account_id"]
    iam = sandbox_client(again, "iam")
    assert iam.list_groups()["Groups"] == []
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["alice"]
