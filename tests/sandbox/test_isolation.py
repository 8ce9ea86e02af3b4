"""Adversarial matrix: learner A tries to reach learner B's sandbox (or the emulator's admin API).

Every case must be refused, or confined to A's own account with B's state unchanged. The sandboxes are
made once for the module (committed rows; no test here touches the database itself).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox, signed_request


@dataclass
class World:
    a: object
    b: object
    ended: object
    throttled: object
    b_bucket: str
    b_topic: str
    b_bus_arn: str
    b_vpc: str
    b_queue_url: str
    url: str


@pytest.fixture(scope="module")
def world(sandbox_stack, django_db_blocker):
    from labapp.labs.models import LabSession

    with django_db_blocker.unblock():
        a = make_sandbox(sandbox_stack.url)
        b = make_sandbox(sandbox_stack.url)
        ended = make_sandbox(sandbox_stack.url, status=LabSession.Status.ENDED)
        throttled = make_sandbox(sandbox_stack.url)
    b_bucket = f"private-{b.account_id}"
    s3 = b.client("s3")
    s3.create_bucket(Bucket=b_bucket)
    s3.put_object(Bucket=b_bucket, Key="secret.txt", Body=b"B-SECRET")
    topic = b.client("sns").create_topic(Name="b-topic")["TopicArn"]
    bus = b.client("events").create_event_bus(Name="b-bus")["EventBusArn"]
    vpc = b.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    queue = b.client("sqs").create_queue(QueueName="b-queue")["QueueUrl"]
    b.client("iam").create_user(UserName="b-user")
    yield World(a, b, ended, throttled, b_bucket, topic, bus, vpc, queue, sandbox_stack.url)
    with django_db_blocker.unblock():
        for sandbox in (a, b, ended, throttled):
            sandbox.session.delete()


def refused(call, codes=None):
    """The call must fail with an AWS error (optionally one of `codes`)."""
    try:
        call()
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        assert codes is None or code in codes, f"refused with {code}, expected one of {codes}"
        return code
    raise AssertionError("the call succeeded; it should have been refused")


def b_still_intact(w: World):
    body = w.b.client("s3").get_object(Bucket=w.b_bucket, Key="secret.txt")["Body"].read()
    assert body == b"B-SECRET"
    assert [o["Key"] for o in w.b.client("s3").list_objects_v2(Bucket=w.b_bucket)["Contents"]] == ["secret.txt"]
    attributes = w.b.client("sns").get_topic_attributes(TopicArn=w.b_topic)["Attributes"]
    assert attributes.get("DisplayName", "") == ""


def raw(w: World, sandbox, method, url, service, **kw):
    return signed_request(w.url, key=sandbox.key, secret=sandbox.secret, method=method, url=url, service=service, **kw)


# --- S3 --------------------------------------------------------------------------------------


def s3_get_path_style(w):
    refused(lambda: w.a.client("s3").get_object(Bucket=w.b_bucket, Key="secret.txt"))


def s3_list_objects(w):
    refused(lambda: w.a.client("s3").list_objects_v2(Bucket=w.b_bucket))


def s3_head_bucket(w):
    refused(lambda: w.a.client("s3").head_bucket(Bucket=w.b_bucket))


def s3_put_into_b(w):
    refused(lambda: w.a.client("s3").put_object(Bucket=w.b_bucket, Key="pwned.txt", Body=b"x"))


def s3_put_bucket_policy(w):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{w.b_bucket}/*"}]})
    refused(lambda: w.a.client("s3").put_bucket_policy(Bucket=w.b_bucket, Policy=policy))


def s3_get_virtual_host(w):
    status, body = raw(w, w.a, "GET", f"http://{w.b_bucket}.s3.amazonaws.com/secret.txt", "s3")
    assert status == 403 and b"B-SECRET" not in body


def s3_copy_from_b(w):
    s3 = w.a.client("s3")
    own = f"own-{w.a.account_id}"
    s3.create_bucket(Bucket=own)
    refused(lambda: s3.copy_object(Bucket=own, Key="stolen", CopySource={"Bucket": w.b_bucket, "Key": "secret.txt"}))
    assert "Contents" not in s3.list_objects_v2(Bucket=own)


def s3_presigned_v4_by_a(w):
    url = w.a.client("s3", signature_version="s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": w.b_bucket, "Key": "secret.txt"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(url)
    assert error.value.code == 403


def s3_presigned_v2_by_a(w):
    url = w.a.client("s3").generate_presigned_url("get_object", Params={"Bucket": w.b_bucket, "Key": "secret.txt"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(url)
    assert error.value.code == 403


def s3_anonymous_get_private(w):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{w.url}/{w.b_bucket}/secret.txt")
    assert error.value.code == 403


def s3_anonymous_list(w):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{w.url}/{w.b_bucket}")
    assert error.value.code == 403


def s3_delete_b_bucket_namespace_intact(w):
    refused(lambda: w.a.client("s3").delete_bucket(Bucket=w.b_bucket))
    w.b.client("s3").head_bucket(Bucket=w.b_bucket)
    # The global name map still says B owns it: A cannot take the name over.
    refused(lambda: w.a.client("s3").create_bucket(Bucket=w.b_bucket))


def s3_list_buckets_shows_only_own(w):
    names = [b["Name"] for b in w.a.client("s3").list_buckets()["Buckets"]]
    assert w.b_bucket not in names


# --- ARN-addressed services -------------------------------------------------------------------


def sts_assume_role_into_b(w):
    refused(lambda: w.a.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{w.b.account_id}:role/anything", RoleSessionName="xx"), {"AccessDenied"})


def sts_assume_role_with_web_identity_into_b(w):
    refused(lambda: w.a.client("sts").assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{w.b.account_id}:role/x", RoleSessionName="xx", WebIdentityToken="t" * 20))


def sns_publish_to_b(w):
    refused(lambda: w.a.client("sns").publish(TopicArn=w.b_topic, Message="hi"), {"AccessDenied"})


def sns_delete_b_topic(w):
    refused(lambda: w.a.client("sns").delete_topic(TopicArn=w.b_topic), {"AccessDenied"})
    w.b.client("sns").get_topic_attributes(TopicArn=w.b_topic)


def sns_set_attributes_on_b(w):
    refused(lambda: w.a.client("sns").set_topic_attributes(
        TopicArn=w.b_topic, AttributeName="DisplayName", AttributeValue="pwned"), {"AccessDenied"})


def sns_subscribe_to_b(w):
    refused(lambda: w.a.client("sns").subscribe(TopicArn=w.b_topic, Protocol="email", Endpoint="a@example.com"))


def events_put_targets_to_b_bus(w):
    events = w.a.client("events")
    events.put_rule(Name="to-b", EventPattern=json.dumps({"source": ["x"]}))
    refused(lambda: events.put_targets(Rule="to-b", Targets=[{"Id": "1", "Arn": w.b_bus_arn}]), {"AccessDenied"})


def rds_replica_from_b(w):
    refused(lambda: w.a.client("rds").create_db_instance_read_replica(
        DBInstanceIdentifier="replica",
        SourceDBInstanceIdentifier=f"arn:aws:rds:us-east-1:{w.b.account_id}:db:b-db"), {"AccessDenied"})


def logs_subscription_to_b(w):
    logs = w.a.client("logs")
    logs.create_log_group(logGroupName="a-group")
    refused(lambda: logs.put_subscription_filter(
        logGroupName="a-group", filterName="f", filterPattern="",
        destinationArn=f"arn:aws:logs:us-east-1:{w.b.account_id}:destination:d"), {"AccessDenied"})


def ec2_peering_with_b(w):
    ec2 = w.a.client("ec2")
    own_vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    refused(lambda: ec2.create_vpc_peering_connection(VpcId=own_vpc, PeerVpcId=w.b_vpc, PeerOwnerId=w.b.account_id),
            {"AccessDenied"})
    assert w.b.client("ec2").describe_vpc_peering_connections()["VpcPeeringConnections"] == []


def ec2_describe_b_vpc(w):
    refused(lambda: w.a.client("ec2").describe_vpcs(VpcIds=[w.b_vpc]))


def sqs_b_queue_url(w):
    refused(lambda: w.a.client("sqs").get_queue_attributes(QueueUrl=w.b_queue_url, AttributeNames=["All"]))


def iam_b_user(w):
    refused(lambda: w.a.client("iam").get_user(UserName="b-user"), {"NoSuchEntity"})


# --- forged account headers -------------------------------------------------------------------


def _forged_list_buckets(w, forged_headers):
    status, body = raw(w, w.a, "GET", "http://s3.amazonaws.com/", "s3", unsigned_headers=forged_headers)
    assert status == 200, body
    assert w.b_bucket.encode() not in body


def forged_header_lower(w):
    _forged_list_buckets(w, [("x-moto-account-id", w.b.account_id)])


def forged_header_title(w):
    _forged_list_buckets(w, [("X-Moto-Account-Id", w.b.account_id)])


def forged_header_upper(w):
    _forged_list_buckets(w, [("X-MOTO-ACCOUNT-ID", w.b.account_id)])


def forged_header_underscores(w):
    _forged_list_buckets(w, [("x_moto_account_id", w.b.account_id)])


def forged_header_duplicates(w):
    _forged_list_buckets(w, [("x-moto-account-id", w.b.account_id), ("X-Moto-Account-Id", w.b.account_id)])


def forged_header_signed(w):
    status, body = raw(w, w.a, "GET", "http://s3.amazonaws.com/", "s3", headers={"x-moto-account-id": w.b.account_id})
    assert status == 200 and w.b_bucket.encode() not in body


# --- the emulator's admin surface --------------------------------------------------------------

ADMIN_TARGETS = [
    ("GET", "/moto-api/data.json", "localhost"),
    ("POST", "/moto-api/reset", "localhost"),
    ("GET", "//moto-api/data.json", "localhost"),
    ("GET", "/%2Fmoto-api/data.json", "localhost"),
    ("GET", "/%6Doto-api/data.json", "localhost"),
    ("GET", "/%252Fmoto-api/data.json", "localhost"),
    ("GET", "/./moto-api/data.json", "localhost"),
    ("GET", "/x/../moto-api/data.json", "localhost"),
    ("GET", "/moto-api%2Fdata.json", "localhost"),
    ("POST", "/MOTO-API/reset", "localhost"),
    ("GET", "/data.json", "motoapi.amazonaws.com"),
    ("POST", "/reset", "MotoAPI.amazonaws.com:4566"),
    ("GET", "/favicon.ico", "localhost"),
    ("GET", "/_sandbox/stats", "localhost"),
    ("POST", "/_sandbox/accounts/111111111111/reset", "localhost"),
    ("GET", "/_sandbox/buckets/x/owner", "localhost"),
    ("GET", "http://motoapi.amazonaws.com/moto-api/data.json", "localhost"),
]


@pytest.mark.parametrize(("method", "target", "host"), ADMIN_TARGETS, ids=[f"{m} {t} @{h}" for m, t, h in ADMIN_TARGETS])
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "anonymous"])
def test_admin_api_is_refused(world, method, target, host, signed):
    status, body = signed_request(
        world.url, key=world.a.key, secret=world.a.secret, method=method, url=f"http://{host}/",
        service="s3", raw_path=target, sign=signed,
    )
    assert status in (400, 403), (status, body[:300])
    assert world.b_bucket.encode() not in body
    b_still_intact(world)


# --- credentials and limits --------------------------------------------------------------------


def sts_get_session_token(w):
    refused(lambda: w.a.client("sts").get_session_token(), {"AccessDenied"})


def sts_get_federation_token(w):
    refused(lambda: w.a.client("sts").get_federation_token(Name="xx"), {"AccessDenied"})


def sts_get_access_key_info(w):
    refused(lambda: w.a.client("sts").get_access_key_info(AccessKeyId=w.b.key), {"AccessDenied"})


def unknown_key(w):
    refused(lambda: w.a.client("iam", key="AKIA" + "Z" * 16).list_users(), {"InvalidClientTokenId"})


def wrong_secret(w):
    refused(lambda: w.a.client("iam", secret="x" * 40).list_users(), {"SignatureDoesNotMatch"})
    refused(lambda: w.a.client("s3", secret="x" * 40).list_buckets(), {"SignatureDoesNotMatch"})


def expired_presigned_url(w):
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    own = f"own-{w.a.account_id}"
    w.a.client("s3").create_bucket(Bucket=own)
    w.a.client("s3").put_object(Bucket=own, Key="k", Body=b"v")
    request = AWSRequest(method="GET", url=f"{w.url}/{own}/k")
    S3SigV4QueryAuth(Credentials(w.a.key, w.a.secret), "s3", "us-east-1", expires=1).add_auth(request)
    urllib.request.urlopen(request.url).read()  # valid while fresh
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request.url)
    assert error.value.code == 403 and b"expired" in error.value.read()


def ended_session_key(w):
    refused(lambda: w.ended.client("s3").list_buckets(), {"InvalidAccessKeyId"})
    refused(lambda: w.ended.client("iam").list_users(), {"InvalidClientTokenId"})


def region_outside_allowlist(w):
    refused(lambda: w.a.client("ec2", region="eu-west-3").describe_vpcs())
    refused(lambda: w.a.client("sqs", region="ap-south-1").list_queues())


def oversized_body(w):
    from django.conf import settings

    status, _ = raw(w, w.a, "PUT", f"http://s3.amazonaws.com/own-{w.a.account_id}/big", "s3",
                    body=b"x" * (settings.LAB_GATEWAY_MAX_BODY + 1))
    assert status == 413


def rate_limit_burst(w):
    s3 = w.throttled.client("s3")
    codes = []
    throttled = threading.Event()
    deadline = time.monotonic() + 60

    def hammer():
        # Until the limit bites: how many calls that takes depends on how fast this machine makes them
        # (the bucket refills at 50/s), so a fixed count passed or failed with the machine's load.
        while not throttled.is_set() and time.monotonic() < deadline:
            try:
                s3.list_buckets()
                codes.append("ok")
            except ClientError as exc:
                codes.append(exc.response["Error"]["Code"])
                if codes[-1] == "SlowDown":
                    throttled.set()

    threads = [threading.Thread(target=hammer) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "SlowDown" in codes, codes[-5:]
    assert codes.count("ok") >= 150  # the burst itself went through
    time.sleep(1)


def moto_issued_keys_stay_in_their_account(w):
    """Keys A mints inside its sandbox (IAM user keys, AssumeRole) work, and only ever reach A."""
    iam = w.a.client("iam")
    iam.create_user(UserName="minted")
    minted = iam.create_access_key(UserName="minted")["AccessKey"]
    identity = w.a.client("sts", key=minted["AccessKeyId"], secret=minted["SecretAccessKey"]).get_caller_identity()
    assert identity["Account"] == w.a.account_id
    refused(lambda: w.a.client("s3", key=minted["AccessKeyId"], secret="y" * 40).list_buckets(),
            {"SignatureDoesNotMatch"})
    # IAM decides for minted keys (labapp/sandbox/authorization): the role trusts its account and may list.
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": w.a.account_id}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName="r", PolicyName="list", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}))
    creds = w.a.client("sts").assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="ss")["Credentials"]
    assumed = w.a.client("s3", key=creds["AccessKeyId"], secret=creds["SecretAccessKey"], )
    names = [b["Name"] for b in assumed.list_buckets()["Buckets"]]
    assert w.b_bucket not in names


CASES = [
    s3_get_path_style, s3_list_objects, s3_head_bucket, s3_put_into_b, s3_put_bucket_policy, s3_get_virtual_host,
    s3_copy_from_b, s3_presigned_v4_by_a, s3_presigned_v2_by_a, s3_anonymous_get_private, s3_anonymous_list,
    s3_delete_b_bucket_namespace_intact, s3_list_buckets_shows_only_own, sts_assume_role_into_b,
    sts_assume_role_with_web_identity_into_b, sns_publish_to_b, sns_delete_b_topic, sns_set_attributes_on_b,
    sns_subscribe_to_b, events_put_targets_to_b_bus, rds_replica_from_b, logs_subscription_to_b, ec2_peering_with_b,
    ec2_describe_b_vpc, sqs_b_queue_url, iam_b_user, forged_header_lower, forged_header_title, forged_header_upper,
    forged_header_underscores, forged_header_duplicates, forged_header_signed, sts_get_session_token,
    sts_get_federation_token, sts_get_access_key_info, unknown_key, wrong_secret, expired_presigned_url,
    ended_session_key, region_outside_allowlist, oversized_body, rate_limit_burst,
    moto_issued_keys_stay_in_their_account,
]


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
def test_cross_account_attempt_is_refused_or_confined(world, case):
    case(world)
    b_still_intact(world)
