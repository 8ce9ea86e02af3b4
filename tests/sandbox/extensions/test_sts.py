"""STS DecodeAuthorizationMessage (labapp/sandbox/extensions/sts.py), through the real gateway and emulator."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def denied_delete_message(sb, bucket: str) -> str:
    s3 = sb.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    with pytest.raises(ClientError) as caught:
        s3.delete_object(Bucket=bucket, Key="keep.txt")
    error = caught.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert "Encoded authorization failure message: " in error["Message"]
    return error["Message"].split("Encoded authorization failure message: ", 1)[1].strip()


def test_explicit_deny_message_decodes_for_its_own_account(sandbox_stack):
    sb = make_sandbox(sandbox_stack.url)
    encoded = denied_delete_message(sb, f"deny-{sb.account_id}")
    decoded = json.loads(sb.client("sts").decode_authorization_message(EncodedMessage=encoded)["DecodedMessage"])
    assert decoded["allowed"] is False and decoded["explicitDeny"] is True
    assert decoded["context"]["action"] == "s3:DeleteObject"
    assert decoded["context"]["resource"].endswith("/keep.txt")
    assert decoded["matchedStatements"]["items"][0]["statementId"] == "NoDeletes"
    # The object is still there: the deny was enforced.
    assert sb.client("s3").head_object(Bucket=f"deny-{sb.account_id}", Key="keep.txt")


def test_other_accounts_and_forgeries_are_refused(sandbox_stack):
    owner = make_sandbox(sandbox_stack.url)
    other = make_sandbox(sandbox_stack.url)
    encoded = denied_delete_message(owner, f"deny2-{owner.account_id}")
    for message in (encoded, encoded[:-3] + "AAA", "lab1.notbase64.x", "plain text"):
        client = other.client("sts") if message == encoded else owner.client("sts")
        with pytest.raises(ClientError) as caught:
            client.decode_authorization_message(EncodedMessage=message)
        assert caught.value.response["Error"]["Code"] == "InvalidAuthorizationMessageException"


def test_encode_decode_helpers_round_trip():
    from labapp.sandbox.extensions import sts

    doc = sts.denial_context(account_id="123456789012", principal_arn="arn:aws:iam::123456789012:user/dev",
                             action="ec2:RunInstances", resource="*", explicit_deny=False,
                             conditions={"ec2:InstanceType": "m5.24xlarge"})
    encoded = sts.encode("123456789012", doc)
    assert sts.decode("123456789012", encoded) == doc
    assert sts.decode("210987654321", encoded) is None
