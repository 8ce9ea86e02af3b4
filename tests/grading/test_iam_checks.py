import json

import pytest

from labapp.grading.grader import run_check

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def check(sb, kind, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx())


@pytest.fixture
def alice(sandbox):
    iam = sandbox.client("iam")
    iam.create_user(UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn=ADMIN)
    return sandbox


def test_group_policy_attached(alice):
    iam = alice.client("iam")
    out = check(alice, "iam.group_policy_attached", group="admins", policy_arn=ADMIN)
    assert not out.passed and out.feedback == "group admins does not exist — create it first"
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    out = check(alice, "iam.group_policy_attached", group="admins", policy_arn=ADMIN)
    assert not out.passed
    assert out.feedback == "group admins does not have AdministratorAccess attached (attached: ReadOnlyAccess)"
    iam.attach_group_policy(GroupName="admins", PolicyArn=ADMIN)
    out = check(alice, "iam.group_policy_attached", group="admins", policy_arn=ADMIN)
    assert out.passed and out.feedback == "group admins has AdministratorAccess attached"


def test_group_policy_customer_managed_lookalike(alice):
    iam = alice.client("iam")
    iam.create_group(GroupName="admins")
    arn = iam.create_policy(PolicyName="AdministratorAccess", PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="admins", PolicyArn=arn)
    out = check(alice, "iam.group_policy_attached", group="admins", policy_arn=ADMIN)
    assert not out.passed and "not the AWS managed policy" in out.feedback


def test_user_in_group(alice):
    iam = alice.client("iam")
    out = check(alice, "iam.user_in_group", user="alice", group="admins")
    assert not out.passed and out.feedback == "group admins does not exist — create it first"
    iam.create_group(GroupName="admins")
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    out = check(alice, "iam.user_in_group", user="alice", group="admins")
    assert not out.passed and out.feedback == "alice is not a member of admins (member of: devs)"
    iam.add_user_to_group(GroupName="admins", UserName="alice")
    assert check(alice, "iam.user_in_group", user="alice", group="admins").passed
    out = check(alice, "iam.user_in_group", user="bob", group="admins")
    assert not out.passed and out.feedback == "user bob does not exist"


def test_user_no_direct_policies(alice):
    iam = alice.client("iam")
    out = check(alice, "iam.user_no_direct_policies", user="alice")
    assert not out.passed
    assert out.feedback.startswith("alice still has AdministratorAccess attached directly")
    iam.detach_user_policy(UserName="alice", PolicyArn=ADMIN)
    iam.put_user_policy(UserName="alice", PolicyName="everything",
                        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
    out = check(alice, "iam.user_no_direct_policies", user="alice")
    assert not out.passed and "alice has inline policies everything" in out.feedback
    iam.delete_user_policy(UserName="alice", PolicyName="everything")
    out = check(alice, "iam.user_no_direct_policies", user="alice")
    assert out.passed and out.feedback == "alice has no policies attached directly"


def test_user_access_key(alice):
    iam = alice.client("iam")
    out = check(alice, "iam.user_access_key", user="alice")
    assert not out.passed and "alice has no access key" in out.feedback
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="alice", AccessKeyId=key, Status="Inactive")
    out = check(alice, "iam.user_access_key", user="alice")
    assert not out.passed and out.feedback == "alice has 1 access key(s), but none is Active"
    iam.update_access_key(UserName="alice", AccessKeyId=key, Status="Active")
    assert check(alice, "iam.user_access_key", user="alice").passed


def test_user_login_profile(alice):
    out = check(alice, "iam.user_login_profile", user="alice")
    assert not out.passed and out.feedback == "alice has no console password (login profile), so no console access"
    alice.client("iam").create_login_profile(UserName="alice", Password="Sup3r-secret-pw!")
    out = check(alice, "iam.user_login_profile", user="alice")
    assert out.passed and "console access" in out.feedback


def test_user_exists(sandbox):
    assert not check(sandbox, "iam.user_exists", user="alice").passed
    sandbox.client("iam").create_user(UserName="alice")
    assert check(sandbox, "iam.user_exists", user="alice").passed


def test_group_with_a_deny_beside_administrator_access_fails(alice):
    iam = alice.client("iam")
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=ADMIN)
    iam.put_group_policy(GroupName="admins", PolicyName="no-iam", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}))
    out = check(alice, "iam.group_policy_attached", group="admins", policy_arn=ADMIN)
    assert not out.passed and "no-iam (inline) also has a Deny" in out.feedback
    iam.delete_group_policy(GroupName="admins", PolicyName="no-iam")
    # An extra Allow does no harm.
    iam.put_group_policy(GroupName="admins", PolicyName="extra", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    assert check(alice, "iam.group_policy_attached", group="admins", policy_arn=ADMIN).passed


def test_rotated_keys_and_changed_password_still_count(alice):
    iam = alice.client("iam")
    first = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    iam.create_access_key(UserName="alice")
    iam.delete_access_key(UserName="alice", AccessKeyId=first)
    assert check(alice, "iam.user_access_key", user="alice").passed
    iam.create_login_profile(UserName="alice", Password="Lab-Passw0rd-2026!", PasswordResetRequired=True)
    iam.update_login_profile(UserName="alice", Password="An0ther-Passw0rd!")
    assert check(alice, "iam.user_login_profile", user="alice").passed
