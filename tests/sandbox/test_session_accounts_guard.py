"""A lab session with several accounts: the emulator lets a request of one account read another account of
the *same* session only where the operation needs it (STS AssumeRole of a role there), and nothing else.

Requests go straight to the emulator's socket, as in test_emulator_isolation.py, with the gateway's caller
header naming the other accounts of the session (the gateway sets it from the database; clients cannot).
"""

from __future__ import annotations

import json

import pytest

from labapp.sandbox.authorization import caller
from tests.sandbox.helpers import make_sandbox
from tests.sandbox.test_emulator_isolation import MADE_UP, b_unchanged, denied, emulator_client, stats, two  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def as_session(client, *siblings: str):
    """The client's requests carry the gateway's header: the session's administrator, with `siblings`."""
    header = caller.CallerInfo(
        caller.SESSION, "", "127.0.0.1", "us-east-1", False, tuple(siblings)
    ).header_value()

    def add(request, **_kwargs):
        request.headers["x-lab-caller"] = header

    client.meta.events.register("before-sign", add)
    return client


def trust(account: str, external_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
                }
            ],
        }
    )


@pytest.fixture
def partner(sandbox_stack, two):
    """a's partner account (another account of a's session) with a role trusting a, and a bucket."""
    a, _b, _state = two
    p = make_sandbox(sandbox_stack.url)
    iam = emulator_client(sandbox_stack.socket_path, p.account_id, "iam")
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=trust(a.account_id, "xid-1"))
    p.client("s3").create_bucket(Bucket=f"p-reports-{p.account_id}")
    return p


def test_assume_role_into_the_sessions_partner_account_works_and_keeps_its_state(sandbox_stack, two, partner):
    a, b, state = two
    p = partner
    sts = as_session(emulator_client(sandbox_stack.socket_path, a.account_id, "sts"), p.account_id)
    role_arn = f"arn:aws:iam::{p.account_id}:role/reader"
    # IAM decides across the two accounts: the partner's trust policy wants the ExternalId.
    denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="audit"))
    assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="audit", ExternalId="xid-1")
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{p.account_id}:assumed-role/reader/audit"
    # Reading the partner account did not replace its state: its role and bucket are still there.
    assert [
        r["RoleName"]
        for r in emulator_client(sandbox_stack.socket_path, p.account_id, "iam").list_roles()["Roles"]
    ] == ["reader"]
    assert [x["Name"] for x in p.client("s3").list_buckets()["Buckets"]] == [f"p-reports-{p.account_id}"]
    # The temporary key belongs to the partner account, and only there.
    from labapp.sandbox.gateway.upstream import Upstream

    status, found = Upstream(sandbox_stack.socket_path).get_json(
        f"/_sandbox/access-keys/{assumed['Credentials']['AccessKeyId']}"
    )
    assert status == 200 and found["account_id"] == p.account_id
    b_unchanged(b, state)


def test_only_the_sessions_own_accounts_can_be_reached(sandbox_stack, two, partner):
    a, b, state = two
    p = partner
    before = stats(sandbox_stack)
    sts = as_session(emulator_client(sandbox_stack.socket_path, a.account_id, "sts"), p.account_id)
    # Another learner's account (and a made-up one) stay refused by the emulator itself.
    for account in (b.account_id, MADE_UP):
        message = denied(
            lambda: sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/reader", RoleSessionName="probe", ExternalId="xid-1"
            )
        )
        assert account in message
    assert stats(sandbox_stack) <= before
    # Without the gateway naming the partner as the session's, the partner is just another account.
    plain = emulator_client(sandbox_stack.socket_path, a.account_id, "sts")
    denied(
        lambda: plain.assume_role(
            RoleArn=f"arn:aws:iam::{p.account_id}:role/reader", RoleSessionName="probe", ExternalId="xid-1"
        )
    )
    b_unchanged(b, state)


def test_other_operations_never_reach_the_partner_account(sandbox_stack, two, partner):
    a, _b, _state = two
    p = partner
    topic = p.client("sns").create_topic(Name="p-topic")["TopicArn"]
    sns = as_session(emulator_client(sandbox_stack.socket_path, a.account_id, "sns"), p.account_id)
    # Only AssumeRole opens the partner account; an ARN of it elsewhere is refused like any other account's.
    denied(lambda: sns.publish(TopicArn=topic, Message="from the main account"))
    denied(lambda: sns.set_topic_attributes(TopicArn=topic, AttributeName="DisplayName", AttributeValue="x"))
    assert p.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"].get("DisplayName", "") == ""


def test_a_bucket_of_the_partner_account_needs_its_bucket_policy_and_others_stay_out(
    sandbox_stack, two, partner
):
    a, b, state = two
    p = partner
    bucket = f"p-reports-{p.account_id}"
    p.client("s3").put_object(Bucket=bucket, Key="q3.csv", Body=b"q3")
    s3 = as_session(emulator_client(sandbox_stack.socket_path, a.account_id, "s3"), p.account_id)
    denied(lambda: s3.get_object(Bucket=bucket, Key="q3.csv"))  # no bucket policy grants the main account
    grant = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{a.account_id}:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    # Written straight to the emulator: this test's partner is a plain sandbox, not in a session with a.
    emulator_client(sandbox_stack.socket_path, p.account_id, "s3").put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [grant]})
    )
    assert s3.get_object(Bucket=bucket, Key="q3.csv")["ContentLength"] == 2
    denied(lambda: s3.put_object(Bucket=bucket, Key="forged.csv", Body=b"x"))  # the policy grants reads only
    # Another learner's bucket, even with a policy naming this account (written straight to the emulator:
    # the gateway refuses such a policy), is out of reach: not the session's.
    b_grant = {**grant, "Resource": f"arn:aws:s3:::{state['bucket']}/*"}
    b_s3 = emulator_client(sandbox_stack.socket_path, b.account_id, "s3")
    b_s3.put_bucket_policy(
        Bucket=state["bucket"], Policy=json.dumps({"Version": "2012-10-17", "Statement": [b_grant]})
    )
    denied(lambda: s3.get_object(Bucket=state["bucket"], Key="secret.txt"))
    b_s3.delete_bucket_policy(Bucket=state["bucket"])
    b_unchanged(b, state)
