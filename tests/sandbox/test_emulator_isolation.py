"""The emulator itself keeps accounts apart, whatever the request says (labapp/sandbox/account_guard.py).

These requests go straight to the emulator's Unix socket with `x-moto-account-id` of learner A, as if
the gateway had let them through, and name learner B's resources in every protocol. Where moto would
resolve a name to B's account the emulator must answer 403 AccessDenied in the protocol's own error
shape (botocore parses it here); where moto looks in A anyway the call finds nothing. Either way B's
state is unchanged and no account is created for anyone else.
"""

from __future__ import annotations

import http.client
import json
import socket

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox

MADE_UP = "999999999999"
pytestmark = pytest.mark.django_db(transaction=True)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("emulator", timeout=30)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_kwargs):
        yield self.body


def emulator_client(socket_path: str, account_id: str | None, service: str, region: str = "us-east-1"):
    """A boto3 client whose requests go to the emulator's socket with the given account header."""
    client = boto3.client(
        service,
        endpoint_url="http://localhost",
        region_name=region,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="not-checked-by-the-emulator",
        config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
    )

    def send(request, **_kwargs):
        conn = _UnixConnection(socket_path)
        try:
            path = request.url.split("://", 1)[1]
            path = path[path.index("/"):] if "/" in path else "/"
            headers = {k: v for k, v in request.headers.items() if k.lower() != "x-moto-account-id"}
            if account_id is not None:
                headers["x-moto-account-id"] = account_id
            body = request.body or b""
            if hasattr(body, "read"):
                body = body.read()
            if isinstance(body, str):
                body = body.encode()
            headers["Content-Length"] = str(len(body))
            conn.request(request.method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return AWSResponse(request.url, response.status, dict(response.getheaders()), _Raw(data))
        finally:
            conn.close()

    client.meta.events.register("before-send", send)
    return client


def denied(call) -> str:
    """The call is refused with AccessDenied (any of the protocols' spellings); returns the message."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, error
    assert error["Code"] in ("AccessDenied", "AccessDeniedException"), error
    return error.get("Message", "")


def stats(stack) -> set[str]:
    from labapp.sandbox import client as sandbox

    return set(sandbox.emulator_stats()["accounts"])


@pytest.fixture
def two(sandbox_stack):
    a = make_sandbox(sandbox_stack.url)
    b = make_sandbox(sandbox_stack.url)
    s3 = b.client("s3")
    bucket = f"b-private-{b.account_id}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"B-SECRET")
    state = {
        "bucket": bucket,
        "topic": b.client("sns").create_topic(Name="b-topic")["TopicArn"],
        "queue": b.client("sqs").create_queue(QueueName="b-queue")["QueueUrl"],
        "bus": b.client("events").create_event_bus(Name="b-bus")["EventBusArn"],
        "vpc": b.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"],
        "zone": b.client("route53").create_hosted_zone(Name="b.example.com", CallerReference="b")["HostedZone"]["Id"],
    }
    b.client("logs").create_log_group(logGroupName="b-group")
    b.client("iam").create_user(UserName="b-user")
    state["b_user_key"] = b.client("iam").create_access_key(UserName="b-user")["AccessKey"]["AccessKeyId"]
    a.client("s3").create_bucket(Bucket=f"a-own-{a.account_id}")
    return a, b, state


def b_unchanged(b, state) -> None:
    assert b.client("s3").get_object(Bucket=state["bucket"], Key="secret.txt")["Body"].read() == b"B-SECRET"
    attributes = b.client("sns").get_topic_attributes(TopicArn=state["topic"])["Attributes"]
    assert attributes.get("DisplayName", "") == ""
    assert b.client("ec2").describe_vpc_peering_connections()["VpcPeeringConnections"] == []
    assert b.client("logs").describe_subscription_filters(logGroupName="b-group")["subscriptionFilters"] == []
    assert [u["UserName"] for u in b.client("iam").list_users()["Users"]] == ["b-user"]
    assert b.client("sqs").get_queue_attributes(QueueUrl=state["queue"], AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"
    ] == "0"


# --- query protocol ---------------------------------------------------------------------------------


def test_query_sts_assume_role_into_another_account_is_refused_and_creates_nothing(sandbox_stack, two):
    a, b, state = two
    before = stats(sandbox_stack)
    sts = emulator_client(sandbox_stack.socket_path, a.account_id, "sts")
    for account in (b.account_id, MADE_UP):
        message = denied(lambda: sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/admin", RoleSessionName="probe"))
        assert account in message
    assert MADE_UP not in stats(sandbox_stack)
    assert stats(sandbox_stack) <= before | {a.account_id}
    # The same call for a role of A's own account still works (a role that exists and trusts A: IAM decides).
    emulator_client(sandbox_stack.socket_path, a.account_id, "iam").create_role(
        RoleName="admin", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": a.account_id}, "Action": "sts:AssumeRole"}]}))
    own = sts.assume_role(RoleArn=f"arn:aws:iam::{a.account_id}:role/admin", RoleSessionName="probe")
    assert own["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{a.account_id}:")
    b_unchanged(b, state)


def test_query_sns_by_another_accounts_arn_is_refused(sandbox_stack, two):
    a, b, state = two
    sns = emulator_client(sandbox_stack.socket_path, a.account_id, "sns")
    denied(lambda: sns.set_topic_attributes(TopicArn=state["topic"], AttributeName="DisplayName", AttributeValue="pwned"))
    denied(lambda: sns.publish(TopicArn=state["topic"], Message="from A"))
    denied(lambda: sns.delete_topic(TopicArn=state["topic"]))
    denied(lambda: sns.publish(TopicArn=f"arn:aws:sns:us-east-1:{MADE_UP}:t", Message="x"))
    assert MADE_UP not in stats(sandbox_stack)
    b_unchanged(b, state)


def test_query_access_key_lookups_never_resolve_to_another_account(sandbox_stack, two):
    """moto finds an access key's account by scanning every account: under the guard it sees A only."""
    a, b, state = two
    sts = emulator_client(sandbox_stack.socket_path, a.account_id, "sts")
    assert sts.get_access_key_info(AccessKeyId=state["b_user_key"])["Account"] == a.account_id
    iam = emulator_client(sandbox_stack.socket_path, a.account_id, "iam")
    with pytest.raises(ClientError) as caught:
        iam.get_access_key_last_used(AccessKeyId=state["b_user_key"])
    assert b.account_id not in json.dumps(caught.value.response, default=str)
    assert [u["UserName"] for u in iam.list_users()["Users"]] == []


def test_cross_region_in_the_same_account_still_works(sandbox_stack, two):
    """CopySnapshot reads the source region's backend of the same account: allowed."""
    a, _b, _state = two
    west = emulator_client(sandbox_stack.socket_path, a.account_id, "ec2", region="eu-west-1")
    volume = west.create_volume(AvailabilityZone="eu-west-1a", Size=1)["VolumeId"]
    snapshot = west.create_snapshot(VolumeId=volume)["SnapshotId"]
    east = emulator_client(sandbox_stack.socket_path, a.account_id, "ec2")
    copied = east.copy_snapshot(SourceRegion="eu-west-1", SourceSnapshotId=snapshot)["SnapshotId"]
    assert east.describe_snapshots(SnapshotIds=[copied])["Snapshots"][0]["VolumeId"] == volume


# --- JSON -------------------------------------------------------------------------------------------


def test_json_logs_subscription_to_another_accounts_group_is_refused(sandbox_stack, two):
    a, b, state = two
    logs = emulator_client(sandbox_stack.socket_path, a.account_id, "logs")
    logs.create_log_group(logGroupName="a-group")
    denied(
        lambda: logs.put_subscription_filter(
            logGroupName="a-group",
            filterName="to-b",
            filterPattern="",
            destinationArn=f"arn:aws:logs:us-east-1:{b.account_id}:log-group:b-group",
        )
    )
    b_unchanged(b, state)


def test_json_events_delivery_into_another_accounts_bus_is_refused(sandbox_stack, two):
    a, b, state = two
    events = emulator_client(sandbox_stack.socket_path, a.account_id, "events")
    events.put_rule(Name="to-b", EventPattern=json.dumps({"source": ["lab.test"]}))
    events.put_targets(Rule="to-b", Targets=[{"Id": "1", "Arn": state["bus"]}])
    denied(lambda: events.put_events(Entries=[{"Source": "lab.test", "DetailType": "d", "Detail": "{}"}]))
    events.remove_targets(Rule="to-b", Ids=["1"])
    b_unchanged(b, state)


def test_json_sqs_by_another_accounts_url_finds_nothing(sandbox_stack, two):
    a, b, state = two
    sqs = emulator_client(sandbox_stack.socket_path, a.account_id, "sqs")
    with pytest.raises(ClientError) as caught:
        sqs.send_message(QueueUrl=state["queue"], MessageBody="from A")
    assert caught.value.response["Error"]["Code"] in ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue")
    b_unchanged(b, state)


# --- rest-json --------------------------------------------------------------------------------------


def test_rest_json_lambda_code_from_another_accounts_bucket_is_refused(sandbox_stack, two):
    a, b, state = two
    lam = emulator_client(sandbox_stack.socket_path, a.account_id, "lambda")
    denied(
        lambda: lam.create_function(
            FunctionName="steal",
            Runtime="python3.12",
            Role=f"arn:aws:iam::{a.account_id}:role/r",
            Handler="h.h",
            Code={"S3Bucket": state["bucket"], "S3Key": "secret.txt"},
        )
    )
    b_unchanged(b, state)


# --- rest-xml ---------------------------------------------------------------------------------------


def test_rest_xml_s3_by_another_accounts_bucket_name_is_refused(sandbox_stack, two):
    a, b, state = two
    s3 = emulator_client(sandbox_stack.socket_path, a.account_id, "s3")
    denied(lambda: s3.get_object(Bucket=state["bucket"], Key="secret.txt"))
    denied(lambda: s3.put_object(Bucket=state["bucket"], Key="planted.txt", Body=b"x"))
    denied(lambda: s3.put_bucket_policy(Bucket=state["bucket"], Policy=json.dumps({"Version": "2012-10-17", "Statement": []})))
    denied(lambda: s3.copy_object(Bucket=f"a-own-{a.account_id}", Key="copy", CopySource={"Bucket": state["bucket"], "Key": "secret.txt"}))
    # Configuration that names B's resources is A's own business; nothing of it reaches B.
    s3.put_bucket_notification_configuration(
        Bucket=f"a-own-{a.account_id}",
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": f"arn:aws:sqs:us-east-1:{b.account_id}:b-queue", "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    s3.put_object(Bucket=f"a-own-{a.account_id}", Key="trigger", Body=b"x")
    b_unchanged(b, state)


def test_rest_xml_route53_another_accounts_zone_is_not_found(sandbox_stack, two):
    a, b, state = two
    route53 = emulator_client(sandbox_stack.socket_path, a.account_id, "route53")
    with pytest.raises(ClientError) as caught:
        route53.get_hosted_zone(Id=state["zone"])
    assert caught.value.response["Error"]["Code"] == "NoSuchHostedZone"
    assert b.client("route53").get_hosted_zone(Id=state["zone"])["HostedZone"]["Name"] == "b.example.com."


# --- ec2 --------------------------------------------------------------------------------------------


def test_ec2_peering_into_another_account_is_refused(sandbox_stack, two):
    a, b, state = two
    ec2 = emulator_client(sandbox_stack.socket_path, a.account_id, "ec2")
    own_vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    denied(lambda: ec2.create_vpc_peering_connection(VpcId=own_vpc, PeerVpcId=state["vpc"], PeerOwnerId=b.account_id))
    denied(lambda: ec2.create_vpc_peering_connection(VpcId=own_vpc, PeerVpcId="vpc-12345678", PeerOwnerId=MADE_UP))
    assert MADE_UP not in stats(sandbox_stack)
    b_unchanged(b, state)


def test_ec2_public_amis_are_still_visible_and_owner_filters_stay_in_the_account(sandbox_stack, two):
    """AWS-owned AMIs live in each account's own EC2 backend (owner 137112412989 is a label there)."""
    a, b, _state = two
    ec2 = emulator_client(sandbox_stack.socket_path, a.account_id, "ec2")
    amazon = ec2.describe_images(Owners=["amazon"])["Images"]
    assert amazon
    instance = ec2.run_instances(ImageId=amazon[0]["ImageId"], MinCount=1, MaxCount=1)["Instances"][0]
    assert instance["State"]["Name"] in ("pending", "running")
    assert ec2.describe_images(Owners=[b.account_id])["Images"] == []
    # B's snapshot id names nothing in A's account.
    b_volume = b.client("ec2").create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    b_snapshot = b.client("ec2").create_snapshot(VolumeId=b_volume)["SnapshotId"]
    with pytest.raises(ClientError) as caught:
        ec2.copy_snapshot(SourceRegion="us-east-1", SourceSnapshotId=b_snapshot)
    assert caught.value.response["Error"]["Code"] == "InvalidSnapshot.NotFound"
    assert b.client("ec2").describe_snapshots(SnapshotIds=[b_snapshot])["Snapshots"][0]["VolumeId"] == b_volume


# --- smithy-rpc-v2-cbor, and requests without one valid account ----------------------------------------


def test_requests_without_a_valid_account_are_refused_in_their_protocol(sandbox_stack, two):
    """moto would otherwise put them in an account of its choosing (the key's, or its default)."""
    before = stats(sandbox_stack)
    for account in (None, "not-an-account", "12345"):
        cloudwatch = emulator_client(sandbox_stack.socket_path, account, "cloudwatch")
        assert cloudwatch.meta.service_model.protocol == "smithy-rpc-v2-cbor"
        denied(lambda: cloudwatch.list_metrics())
        denied(lambda: emulator_client(sandbox_stack.socket_path, account, "sqs").list_queues())
        denied(lambda: emulator_client(sandbox_stack.socket_path, account, "s3").list_buckets())
        denied(lambda: emulator_client(sandbox_stack.socket_path, account, "lambda").list_functions())
        denied(lambda: emulator_client(sandbox_stack.socket_path, account, "ec2").describe_vpcs())
        denied(lambda: emulator_client(sandbox_stack.socket_path, account, "route53").list_hosted_zones())
        denied(lambda: emulator_client(sandbox_stack.socket_path, account, "sts").get_caller_identity())
    assert stats(sandbox_stack) <= before


def test_admin_routes_still_reset_any_account(sandbox_stack, two):
    """Platform work (the /_sandbox routes) runs outside any request's guard."""
    from labapp.sandbox import client as sandbox

    from labapp.sandbox.credentials import new_account_id

    with_state = new_account_id()
    emulator_client(sandbox_stack.socket_path, with_state, "sns").create_topic(Name="t")
    assert with_state in stats(sandbox_stack)
    sandbox.reset_account(with_state)
    assert with_state not in stats(sandbox_stack)


def test_work_moto_does_in_a_thread_is_held_to_the_requests_account(two, sandbox_stack):
    """DynamoDB's export to S3 runs in a thread of moto's own and writes to the bucket owner it is told."""
    import time

    a, b, state = two
    dynamodb = emulator_client(sandbox_stack.socket_path, a.account_id, "dynamodb")
    table = dynamodb.create_table(
        TableName="a-table", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    dynamodb.update_continuous_backups(
        TableName="a-table", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    dynamodb.put_item(TableName="a-table", Item={"k": {"S": "from-a"}})
    before = stats(sandbox_stack)
    for owner in (b.account_id, MADE_UP):
        try:
            dynamodb.export_table_to_point_in_time(
                TableArn=table["TableArn"], S3Bucket=state["bucket"], S3BucketOwner=owner, S3Prefix="pwned")
        except ClientError:
            pass  # refused at once is fine too; what matters is what lands
    time.sleep(2)  # the export thread's time to write
    keys = [o["Key"] for o in b.client("s3").list_objects_v2(Bucket=state["bucket"]).get("Contents", [])]
    assert keys == ["secret.txt"]
    assert stats(sandbox_stack) <= before | {a.account_id}
    assert MADE_UP not in stats(sandbox_stack)


def raw(socket_path: str, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, bytes]:
    conn = _UnixConnection(socket_path)
    try:
        conn.request(method, path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_an_unsigned_request_runs_only_as_s3(two, sandbox_stack):
    """moto routes an unsigned `/glacier_<region>/...` path to Glacier; the gateway let it through as an
    anonymous S3 read of the bucket in the Host."""
    a, b, _state = two
    b.client("glacier").create_vault(vaultName="b-vault")
    status, body = raw(sandbox_stack.socket_path, "GET", "/glacier_us-east-1/vaults", {
        "Host": "localhost", "x-moto-account-id": b.account_id, "x-lab-anonymous": "1"})
    assert status == 403 and b"b-vault" not in body


def test_an_encoded_body_never_reaches_a_service_that_would_decode_it(two, sandbox_stack):
    """Signed as S3 and sent to a path moto gives S3 Control, a gzip body would be inflated without limit."""
    import gzip

    a, _b, _state = two
    bomb = gzip.compress(b"<PublicAccessBlockConfiguration>" + b" " * 2_000_000 + b"</PublicAccessBlockConfiguration>")
    status, _body = raw(sandbox_stack.socket_path, "PUT", "/v20180820/configuration/publicAccessBlock", {
        "Host": "localhost", "x-moto-account-id": a.account_id, "Content-Encoding": "gzip",
        "x-amz-account-id": a.account_id,
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/s3/aws4_request, "
                         "SignedHeaders=host, Signature=" + "0" * 64,
    }, bomb)
    assert status == 403
