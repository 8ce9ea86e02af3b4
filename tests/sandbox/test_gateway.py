"""Positive paths through the real gateway: the AWS CLI, the journal, resets, the platform client, and
the emulator's lack of any route out."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from labapp.sandbox import client as sandbox_client
from tests.sandbox.helpers import make_sandbox

AWS_CLI = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "aws")
pytestmark = pytest.mark.django_db(transaction=True)


def aws(sandbox, *args, input_path=None):
    result = subprocess.run(
        [AWS_CLI, "--endpoint-url", sandbox.gateway_url, "--output", "json", *args],
        env=sandbox.cli_env({k: v for k, v in os.environ.items() if not k.startswith("AWS_")}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"aws {' '.join(args)}: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip().startswith("{") else result.stdout


def journal(sandbox, **filters):
    from labapp.labs.models import ApiCall

    sandbox_client.flush_journal()
    return list(ApiCall.objects.filter(session=sandbox.session, **filters).order_by("id"))


def test_aws_cli_just_works(sandbox_stack, tmp_path):
    box = make_sandbox(sandbox_stack.url)
    bucket = f"cli-{box.account_id}"
    assert aws(box, "sts", "get-caller-identity")["Account"] == box.account_id
    aws(box, "s3", "mb", f"s3://{bucket}")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))
    aws(box, "s3", "cp", str(big), f"s3://{bucket}/big.bin")  # multipart, 8 MB parts
    head = aws(box, "s3api", "head-object", "--bucket", bucket, "--key", "big.bin")
    assert head["ContentLength"] == 20 * 1024 * 1024
    copy = tmp_path / "copy.bin"
    aws(box, "s3", "cp", f"s3://{bucket}/big.bin", str(copy))
    assert copy.read_bytes() == big.read_bytes()
    assert aws(box, "iam", "create-user", "--user-name", "alice")["User"]["UserName"] == "alice"
    aws(box, "iam", "attach-user-policy", "--user-name", "alice", "--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    attached = aws(box, "iam", "list-attached-user-policies", "--user-name", "alice")["AttachedPolicies"]
    assert attached == [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    assert len(aws(box, "ec2", "describe-vpcs")["Vpcs"]) == 1

    actions = [(c.service, c.action) for c in journal(box)]
    assert ("s3", "CreateMultipartUpload") in actions and ("s3", "UploadPart") in actions
    assert ("iam", "CreateUser") in actions and ("ec2", "DescribeVpcs") in actions


def test_caller_identity_is_the_sessions_own_and_moto_issued_keys_keep_theirs(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    me = aws(box, "sts", "get-caller-identity")
    assert me["Account"] == box.account_id
    assert me["Arn"] == f"arn:aws:sts::{box.account_id}:assumed-role/LabAdministrator/learner"
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:learner", me["UserId"])
    assert "moto" not in json.dumps(me) and "AKIAIOSFODNN7EXAMPLE" not in json.dumps(me)
    # An IAM user's own key answers as that user, as on AWS.
    iam = box.client("iam")
    user = iam.create_user(UserName="ci-bot")["User"]
    key = iam.create_access_key(UserName="ci-bot")["AccessKey"]
    bot = box.client("sts", key=key["AccessKeyId"], secret=key["SecretAccessKey"]).get_caller_identity()
    assert (bot["Arn"], bot["UserId"], bot["Account"]) == (user["Arn"], user["UserId"], box.account_id)


def test_managed_policies_attach_to_groups_too(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    iam = box.client("iam")
    iam.create_group(GroupName="admins")
    for name in ("AdministratorAccess", "AmazonS3ReadOnlyAccess", "AmazonSSMManagedInstanceCore",
                 "CloudWatchAgentServerPolicy", "IAMUserChangePassword"):
        iam.attach_group_policy(GroupName="admins", PolicyArn=f"arn:aws:iam::aws:policy/{name}")
    attached = iam.list_attached_group_policies(GroupName="admins")["AttachedPolicies"]
    assert len(attached) == 5


def test_journal_records_service_action_params_and_delete_markers(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    s3 = box.client("s3")
    bucket = f"ver-{box.account_id}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object(Bucket=bucket, Key="index.html", Body=b"v1")
    marker = s3.delete_object(Bucket=bucket, Key="index.html")
    assert marker["DeleteMarker"] is True
    s3.delete_object(Bucket=bucket, Key="index.html", VersionId=marker["VersionId"])
    box.client("iam").create_user(UserName="bob")

    calls = journal(box)
    by_action = {}
    for call in calls:
        by_action.setdefault(call.action, []).append(call)
    assert by_action["CreateBucket"][0].params == {"Bucket": bucket}
    assert by_action["PutBucketVersioning"][0].mutating is True
    assert by_action["PutObject"][0].params["VersionId"] == put["VersionId"]
    created, removed = by_action["DeleteObject"]
    assert created.params["DeleteMarker"] is True and "RequestVersionId" not in created.params
    assert created.params["VersionId"] == marker["VersionId"]
    assert removed.params["RequestVersionId"] == marker["VersionId"]  # the marker removed by id
    user = by_action["CreateUser"][0]
    assert (user.service, user.params, user.source, user.status) == ("iam", {"UserName": "bob"}, "learner", 200)
    assert all(call.region == "us-east-1" and call.duration_ms > 0 for call in calls)


def test_refusals_are_journaled(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    with pytest.raises(Exception):
        box.client("sts").get_session_token()
    [call] = journal(box)
    assert (call.service, call.action, call.status, call.error_code) == ("sts", "GetSessionToken", 403, "AccessDenied")


def test_platform_client_labels_calls_and_works_while_provisioning(sandbox_stack):
    from labapp.labs.models import LabSession

    box = make_sandbox(sandbox_stack.url, status=LabSession.Status.PROVISIONING)
    s3 = sandbox_client.client(box.session, "s3", source="setup")
    s3.create_bucket(Bucket=f"setup-{box.account_id}")
    assert sandbox_client.client(box.session, "s3", source="setup") is s3  # cached
    with pytest.raises(Exception):
        box.client("s3").list_buckets()  # the learner's own calls wait until the session is ready
    names = [b["Name"] for b in sandbox_client.sandbox_session(box.session).client("s3").list_buckets()["Buckets"]]
    assert names == [f"setup-{box.account_id}"]
    sources = [(c.source, c.action) for c in journal(box) if c.status == 200]
    assert sources == [("setup", "CreateBucket"), ("platform", "ListBuckets")]


def test_forget_credentials_takes_effect_immediately(sandbox_stack):
    from labapp.labs.models import LabSession

    box = make_sandbox(sandbox_stack.url)
    box.client("s3").list_buckets()
    LabSession.objects.filter(pk=box.session.pk).update(status=LabSession.Status.ENDED)
    sandbox_client.forget_credentials(box.key)
    with pytest.raises(Exception):
        box.client("s3").list_buckets()


def test_reset_account_frees_only_that_account(sandbox_stack):
    a = make_sandbox(sandbox_stack.url)
    b = make_sandbox(sandbox_stack.url)
    for box in (a, b):
        box.client("s3").create_bucket(Bucket=f"keep-{box.account_id}")
        box.client("s3").put_object(Bucket=f"keep-{box.account_id}", Key="k", Body=b"still-here")
        box.client("ec2").describe_vpcs()
    assert {a.account_id, b.account_id} <= set(sandbox_client.emulator_stats()["accounts"])
    sandbox_client.reset_account(a.account_id)
    stats = sandbox_client.emulator_stats()
    assert a.account_id not in stats["accounts"] and b.account_id in stats["accounts"]
    assert stats["rss_bytes"] > 0
    assert b.client("s3").get_object(Bucket=f"keep-{b.account_id}", Key="k")["Body"].read() == b"still-here"
    assert a.client("s3").list_buckets()["Buckets"] == []
    a.client("s3").create_bucket(Bucket=f"keep-{a.account_id}")  # the name was released


def test_emulator_has_no_route_out(sandbox_stack):
    """An SNS http subscription to a listener in this process must never be called."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    connections = []

    def accept():
        for _ in range(15):
            try:
                connections.append(listener.accept())
            except TimeoutError:
                pass

    thread = threading.Thread(target=accept)
    thread.start()
    box = make_sandbox(sandbox_stack.url)
    sns = box.client("sns")
    topic = sns.create_topic(Name="out")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"http://127.0.0.1:{port}/hook")
    sns.publish(TopicArn=topic, Message="hello")
    thread.join()
    listener.close()
    assert connections == []
