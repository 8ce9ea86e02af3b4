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
