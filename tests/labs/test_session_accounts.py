"""A lab session that owns several accounts (`accounts: [partner]`): each account is a fresh sandbox of the
same session with its own keys; the gateway pins a request to the account of the key that signed it; a
role of the partner account can be assumed from the main account (trust policy with ExternalId decided
by IAM) and its temporary keys act in the partner account only; ending the session retires every account.
"""

import json
import time
from io import StringIO

import boto3
import pytest
from botocore.exceptions import ClientError
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]

SLUG = "iam-cross-account-role"


def lab(*args) -> dict:
    out = StringIO()
    call_command("lab", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def client(creds: dict, service: str, **keys):
    return boto3.client(
        service,
        aws_access_key_id=keys.get("key", creds["aws_access_key_id"]),
        aws_secret_access_key=keys.get("secret", creds["aws_secret_access_key"]),
        aws_session_token=keys.get("token"),
        region_name=creds["region"],
        endpoint_url=creds["endpoint_url"],
    )


def trust(account: str, external_id: str | None) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "sts:AssumeRole",
    }
    if external_id:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def denied(call) -> bool:
    try:
        call()
    except ClientError as exc:
        return exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False


@pytest.fixture
def users(db):
    make = get_user_model().objects.create_user
    return make("alice", password="a-long-password"), make("bob", password="a-long-password")


def test_two_accounts_cross_account_role_and_isolation(lab_stack, users):
    started = lab("start", SLUG, "--user", "alice")
    assert started["status"] == "ready"
    partner = started["accounts"]["partner"]
    main_creds, partner_creds = started["credentials"], partner["credentials"]
    main_id, partner_id = started["account_id"], partner["account_id"]
    assert main_id != partner_id and len(partner_id) == 12
    # Each key signs into its own account; the setup ran in the partner account only.
    assert client(main_creds, "sts").get_caller_identity()["Account"] == main_id
    assert client(partner_creds, "sts").get_caller_identity()["Account"] == partner_id
    bucket = started["params"]["bucket"]
    assert [b["Name"] for b in client(partner_creds, "s3").list_buckets()["Buckets"]] == [bucket]
    assert client(main_creds, "s3").list_buckets()["Buckets"] == []

    external_id = started["params"]["external_id"]
    iam = client(partner_creds, "iam")
    iam.create_role(RoleName="report-reader", AssumeRolePolicyDocument=trust(main_id, external_id))
    iam.put_role_policy(
        RoleName="report-reader",
        PolicyName="read",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
                ],
            }
        ),
    )
    role_arn = f"arn:aws:iam::{partner_id}:role/report-reader"
    sts = client(main_creds, "sts")
    # The trust policy decides: without the ExternalId, or with another, the main account is refused.
    assert denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="audit"))
    assert denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="audit", ExternalId="other"))
    # The partner's own administrator is not trusted either.
    assert denied(
        lambda: client(partner_creds, "sts").assume_role(
            RoleArn=role_arn, RoleSessionName="audit", ExternalId=external_id
        )
    )
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="audit", ExternalId=external_id)["Credentials"]
    temp = {"key": creds["AccessKeyId"], "secret": creds["SecretAccessKey"], "token": creds["SessionToken"]}
    identity = client(main_creds, "sts", **temp).get_caller_identity()
    assert identity["Account"] == partner_id
    assert identity["Arn"] == f"arn:aws:sts::{partner_id}:assumed-role/report-reader/audit"
    # The temporary keys act in the partner account with the role's permissions, and no more.
    s3 = client(main_creds, "s3", **temp)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["reports/2026-q3.csv"]
    assert denied(lambda: s3.put_object(Bucket=bucket, Key="reports/forged.csv", Body=b"x"))
    assert denied(lambda: client(main_creds, "iam", **temp).list_roles())

    # Another learner's session: neither its keys nor a role naming it reach alice's accounts.
    other = lab("start", SLUG, "--user", "bob")
    other_creds = other["credentials"]
    assert denied(
        lambda: client(other_creds, "sts").assume_role(
            RoleArn=role_arn, RoleSessionName="intruder", ExternalId=external_id
        )
    )
    assert denied(lambda: client(other_creds, "s3").list_objects_v2(Bucket=bucket))
    # alice's main account cannot name bob's accounts either (only her own session's).
    bob_partner = other["accounts"]["partner"]["account_id"]
    assert denied(
        lambda: sts.assume_role(
            RoleArn=f"arn:aws:iam::{bob_partner}:role/report-reader",
            RoleSessionName="intruder",
            ExternalId=external_id,
        )
    )

    # Ending the session retires both accounts and refuses both keys.
    from labapp.sandbox.client import emulator_stats

    assert {main_id, partner_id} <= set(emulator_stats()["accounts"])
    lab("end", SLUG, "--user", "alice")
    deadline = time.monotonic() + 10
    while {main_id, partner_id} & set(emulator_stats()["accounts"]):
        assert time.monotonic() < deadline, "an account of the ended session is still in the emulator"
        time.sleep(0.2)
    assert denied(lambda: client(partner_creds, "sts").get_caller_identity())
    assert denied(lambda: client(main_creds, "sts").get_caller_identity())


def test_the_reaper_retires_a_leftover_extra_account_and_keeps_a_live_sessions(lab_stack, users, monkeypatch):
    """An ended session whose partner account still holds state (its retire was lost) is retired again; the
    partner account of a live session is the session's, never freed as an orphan."""
    from labapp.labs import services
    from labapp.labs.models import LabSession
    from labapp.sandbox.client import emulator_stats

    class RetireNow:  # the worker's task, run here
        name = "retire_sandbox"

        @staticmethod
        def delay(session_id):
            services.retire(LabSession.objects.get(pk=session_id))

    ended = lab("start", SLUG, "--user", "alice")
    live = lab("start", SLUG, "--user", "bob")
    ended_partner = ended["accounts"]["partner"]["account_id"]
    live_partner = live["accounts"]["partner"]["account_id"]
    assert {ended_partner, live_partner} <= set(emulator_stats()["accounts"])
    # Ended without its retire: the partner account (with the setup's bucket) stays in the emulator.
    LabSession.objects.filter(pk=ended["session_id"]).update(status=LabSession.Status.ENDED)
    monkeypatch.setattr(services, "_retire_task", lambda: RetireNow)
    assert services.retire_leftover_sandboxes() >= 1
    accounts = set(emulator_stats()["accounts"])
    assert ended_partner not in accounts
    assert live_partner in accounts


def test_a_partner_bucket_is_reached_only_through_its_bucket_policy_and_only_by_the_session(lab_stack, users):
    """A request of the main account for a bucket of its partner account is decided across accounts (the
    bucket policy must grant it); another learner's requests never reach it (and a policy cannot even
    name another learner's account: the gateway refuses such an ARN)."""
    started = lab("start", SLUG, "--user", "alice")
    other = lab("start", SLUG, "--user", "bob")
    bucket = started["params"]["bucket"]
    partner_s3 = client(started["accounts"]["partner"]["credentials"], "s3")
    main_s3 = client(started["credentials"], "s3")
    assert denied(lambda: main_s3.list_objects_v2(Bucket=bucket))  # no bucket policy: the main account is out
    partner_s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{started['account_id']}:root"},
                        "Action": ["s3:ListBucket", "s3:GetObject"],
                        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    }
                ],
            }
        ),
    )
    keys = [o["Key"] for o in main_s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["reports/2026-q3.csv"]
    assert main_s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read().startswith(b"quarter,")
    assert denied(lambda: main_s3.put_object(Bucket=bucket, Key="reports/forged.csv", Body=b"x"))
    # bob's session never reaches alice's partner account.
    bob_s3 = client(other["credentials"], "s3")
    assert denied(lambda: bob_s3.list_objects_v2(Bucket=bucket))
    assert denied(lambda: bob_s3.get_object(Bucket=bucket, Key=keys[0]))
    assert [o["Key"] for o in partner_s3.list_objects_v2(Bucket=bucket)["Contents"]] == keys
