"""IAM entities created with a path: enforcement and the grader's iam.access use their real ARN
(user/apps/app-etl, role/apps/orders-app), and a lab's path-less role/<name> finds the role by name."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import make_sandbox
from tests.sandbox.test_authorization import allow, denied, doc, session_keys, user_keys

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def box(sandbox_stack):
    return make_sandbox(sandbox_stack.url)


def test_a_delegated_admin_limited_to_a_user_path_creates_users_there_only(box):
    acct = box.account_id
    dana = user_keys(
        box,
        "dana",
        inline=doc(allow(["iam:CreateUser", "iam:PutUserPolicy"], f"arn:aws:iam::{acct}:user/apps/*")),
    )
    iam = dana.client("iam")
    made = iam.create_user(Path="/apps/", UserName="app-etl")["User"]
    assert made["Arn"] == f"arn:aws:iam::{acct}:user/apps/app-etl"
    # An existing user is named by UserName only; its path comes from IAM.
    iam.put_user_policy(UserName="app-etl", PolicyName="p", PolicyDocument=doc(allow("s3:ListAllMyBuckets")))
    message = denied(iam.create_user, UserName="outsider")
    assert f"user/outsider" in message
    box.client("iam").create_user(UserName="root-user")
    denied(iam.put_user_policy, UserName="root-user", PolicyName="p", PolicyDocument=doc(allow("s3:*")))


def test_a_role_with_a_path_is_graded_by_its_name_and_assumed_by_its_real_arn(box):
    from labapp.grading.checks.sts import same_role
    from labapp.sandbox import client as sandbox_client

    acct = box.account_id
    iam = box.client("iam")
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "sts:AssumeRole"})
    role = iam.create_role(Path="/apps/", RoleName="orders-app", AssumeRolePolicyDocument=trust)["Role"]
    assert role["Arn"] == f"arn:aws:iam::{acct}:role/apps/orders-app"
    iam.put_role_policy(RoleName="orders-app", PolicyName="read", PolicyDocument=doc(allow("s3:ListAllMyBuckets")))
    assumed = box.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="test")["Credentials"]
    session_keys(box, assumed).client("s3").list_buckets()

    def allowed(principal, action, resource="*"):
        return sandbox_client.iam_access(acct, principal, action, resource)["allowed"]

    # The lab file can only write role/orders-app: found by name, evaluated with its policies.
    assert allowed(f"arn:aws:iam::{acct}:role/orders-app", "s3:ListAllMyBuckets")
    assert not allowed(f"arn:aws:iam::{acct}:role/orders-app", "s3:DeleteBucket")
    user_keys(box, "ops", inline=doc(allow("sts:AssumeRole")))
    assert allowed(f"arn:aws:iam::{acct}:user/ops", "sts:AssumeRole", f"arn:aws:iam::{acct}:role/orders-app")
    # sts.role_assumed compares account and role name, whatever path either ARN writes.
    assert same_role(role["Arn"], f"arn:aws:iam::{acct}:role/orders-app")
    assert not same_role(role["Arn"], f"arn:aws:iam::{acct}:role/orders")
    assert not same_role(role["Arn"], "arn:aws:iam::111111111111:role/orders-app")


def test_ec2_instance_type_is_a_key_of_the_instance_resource_only(box):
    """B3/B4: the image, subnet and security group of a launch lack ec2:InstanceType, so a statement on "*"
    conditioned on it cannot allow them (StringEquals on a missing key is false) and a Deny
    StringNotEquals on "*" refuses them (a missing key makes StringNotEquals true)."""
    image = box.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    launch = dict(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1)
    one_statement = user_keys(
        box,
        "one-statement",
        inline=doc(allow("ec2:RunInstances", Condition={"StringEquals": {"ec2:InstanceType": "t3.micro"}})),
    )
    message = denied(one_statement.client("ec2").run_instances, code="UnauthorizedOperation", **launch)
    assert "ec2:RunInstances" in message and "instance/*" not in message
    # The grader agrees, even when a probe passes the key for a resource whose type lacks it.
    from labapp.sandbox import client as sandbox_client

    region_arn = f"arn:aws:ec2:us-east-1:{box.account_id}"
    user, micro = f"arn:aws:iam::{box.account_id}:user/one-statement", {"ec2:InstanceType": "t3.micro"}
    assert sandbox_client.iam_access(box.account_id, user, "ec2:RunInstances", f"{region_arn}:instance/*", micro)[
        "allowed"
    ]
    assert not sandbox_client.iam_access(
        box.account_id, user, "ec2:RunInstances", f"{region_arn}:subnet/*", micro
    )["allowed"]
    deny_other_types = user_keys(
        box,
        "deny-other-types",
        inline=doc(
            allow("ec2:RunInstances"),
            {
                "Effect": "Deny",
                "Action": "ec2:RunInstances",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"ec2:InstanceType": "t3.micro"}},
            },
        ),
    )
    denied(deny_other_types.client("ec2").run_instances, code="UnauthorizedOperation", **launch)
    # The shape AWS documents: the condition on the instance statement only, everything else unconditioned.
    two_statements = user_keys(
        box,
        "two-statements",
        inline=doc(
            allow(
                "ec2:RunInstances",
                f"{region_arn}:instance/*",
                Condition={"StringEquals": {"ec2:InstanceType": "t3.micro"}},
            ),
            allow("ec2:RunInstances", "*", Condition={"Null": {"ec2:InstanceType": "true"}}),
        ),
    )
    ec2 = two_statements.client("ec2")
    assert ec2.run_instances(**launch)["Instances"][0]["InstanceType"] == "t3.micro"
    denied(ec2.run_instances, code="UnauthorizedOperation", **{**launch, "InstanceType": "m5.large"})


def test_grader_and_enforcement_send_the_same_keys_for_a_direct_kms_call(box):
    """A5: a key policy pinned with kms:CallerAccount (and aws:ViaAWSService false) decides the same for a
    real call through the gateway and for the grader's iam.access."""
    from labapp.sandbox import client as sandbox_client

    acct = box.account_id
    iam = box.client("iam")
    trust = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "sts:AssumeRole"})
    role_arn = iam.create_role(RoleName="encryptor", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    pinned = {"StringEquals": {"kms:CallerAccount": acct}, "Bool": {"aws:ViaAWSService": "false"}}
    key = box.client("kms").create_key(
        Policy=doc(
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "kms:*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Principal": {"AWS": role_arn},
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": pinned,
            },
        )
    )["KeyMetadata"]["Arn"]
    credentials = box.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="app")["Credentials"]
    kms = session_keys(box, credentials).client("kms")
    assert kms.generate_data_key(KeyId=key, KeySpec="AES_256")["KeyId"] == key
    denied(kms.decrypt, CiphertextBlob=kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"],
           code="AccessDeniedException")

    def allowed(action):
        return sandbox_client.iam_access(acct, f"arn:aws:iam::{acct}:role/encryptor", action, key)["allowed"]

    assert allowed("kms:GenerateDataKey") and allowed("kms:Encrypt")
    assert not allowed("kms:Decrypt")


def test_kms_abac_selects_keys_by_their_aliases(box):
    """A6: kms:ResourceAliases (the key's aliases) and kms:RequestAlias (the alias a request names), for real
    calls and for the grader alike."""
    from labapp.sandbox import client as sandbox_client

    acct = box.account_id
    kms_admin = box.client("kms")
    key = kms_admin.create_key()["KeyMetadata"]["Arn"]  # default policy: the account's IAM policies decide
    kms_admin.create_alias(AliasName="alias/payments-data", TargetKeyId=key)
    other = kms_admin.create_key()["KeyMetadata"]["Arn"]
    kms_admin.create_alias(AliasName="alias/hr-data", TargetKeyId=other)
    keys = f"arn:aws:kms:us-east-1:{acct}:key/*"
    app = user_keys(
        box,
        "payments-app",
        inline=doc(
            allow(
                ["kms:Encrypt", "kms:Decrypt"],
                keys,
                Condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/payments-data"}},
            ),
            allow("kms:GenerateDataKey", keys, Condition={"StringEquals": {"kms:RequestAlias": "alias/payments-data"}}),
        ),
    )
    kms = app.client("kms")
    blob = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    denied(kms.encrypt, KeyId=other, Plaintext=b"x", code="AccessDeniedException")
    kms.generate_data_key(KeyId="alias/payments-data", KeySpec="AES_256")
    denied(kms.generate_data_key, KeyId=key, KeySpec="AES_256", code="AccessDeniedException")

    def allowed(action, resource):
        return sandbox_client.iam_access(acct, f"arn:aws:iam::{acct}:user/payments-app", action, resource)["allowed"]

    assert allowed("kms:Decrypt", key) and not allowed("kms:Decrypt", other)
    # Once the alias moves to the other key, so does the permission.
    kms_admin.update_alias(AliasName="alias/payments-data", TargetKeyId=other)
    assert allowed("kms:Decrypt", other) and not allowed("kms:Decrypt", key)
    denied(kms.encrypt, KeyId=key, Plaintext=b"x", code="AccessDeniedException")
