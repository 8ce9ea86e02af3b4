"""IAM decides in every sandbox for every principal but the lab session's own key: real boto3 calls through
the gateway with IAM users' keys and STS credentials."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.sandbox.helpers import LEARNER_CONFIG, make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

S3_FULL = "arn:aws:iam::aws:policy/AmazonS3FullAccess"


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


class Keys:
    def __init__(self, box, key, secret, token=None):
        self.box, self.key, self.secret, self.token = box, key, secret, token

    def client(self, service, region="us-east-1"):
        return boto3.client(
            service,
            endpoint_url=self.box.gateway_url,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            aws_session_token=self.token,
            region_name=region,
            config=LEARNER_CONFIG,
        )


def user_keys(box, name: str, *, attach=(), inline=None) -> Keys:
    iam = box.client("iam")
    iam.create_user(UserName=name)
    for arn in attach:
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
    created = iam.create_access_key(UserName=name)["AccessKey"]
    return Keys(box, created["AccessKeyId"], created["SecretAccessKey"])


def session_keys(box, credentials) -> Keys:
    return Keys(box, credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])


def denied(call, *args, code="AccessDenied", **kwargs) -> str:
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    error = raised.value.response["Error"]
    assert error["Code"] == code, error
    return error.get("Message", "")


@pytest.fixture
def box(sandbox_stack):
    return make_sandbox(sandbox_stack.url)


def test_the_issue_example_nobody_needs_a_policy_and_loses_it_on_the_next_call(box):
    nobody = user_keys(box, "nobody")
    bucket = f"nobody-{uuid.uuid4().hex[:8]}"
    message = denied(nobody.client("s3").create_bucket, Bucket=bucket)
    assert (
        f"arn:aws:iam::{box.account_id}:user/nobody is not authorized to perform: s3:CreateBucket" in message
    )
    assert "no identity-based policy allows" in message

    box.client("iam").attach_user_policy(UserName="nobody", PolicyArn=S3_FULL)
    nobody.client("s3").create_bucket(Bucket=bucket)
    nobody.client("s3").put_object(Bucket=bucket, Key="k", Body=b"x")

    box.client("iam").detach_user_policy(UserName="nobody", PolicyArn=S3_FULL)
    denied(nobody.client("s3").put_object, Bucket=bucket, Key="k2", Body=b"x")
    # The sandbox's administrator (the session's own key) is never evaluated.
    box.client("s3").put_object(Bucket=bucket, Key="k2", Body=b"x")


def test_caller_identity_names_the_user_and_the_role_session(box):
    bob = user_keys(box, "bob")
    me = bob.client("sts").get_caller_identity()  # needs no permission
    assert me["Arn"] == f"arn:aws:iam::{box.account_id}:user/bob"
    assert me["UserId"].startswith("AIDA") and me["Account"] == box.account_id

    iam = box.client("iam")
    role = iam.create_role(
        RoleName="reader",
        AssumeRolePolicyDocument=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{box.account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ),
    )["Role"]
    creds = box.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"]
    me = session_keys(box, creds).client("sts").get_caller_identity()
    assert me["Arn"] == f"arn:aws:sts::{box.account_id}:assumed-role/reader/s1"
    assert me["UserId"] == f"{role['RoleId']}:s1" and me["UserId"].startswith("AROA")


def test_an_explicit_deny_wins_over_full_access(box):
    bucket = f"deny-{uuid.uuid4().hex[:8]}"
    box.client("s3").create_bucket(Bucket=bucket)
    carol = user_keys(
        box, "carol", attach=[S3_FULL], inline=doc(deny("s3:DeleteObject", f"arn:aws:s3:::{bucket}/*"))
    )
    s3 = carol.client("s3")
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    assert s3.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"a"
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    message = denied(s3.delete_object, Bucket=bucket, Key="a.txt")
    assert "with an explicit deny in an identity-based policy" in message


def test_s3_permissions_are_the_ones_aws_names(box):
    bucket = f"names-{uuid.uuid4().hex[:8]}"
    s3_admin = box.client("s3")
    s3_admin.create_bucket(Bucket=bucket)
    s3_admin.put_object(Bucket=bucket, Key="reports/a.txt", Body=b"a")
    dave = user_keys(
        box,
        "dave",
        inline=doc(
            allow(
                "s3:ListBucket",
                f"arn:aws:s3:::{bucket}",
                Condition={"StringLike": {"s3:prefix": "reports/*"}},
            ),
            allow("s3:GetObject", f"arn:aws:s3:::{bucket}/reports/*"),
        ),
    )
    s3 = dave.client("s3")
    assert (
        s3.list_objects_v2(Bucket=bucket, Prefix="reports/")["KeyCount"] == 1
    )  # ListObjectsV2 = s3:ListBucket
    denied(s3.list_objects_v2, Bucket=bucket)  # no s3:prefix: the condition does not hold
    assert (
        s3.head_object(Bucket=bucket, Key="reports/a.txt")["ContentLength"] == 1
    )  # HeadObject = s3:GetObject
    assert s3.get_object(Bucket=bucket, Key="reports/a.txt")["Body"].read() == b"a"
    denied(s3.put_object, Bucket=bucket, Key="reports/b.txt", Body=b"b")
    denied(s3.get_bucket_versioning, Bucket=bucket)


def test_a_permissions_boundary_caps_the_role(box):
    iam = box.client("iam")
    boundary = iam.create_policy(
        PolicyName="only-s3-read",
        PolicyDocument=doc(allow(["s3:ListBucket", "s3:GetObject", "s3:ListAllMyBuckets"])),
    )["Policy"]["Arn"]
    role = iam.create_role(
        RoleName="capped",
        PermissionsBoundary=boundary,
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": box.account_id}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]
    iam.attach_role_policy(RoleName="capped", PolicyArn=S3_FULL)
    creds = box.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="bb")["Credentials"]
    s3 = session_keys(box, creds).client("s3")
    s3.list_buckets()
    message = denied(s3.create_bucket, Bucket=f"capped-{uuid.uuid4().hex[:8]}")
    assert "because no permissions boundary allows the s3:CreateBucket action" in message


def test_assume_role_needs_the_trust_policy_and_for_a_user_an_allow(box):
    iam = box.client("iam")
    trusted = iam.create_role(
        RoleName="trusted",
        AssumeRolePolicyDocument=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{box.account_id}:root"},
                "Action": "sts:AssumeRole",
            }
        ),
    )["Role"]["Arn"]
    ec2_only = iam.create_role(
        RoleName="ec2-only",
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    # The trust policy names the account: the user's own policy must allow too.
    erin = user_keys(box, "erin")
    message = denied(erin.client("sts").assume_role, RoleArn=trusted, RoleSessionName="ee")
    assert "sts:AssumeRole" in message and trusted in message
    iam.put_user_policy(UserName="erin", PolicyName="assume", PolicyDocument=doc(allow("sts:AssumeRole")))
    erin.client("sts").assume_role(RoleArn=trusted, RoleSessionName="ee")
    # A trust policy that does not name the caller: nobody gets in, the sandbox's administrator neither.
    denied(erin.client("sts").assume_role, RoleArn=ec2_only, RoleSessionName="ee")
    denied(box.client("sts").assume_role, RoleArn=ec2_only, RoleSessionName="admin")
    # A role that does not exist cannot be assumed.
    denied(
        box.client("sts").assume_role,
        RoleArn=f"arn:aws:iam::{box.account_id}:role/nope",
        RoleSessionName="xx",
    )
    # A trust policy naming the user itself suffices without any identity policy.
    iam.create_user(UserName="frank")
    iam.create_role(
        RoleName="for-frank",
        AssumeRolePolicyDocument=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{box.account_id}:user/frank"},
                "Action": "sts:AssumeRole",
            }
        ),
    )
    key = iam.create_access_key(UserName="frank")["AccessKey"]
    frank = Keys(box, key["AccessKeyId"], key["SecretAccessKey"])
    frank.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{box.account_id}:role/for-frank", RoleSessionName="ff"
    )


def test_a_session_policy_narrows_the_role(box):
    iam = box.client("iam")
    bucket = f"narrow-{uuid.uuid4().hex[:8]}"
    box.client("s3").create_bucket(Bucket=bucket)
    role = iam.create_role(
        RoleName="wide",
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": box.account_id}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    iam.attach_role_policy(RoleName="wide", PolicyArn=S3_FULL)
    creds = box.client("sts").assume_role(
        RoleArn=role, RoleSessionName="narrow", Policy=doc(allow("s3:ListBucket", f"arn:aws:s3:::{bucket}"))
    )["Credentials"]
    s3 = session_keys(box, creds).client("s3")
    s3.list_objects_v2(Bucket=bucket)
    message = denied(s3.put_object, Bucket=bucket, Key="k", Body=b"x")
    assert "because no session policy allows the s3:PutObject action" in message
    # Role chaining: the session assumes another role with its (wide) session credentials? Not allowed by the
    # narrowing policy, so refused.
    denied(session_keys(box, creds).client("sts").assume_role, RoleArn=role, RoleSessionName="chained")


def test_role_chaining_gives_the_second_role_its_own_permissions(box):
    iam = box.client("iam")
    first = iam.create_role(
        RoleName="first",
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": box.account_id}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    iam.put_role_policy(RoleName="first", PolicyName="assume", PolicyDocument=doc(allow("sts:AssumeRole")))
    second = iam.create_role(
        RoleName="second",
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": first}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="second", PolicyName="list", PolicyDocument=doc(allow("s3:ListAllMyBuckets"))
    )
    one = session_keys(
        box, box.client("sts").assume_role(RoleArn=first, RoleSessionName="one")["Credentials"]
    )
    denied(one.client("s3").list_buckets)
    two = session_keys(
        box, one.client("sts").assume_role(RoleArn=second, RoleSessionName="two")["Credentials"]
    )
    two.client("s3").list_buckets()
    assert two.client("sts").get_caller_identity()["Arn"].endswith(":assumed-role/second/two")


def test_a_bucket_policy_naming_the_user_grants_without_an_identity_policy(box):
    bucket = f"granted-{uuid.uuid4().hex[:8]}"
    s3_admin = box.client("s3")
    s3_admin.create_bucket(Bucket=bucket)
    s3_admin.put_object(Bucket=bucket, Key="shared.txt", Body=b"shared")
    grace = user_keys(box, "grace")
    denied(grace.client("s3").get_object, Bucket=bucket, Key="shared.txt")
    s3_admin.put_bucket_policy(
        Bucket=bucket,
        Policy=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{box.account_id}:user/grace"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ),
    )
    assert grace.client("s3").get_object(Bucket=bucket, Key="shared.txt")["Body"].read() == b"shared"
    message = denied(grace.client("s3").put_object, Bucket=bucket, Key="x", Body=b"x")
    assert "s3:PutObject" in message


def test_refusals_come_in_each_protocols_shape(box):
    nobody = user_keys(box, "shapes")
    # query (IAM): AccessDenied
    denied(nobody.client("iam").list_users)
    # JSON (KMS, SQS json): AccessDeniedException
    denied(nobody.client("kms").list_keys, code="AccessDeniedException")
    # EC2: UnauthorizedOperation with an encoded message the account can decode
    message = denied(nobody.client("ec2").describe_vpcs, code="UnauthorizedOperation")
    assert "Encoded authorization failure message: " in message
    encoded = message.rsplit("Encoded authorization failure message: ", 1)[1].strip()
    decoded = json.loads(
        box.client("sts").decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"]
    )
    assert decoded["allowed"] is False and decoded["context"]["action"] == "ec2:DescribeVpcs"


def test_sqs_sns_and_kms_resource_policies(box):
    sqs, sns, kms = box.client("sqs"), box.client("sns"), box.client("kms")
    hana = user_keys(box, "hana")
    user_arn = f"arn:aws:iam::{box.account_id}:user/hana"
    queue = sqs.create_queue(QueueName="orders")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:us-east-1:{box.account_id}:orders"
    denied(hana.client("sqs").send_message, QueueUrl=queue, MessageBody="x", code="AccessDenied")
    sqs.set_queue_attributes(
        QueueUrl=queue,
        Attributes={
            "Policy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": user_arn},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                }
            )
        },
    )
    hana.client("sqs").send_message(QueueUrl=queue, MessageBody="x")

    topic = sns.create_topic(Name="alerts")["TopicArn"]
    denied(hana.client("sns").publish, TopicArn=topic, Message="m")
    sns.set_topic_attributes(
        TopicArn=topic,
        AttributeName="Policy",
        AttributeValue=doc(
            {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sns:Publish", "Resource": topic}
        ),
    )
    hana.client("sns").publish(TopicArn=topic, Message="m")

    # A key with the default key policy: the account's IAM decides.
    default_key = kms.create_key()["KeyMetadata"]["KeyId"]
    denied(hana.client("kms").encrypt, KeyId=default_key, Plaintext=b"x", code="AccessDeniedException")
    box.client("iam").put_user_policy(
        UserName="hana", PolicyName="kms", PolicyDocument=doc(allow("kms:Encrypt"))
    )
    hana.client("kms").encrypt(KeyId=default_key, Plaintext=b"x")
    # A key policy that leaves the account out: an identity policy alone is not enough.
    locked = kms.create_key(
        Policy=doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:sts::{box.account_id}:assumed-role/LabAdministrator/learner"},
                "Action": "kms:*",
                "Resource": "*",
            }
        )
    )["KeyMetadata"]["KeyId"]
    denied(hana.client("kms").encrypt, KeyId=locked, Plaintext=b"x", code="AccessDeniedException")


def test_a_policy_naming_another_learners_account_grants_nothing_there(sandbox_stack):
    mine, theirs = make_sandbox(sandbox_stack.url), make_sandbox(sandbox_stack.url)
    bucket = f"theirs-{uuid.uuid4().hex[:8]}"
    theirs.client("s3").create_bucket(Bucket=bucket)
    theirs.client("s3").put_object(Bucket=bucket, Key="secret.txt", Body=b"secret")
    their_role = theirs.client("iam").create_role(
        RoleName="open",
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    # Naming the other account outright is refused before it is stored...
    mine.client("iam").create_user(UserName="mallory")
    with pytest.raises(ClientError):
        mine.client("iam").put_user_policy(
            UserName="mallory", PolicyName="theirs", PolicyDocument=doc(allow("sts:AssumeRole", their_role))
        )
    # ...and wildcards that would cover it grant nothing there.
    key = mine.client("iam").create_access_key(UserName="mallory")["AccessKey"]
    mallory = Keys(mine, key["AccessKeyId"], key["SecretAccessKey"])
    mine.client("iam").put_user_policy(
        UserName="mallory",
        PolicyName="wide",
        PolicyDocument=doc(
            allow("s3:*", ["arn:aws:s3:::theirs-*", "arn:aws:s3:::theirs-*/*"]), allow("sts:AssumeRole")
        ),
    )
    with pytest.raises(ClientError):
        mallory.client("s3").get_object(Bucket=bucket, Key="secret.txt")
    with pytest.raises(ClientError):
        mallory.client("sts").assume_role(RoleArn=their_role, RoleSessionName="mm")
    # The grant changes nothing in mallory's own sandbox either.
    denied(mallory.client("s3").list_buckets)


def test_mfa_session_tokens_satisfy_an_mfa_condition(box):
    iam = box.client("iam")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="ivy-mfa")["VirtualMFADevice"]["SerialNumber"]
    ivy = user_keys(
        box,
        "ivy",
        attach=[S3_FULL],
        inline=doc(deny("s3:*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})),
    )
    iam.enable_mfa_device(
        UserName="ivy", SerialNumber=device, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    denied(ivy.client("s3").list_buckets)  # long-term keys: the key is absent, IfExists -> denied
    plain = session_keys(box, ivy.client("sts").get_session_token()["Credentials"])
    denied(plain.client("s3").list_buckets)
    assert plain.client("sts").get_caller_identity()["Arn"].endswith(":user/ivy")
    strong = session_keys(
        box, ivy.client("sts").get_session_token(SerialNumber=device, TokenCode="123456")["Credentials"]
    )
    strong.client("s3").list_buckets()


def test_condition_keys_from_the_gateway(box):
    bucket = f"ip-{uuid.uuid4().hex[:8]}"
    box.client("s3").create_bucket(Bucket=bucket)
    jack = user_keys(
        box,
        "jack",
        attach=[S3_FULL],
        inline=doc(
            deny("s3:*", Condition={"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        ),
    )
    denied(jack.client("s3").list_objects_v2, Bucket=bucket)  # the gateway saw a loopback address
    iam = box.client("iam")
    iam.put_user_policy(
        UserName="jack",
        PolicyName="inline",
        PolicyDocument=doc(
            deny("s3:*", Condition={"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}),
            deny("s3:*", Condition={"Bool": {"aws:SecureTransport": "true"}}),
        ),
    )
    jack.client("s3").list_objects_v2(Bucket=bucket)


def test_a_denied_call_is_journaled_with_its_reason(box, sandbox_stack):
    from labapp.labs.models import ApiCall
    from labapp.sandbox import client as sandbox_client

    nobody = user_keys(box, "journaled")
    denied(nobody.client("iam").list_roles)
    sandbox_client.flush_journal()
    call = ApiCall.objects.filter(session=box.session, action="ListRoles").first()
    assert call is not None and call.status == 403 and call.error_code == "AccessDenied"
    assert "iam:ListRoles" in call.params.get("AccessDeniedReason", "")


def test_a_users_permissions_boundary_and_session_tags(box):
    iam = box.client("iam")
    boundary = iam.create_policy(
        PolicyName="no-delete", PolicyDocument=doc(allow("s3:*"), deny("s3:DeleteBucket"))
    )["Policy"]["Arn"]
    kim = user_keys(box, "kim", attach=[S3_FULL])
    iam.put_user_permissions_boundary(UserName="kim", PermissionsBoundary=boundary)
    assert iam.get_user(UserName="kim")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    bucket = f"kim-{uuid.uuid4().hex[:8]}"
    kim.client("s3").create_bucket(Bucket=bucket)
    assert "explicit deny in a permissions boundary" in denied(kim.client("s3").delete_bucket, Bucket=bucket)
    iam.delete_user_permissions_boundary(UserName="kim")
    kim.client("s3").delete_bucket(Bucket=bucket)

    # Session tags need sts:TagSession in the trust policy, and become aws:PrincipalTag keys.
    trust = {"Effect": "Allow", "Principal": {"AWS": box.account_id}, "Action": "sts:AssumeRole"}
    role = iam.create_role(RoleName="tagged", AssumeRolePolicyDocument=doc(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="tagged",
        PolicyName="by-tag",
        PolicyDocument=doc(
            allow("s3:ListAllMyBuckets", Condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}})
        ),
    )
    sts = box.client("sts")
    denied(sts.assume_role, RoleArn=role, RoleSessionName="tags", Tags=[{"Key": "team", "Value": "blue"}])
    iam.update_assume_role_policy(
        RoleName="tagged", PolicyDocument=doc({**trust, "Action": ["sts:AssumeRole", "sts:TagSession"]})
    )
    blue = session_keys(
        box,
        sts.assume_role(RoleArn=role, RoleSessionName="tags", Tags=[{"Key": "team", "Value": "blue"}])[
            "Credentials"
        ],
    )
    blue.client("s3").list_buckets()
    red = session_keys(
        box,
        sts.assume_role(RoleArn=role, RoleSessionName="tags", Tags=[{"Key": "team", "Value": "red"}])[
            "Credentials"
        ],
    )
    denied(red.client("s3").list_buckets)


def test_policy_variables_and_federated_users(box):
    bucket = f"homes-{uuid.uuid4().hex[:8]}"
    box.client("s3").create_bucket(Bucket=bucket)
    lee = user_keys(
        box,
        "lee",
        inline=doc(
            allow("s3:PutObject", f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*"),
            allow("sts:GetFederationToken", "*"),
            allow("s3:ListAllMyBuckets"),
        ),
    )
    lee.client("s3").put_object(Bucket=bucket, Key="home/lee/notes.txt", Body=b"mine")
    denied(lee.client("s3").put_object, Bucket=bucket, Key="home/max/notes.txt", Body=b"not mine")

    # GetFederationToken: the federated user has the intersection of lee's policies and the session policy.
    token = lee.client("sts").get_federation_token(Name="partner", Policy=doc(allow("s3:ListAllMyBuckets")))
    partner = session_keys(box, token["Credentials"])
    assert (
        partner.client("sts").get_caller_identity()["Arn"]
        == f"arn:aws:sts::{box.account_id}:federated-user/partner"
    )
    partner.client("s3").list_buckets()
    denied(partner.client("s3").put_object, Bucket=bucket, Key="home/lee/x.txt", Body=b"x")


def test_a_forged_caller_header_changes_nothing(box):
    from tests.sandbox.helpers import signed_request

    nobody = user_keys(box, "forger")
    forged = json.dumps({"kind": "session", "key": box.key, "ip": "203.0.113.9", "region": "us-east-1"})
    for name in ("x-lab-caller", "X-Lab-Caller", "x-lab-internal"):
        status, body = signed_request(
            box.gateway_url,
            key=nobody.key,
            secret=nobody.secret,
            method="GET",
            url="http://s3.amazonaws.com/",
            service="s3",
            unsigned_headers=[(name, forged)],
        )
        assert status == 403 and b"<Code>AccessDenied</Code>" in body, (name, body[:300])
    status, body = signed_request(
        box.gateway_url,
        key=nobody.key,
        secret=nobody.secret,
        method="GET",
        url="http://s3.amazonaws.com/",
        service="s3",
        headers={"x-lab-caller": forged},
    )  # signed, too
    assert status == 403 and b"s3:ListAllMyBuckets" in body


def test_bucket_policy_conditions_on_s3_request_headers(box):
    bucket = f"sse-{uuid.uuid4().hex[:8]}"
    box.client("s3").create_bucket(Bucket=bucket)
    box.client("s3").put_bucket_policy(
        Bucket=bucket,
        Policy=doc(
            {
                "Sid": "RequireSSE",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "AES256"}},
            }
        ),
    )
    lou = user_keys(box, "lou", attach=[S3_FULL])
    message = denied(lou.client("s3").put_object, Bucket=bucket, Key="plain.txt", Body=b"x")
    assert "with an explicit deny in a resource-based policy" in message
    lou.client("s3").put_object(Bucket=bucket, Key="sealed.txt", Body=b"x", ServerSideEncryption="AES256")


def test_a_policy_that_cannot_be_evaluated_refuses(box):
    bucket = f"broken-{uuid.uuid4().hex[:8]}"
    box.client("s3").create_bucket(Bucket=bucket)
    # moto stores bucket policies without validating them; AWS would have refused this one.
    box.client("s3").put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Perhaps",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    }
                ],
            }
        ),
    )
    box.client("s3").put_object(Bucket=bucket, Key="k", Body=b"x")
    mo = user_keys(box, "mo", attach=[S3_FULL])
    message = denied(mo.client("s3").get_object, Bucket=bucket, Key="k")
    assert "could not be evaluated" in message
    message = denied(mo.client("s3").put_object, Bucket=bucket, Key="new", Body=b"x")
    assert "could not be evaluated" in message


def test_a_browser_upload_signed_by_a_user_needs_s3_put_object_on_its_key(box):
    from tests.sandbox.test_canonical_requests import _multipart, _post_upload

    bucket = f"upload-{uuid.uuid4().hex[:8]}"
    box.client("s3").create_bucket(Bucket=bucket)
    uploader = user_keys(
        box, "uploader", inline=doc(allow("s3:PutObject", f"arn:aws:s3:::{bucket}/incoming/*"))
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=box.gateway_url,
        aws_access_key_id=uploader.key,
        aws_secret_access_key=uploader.secret,
        region_name="us-east-1",
        config=LEARNER_CONFIG.merge(Config(signature_version="s3v4")),
    )
    url = f"{box.gateway_url}/{bucket}"
    allowed = s3.generate_presigned_post(bucket, "incoming/${filename}")
    status, body = _post_upload(box.gateway_url, url, _multipart(list(allowed["fields"].items()), b"data"))
    assert status in (200, 204), body[:300]
    assert box.client("s3").get_object(Bucket=bucket, Key="incoming/f.txt")["Body"].read() == b"data"
    elsewhere = s3.generate_presigned_post(bucket, "other/x.txt")
    status, body = _post_upload(box.gateway_url, url, _multipart(list(elsewhere["fields"].items()), b"data"))
    assert status == 403 and b"s3:PutObject" in body, body[:300]


def test_launching_with_an_instance_profile_needs_iam_pass_role(box):
    iam = box.client("iam")
    role = iam.create_role(
        RoleName="app",
        AssumeRolePolicyDocument=doc(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    )["Role"]["Arn"]
    iam.create_instance_profile(InstanceProfileName="app")
    iam.add_role_to_instance_profile(InstanceProfileName="app", RoleName="app")
    image = box.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ops = user_keys(box, "ops", attach=["arn:aws:iam::aws:policy/AmazonEC2FullAccess"])
    iam.put_user_policy(UserName="ops", PolicyName="no-pass", PolicyDocument=doc(deny("iam:PassRole")))
    ec2 = ops.client("ec2")
    launch = dict(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    ec2.run_instances(**launch)  # no role handed over: no iam:PassRole needed
    message = denied(
        ec2.run_instances, IamInstanceProfile={"Name": "app"}, code="UnauthorizedOperation", **launch
    )
    assert f"iam:PassRole on resource: {role}" in message
    iam.put_user_policy(
        UserName="ops",
        PolicyName="no-pass",
        PolicyDocument=doc(
            allow(
                "iam:PassRole", role, Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
            )
        ),
    )
    ec2.run_instances(IamInstanceProfile={"Name": "app"}, **launch)


def test_assume_role_with_web_identity_is_decided_by_the_trust_policy_naming_the_provider(box):
    import base64

    def token(**claims):
        part = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
        return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"

    iam = box.client("iam")
    role = iam.create_role(
        RoleName="mobile",
        AssumeRolePolicyDocument=doc(
            {
                "Effect": "Allow",
                "Principal": {"Federated": "accounts.google.com"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"accounts.google.com:aud": "my-app"}},
            }
        ),
    )["Role"]["Arn"]
    from urllib.parse import urlencode

    from tests.sandbox.helpers import signed_request

    def assume(web_token):  # the gateway serves signed requests only: signed by the session's key
        body = urlencode(
            {
                "Action": "AssumeRoleWithWebIdentity",
                "Version": "2011-06-15",
                "RoleArn": role,
                "RoleSessionName": "web",
                "WebIdentityToken": web_token,
            }
        ).encode()
        return signed_request(
            box.gateway_url,
            key=box.key,
            secret=box.secret,
            method="POST",
            url="http://sts.amazonaws.com/",
            service="sts",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    status, body = assume(token(iss="https://accounts.google.com", aud="my-app", sub="123"))
    assert status == 200 and b"<AccessKeyId>" in body, body[:300]
    for wrong in (
        token(iss="https://accounts.google.com", aud="other-app", sub="123"),
        token(iss="https://graph.facebook.com", aud="my-app", sub="123"),
    ):
        status, body = assume(wrong)
        assert status == 403 and b"sts:AssumeRoleWithWebIdentity" in body, body[:300]


def test_run_instances_is_checked_on_each_resource_with_the_instance_type(box):
    image = box.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    region_arn = f"arn:aws:ec2:us-east-1:{box.account_id}"
    small_only = user_keys(
        box,
        "small",
        inline=doc(
            allow(
                "ec2:RunInstances",
                f"{region_arn}:instance/*",
                Condition={"StringEquals": {"ec2:InstanceType": "t3.micro"}},
            ),
            allow(
                "ec2:RunInstances",
                [
                    f"arn:aws:ec2:us-east-1::image/{image}",
                    f"{region_arn}:network-interface/*",
                    f"{region_arn}:volume/*",
                    f"{region_arn}:subnet/*",
                    f"{region_arn}:security-group/*",
                ],
            ),
            allow(
                "ec2:TerminateInstances",
                f"{region_arn}:instance/*",
                Condition={"StringEquals": {"aws:username": "nobody-else"}},
            ),
        ),
    )
    ec2 = small_only.client("ec2")
    launch = dict(ImageId=image, MinCount=1, MaxCount=1)
    instance = ec2.run_instances(InstanceType="t3.micro", **launch)["Instances"][0]["InstanceId"]
    message = denied(ec2.run_instances, InstanceType="m5.large", code="UnauthorizedOperation", **launch)
    assert f"on resource: {region_arn}:instance/*" in message
    message = denied(ec2.terminate_instances, InstanceIds=[instance], code="UnauthorizedOperation")
    assert f"{region_arn}:instance/{instance}" in message


def test_resource_tags_in_conditions(box):
    image = box.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2_admin = box.client("ec2")
    launch = dict(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1)

    def tagged(team):
        return ec2_admin.run_instances(
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": team}]}],
            **launch,
        )["Instances"][0]["InstanceId"]

    ours, theirs = tagged("blue"), tagged("red")
    blue = user_keys(
        box,
        "blue-ops",
        inline=doc(
            allow(
                ["ec2:StopInstances", "ec2:StartInstances"],
                "*",
                Condition={"StringEquals": {"aws:ResourceTag/team": "blue"}},
            )
        ),
    )
    blue.client("ec2").stop_instances(InstanceIds=[ours])
    denied(blue.client("ec2").stop_instances, InstanceIds=[theirs], code="UnauthorizedOperation")
    denied(blue.client("ec2").stop_instances, InstanceIds=[ours, theirs], code="UnauthorizedOperation")


def test_a_delegated_admin_may_create_users_only_with_the_required_boundary(box):
    """iam:PermissionsBoundary is the boundary a request sets, or the one the target user already has: the
    IAM User Guide's delegated-administrator pattern works with the admin's own keys."""
    iam = box.client("iam")
    boundary = iam.create_policy(PolicyName="dev-boundary", PolicyDocument=doc(allow("s3:*")))["Policy"]["Arn"]
    with_boundary = {"Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}}}
    admin = user_keys(box, "delegate", inline=doc(
        allow(["iam:CreateUser", "iam:AttachUserPolicy", "iam:PutUserPolicy"], "*", **with_boundary),
        allow(["iam:GetUser", "iam:DeleteUserPermissionsBoundary"], "*")))
    admin_iam = admin.client("iam")
    denied(admin_iam.create_user, UserName="no-boundary")
    other = iam.create_policy(PolicyName="other", PolicyDocument=doc(allow("*")))["Policy"]["Arn"]
    denied(admin_iam.create_user, UserName="wrong-boundary", PermissionsBoundary=other)
    admin_iam.create_user(UserName="dev1", PermissionsBoundary=boundary)
    # Attaching to a user with the boundary is allowed; to one without it (made by the sandbox admin), not.
    admin_iam.attach_user_policy(UserName="dev1", PolicyArn=S3_FULL)
    iam.create_user(UserName="free")
    denied(admin_iam.attach_user_policy, UserName="free", PolicyArn=S3_FULL)


def test_a_user_may_create_only_their_own_virtual_mfa_device(box):
    """CreateVirtualMFADevice is decided on arn:aws:iam::<account>:mfa/<name>, so the User Guide's
    "manage your own MFA device" policy (mfa/${aws:username}) works."""
    own = {"Effect": "Allow", "Action": "iam:CreateVirtualMFADevice",
           "Resource": f"arn:aws:iam::{box.account_id}:mfa/${{aws:username}}"}
    sam = user_keys(box, "sam", inline=json.dumps({"Version": "2012-10-17", "Statement": [own]}))
    sam.client("iam").create_virtual_mfa_device(VirtualMFADeviceName="sam")
    denied(sam.client("iam").create_virtual_mfa_device, VirtualMFADeviceName="someone-else")
