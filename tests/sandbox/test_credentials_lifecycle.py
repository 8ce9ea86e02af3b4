"""Keys stop working the moment their session stops, and at their exact expiry.

A learner's session key, an IAM user key they created and STS credentials they assumed are each used once
(so the gateway has them cached), then the session is ended, reset or handed in through
`labs.services`: the very next call with each key must be refused.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import LEARNER_CONFIG, make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

REFUSED = ("InvalidClientTokenId", "InvalidAccessKeyId", "AccessDenied")


def client_with(gateway_url: str, service: str, credentials: dict):
    return boto3.client(
        service,
        endpoint_url=gateway_url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"),
        config=LEARNER_CONFIG,
    )


def learner_keys(box) -> dict[str, dict]:
    """The session's key, an IAM user's key and assumed-role credentials, each used once."""
    iam = box.client("iam")
    # IAM decides for these keys (labapp/sandbox/authorization): each may list buckets, nothing more.
    may_list = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})
    iam.create_user(UserName="dev")
    iam.put_user_policy(UserName="dev", PolicyName="list", PolicyDocument=may_list)
    user_key = iam.create_access_key(UserName="dev")["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName="worker", PolicyName="list", PolicyDocument=may_list)
    assumed = box.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="probe")["Credentials"]
    keys = {
        "session": {"AccessKeyId": box.key, "SecretAccessKey": box.secret},
        "iam user": user_key,
        "assumed role": assumed,
    }
    for credentials in keys.values():
        assert client_with(box.gateway_url, "s3", credentials).list_buckets()["Buckets"] == []
    return keys


def assert_all_refused(box, keys: dict[str, dict]) -> None:
    for name, credentials in keys.items():
        with pytest.raises(ClientError) as caught:
            client_with(box.gateway_url, "s3", credentials).list_buckets()
        assert caught.value.response["Error"]["Code"] in REFUSED, f"{name} key: {caught.value.response['Error']}"


def test_ending_a_session_stops_every_key_of_its_account_at_once(sandbox_stack):
    from labapp.labs import services

    box = make_sandbox(sandbox_stack.url)
    keys = learner_keys(box)
    services.end_session(box.session)
    assert_all_refused(box, keys)


def test_resetting_a_session_stops_every_key_of_its_account_at_once(sandbox_stack):
    from labapp.labs import services

    box = make_sandbox(sandbox_stack.url)
    keys = learner_keys(box)
    services.reset_session(box.session)
    assert_all_refused(box, keys)


def test_handing_in_stops_the_learners_keys_at_once_but_not_the_platform(sandbox_stack):
    from labapp.labs import services
    from labapp.sandbox import client as sandbox_client

    box = make_sandbox(sandbox_stack.url)
    keys = learner_keys(box)
    box.client("s3").create_bucket(Bucket=f"work-{box.account_id}")
    assert services.hand_in(box.session)
    assert_all_refused(box, keys)
    # Writes into the handed-in sandbox are refused too, whichever key is tried.
    with pytest.raises(ClientError):
        client_with(box.gateway_url, "s3", keys["iam user"]).put_object(Bucket=f"work-{box.account_id}", Key="late", Body=b"x")
    box.session.refresh_from_db()
    platform = sandbox_client.client(box.session, "s3", source="platform")
    assert platform.list_objects_v2(Bucket=f"work-{box.account_id}").get("KeyCount") == 0


def test_a_session_key_is_refused_from_its_exact_expiry(sandbox_stack):
    from django.utils import timezone

    from labapp.labs.models import LabSession

    box = make_sandbox(sandbox_stack.url)
    expires = timezone.now() + timedelta(seconds=2)
    LabSession.objects.filter(pk=box.session.pk).update(expires_at=expires)
    s3 = box.client("s3")
    s3.list_buckets()  # cached by the gateway, with its expiry
    time.sleep(max(0.0, (expires - timezone.now()).total_seconds()) + 0.05)
    with pytest.raises(ClientError) as caught:
        s3.list_buckets()
    assert caught.value.response["Error"]["Code"] in REFUSED
    # Nothing ended the session (the beat's expire_sessions runs every 30 s): the expiry alone did it.
    assert LabSession.objects.get(pk=box.session.pk).status == LabSession.Status.READY


class _FakeUpstream:
    """The emulator's answer for a moto-issued key: STS credentials ending at `expires_at`."""

    def __init__(self, account_id: str, expires_at: float):
        self.answer = {"account_id": account_id, "secret_access_key": "s", "expires_at": expires_at}

    def get_json(self, path):
        return 200, self.answer


def test_sts_credentials_are_refused_from_their_exact_expiration(sandbox_stack):
    from labapp.sandbox.gateway.identity import EXPIRED, CredentialStore

    box = make_sandbox(sandbox_stack.url)
    now = [1_000_000.0]
    store = CredentialStore(_FakeUpstream(box.account_id, expires_at=1_000_900.0), wall_clock=lambda: now[0])
    key = store.key("ASIAEXAMPLEEXAMPLE00")
    assert (key.account_id, key.status) == (box.account_id, "ready")
    now[0] = 1_000_899.999
    assert store.key("ASIAEXAMPLEEXAMPLE00").status == "ready"
    now[0] = 1_000_900.0
    assert store.key("ASIAEXAMPLEEXAMPLE00").status == EXPIRED


def test_forget_drops_every_cached_key_of_the_account(sandbox_stack):
    """Moto-issued keys are cached under their own ids; forgetting the session's key forgets them too."""
    from labapp.labs.models import LabSession
    from labapp.sandbox.gateway.identity import CredentialStore

    box = make_sandbox(sandbox_stack.url)
    store = CredentialStore(_FakeUpstream(box.account_id, expires_at=time.time() + 900))
    assert store.key("ASIAEXAMPLEEXAMPLE00").status == "ready"
    assert store.key(box.key).status == "ready"
    LabSession.objects.filter(pk=box.session.pk).update(status=LabSession.Status.ENDED)
    assert store.key("ASIAEXAMPLEEXAMPLE00").status == "ready"  # still cached: this is what forget is for
    store.forget(box.key)
    assert store.key("ASIAEXAMPLEEXAMPLE00") is None
    assert store.key(box.key).status == LabSession.Status.ENDED


# --- retiring: every account is freed, or retried until it is ---------------------------------------


def test_reset_frees_an_account_whose_bucket_holds_delete_markers_and_uploads(sandbox_stack):
    """moto's delete markers have no dispose(): the reset used to fail half-way (500) for good."""
    from labapp.sandbox import client as sandbox_client

    box = make_sandbox(sandbox_stack.url)
    s3 = box.client("s3")
    bucket = f"versions-{box.account_id}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"v1")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"v2")
    s3.delete_object(Bucket=bucket, Key="index.html")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"x" * 1024)
    assert box.account_id in sandbox_client.emulator_stats()["accounts"]
    sandbox_client.reset_account(box.account_id)
    assert box.account_id not in sandbox_client.emulator_stats()["accounts"]
    # The bucket name is free again, for anyone.
    other = make_sandbox(sandbox_stack.url)
    other.client("s3").create_bucket(Bucket=bucket)


def test_a_retire_that_did_not_happen_is_done_by_the_reaper(sandbox_stack, monkeypatch):
    """An ended session whose account still holds state (its retire failed, or its message was lost) is
    retired again, and an account no session owns is freed; live and handed-in sessions are left alone."""
    from labapp.labs import services
    from labapp.labs.models import LabSession
    from labapp.sandbox import client as sandbox_client

    ended, live, handed_in = (make_sandbox(sandbox_stack.url) for _ in range(3))
    for box in (ended, live, handed_in):
        box.client("sns").create_topic(Name="t")
    LabSession.objects.filter(pk=ended.session.pk).update(status=LabSession.Status.ENDED)
    LabSession.objects.filter(pk=handed_in.session.pk).update(status=LabSession.Status.SUBMITTED)

    class RetireNow:  # the worker's task, run here
        name = "retire_sandbox"

        @staticmethod
        def delay(session_id):
            services.retire(LabSession.objects.get(pk=session_id))

    orphan = make_sandbox(sandbox_stack.url)  # its session row is deleted, its state stays behind
    orphan.client("sns").create_topic(Name="t")
    orphan.session.delete()

    monkeypatch.setattr(services, "_retire_task", lambda: RetireNow)
    assert services.retire_leftover_sandboxes() >= 2
    accounts = sandbox_client.emulator_stats()["accounts"]
    assert ended.account_id not in accounts and orphan.account_id not in accounts
    assert live.account_id in accounts and handed_in.account_id in accounts
    assert services.retire_leftover_sandboxes() == 0
