"""S3 extension (labapp/sandbox/extensions/s3.py): presigned-read counter, injected SlowDown, bucket
policies the emulator can and cannot evaluate — through the real gateway and emulator."""

from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def _presigned_count(s3, bucket, key) -> int:
    headers = s3.head_object(Bucket=bucket, Key=key)["ResponseMetadata"]["HTTPHeaders"]
    return int(headers.get("x-lab-presigned-gets", "0"))


def test_presigned_reads_are_counted(sandbox_stack):
    sb = make_sandbox(sandbox_stack.url)
    s3 = sb.client("s3")
    bucket = f"pre-{sb.account_id}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="r.txt", Body=b"report")
    s3.get_object(Bucket=bucket, Key="r.txt")["Body"].read()  # header-signed: not counted
    assert _presigned_count(s3, bucket, "r.txt") == 0
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "r.txt"}, ExpiresIn=300)
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.read() == b"report"
    assert _presigned_count(s3, bucket, "r.txt") == 1


def test_slowdown_is_injected_and_retries_get_through(sandbox_stack):
    sb = make_sandbox(sandbox_stack.url)
    s3 = sb.client("s3")
    bucket = f"slow-{sb.account_id}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "lab:slowdown-prefix", "Value": "in/"}]})
    s3.put_object(Bucket=bucket, Key="other/a", Body=b"x")  # outside the prefix: no fault
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="in/a", Body=b"x")
    assert caught.value.response["Error"]["Code"] == "SlowDown"
    retrying = sb.client("s3", retries={"mode": "standard", "max_attempts": 5})
    retrying.put_object(Bucket=bucket, Key="in/b", Body=b"x")  # fails twice, then lands
    assert retrying.head_object(Bucket=bucket, Key="in/b")["ContentLength"] == 1


def test_conditional_and_principal_specific_statements_are_not_enforced(sandbox_stack):
    sb = make_sandbox(sandbox_stack.url)
    s3 = sb.client("s3")
    bucket = f"pol-{sb.account_id}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{sb.account_id}:role/x"}, "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    assert s3.get_object(Bucket=bucket, Key="a")["Body"].read() == b"x"
    s3.delete_object(Bucket=bucket, Key="a")


def test_an_uploads_own_encryption_header_wins_over_the_bucket_default(sandbox_stack):
    """S3: `--sse aws:kms` without a key id means the AWS managed key aws/s3, and `--sse AES256` means SSE-S3,
    even when the bucket's default names a customer managed key (moto used to store the default's key)."""
    sb = make_sandbox(sandbox_stack.url)
    s3, kms = sb.client("s3"), sb.client("kms")
    bucket = f"enc-{sb.account_id}"
    s3.create_bucket(Bucket=bucket)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id},
         "BucketKeyEnabled": True}]})
    s3.put_object(Bucket=bucket, Key="default", Body=b"x")
    s3.put_object(Bucket=bucket, Key="managed", Body=b"x", ServerSideEncryption="aws:kms")
    s3.put_object(Bucket=bucket, Key="sse-s3", Body=b"x", ServerSideEncryption="AES256")
    s3.put_object(Bucket=bucket, Key="named", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id)
    heads = {k: s3.head_object(Bucket=bucket, Key=k) for k in ("default", "managed", "sse-s3", "named")}
    assert (heads["default"]["ServerSideEncryption"], heads["default"]["SSEKMSKeyId"]) == ("aws:kms", key_id)
    assert heads["managed"]["ServerSideEncryption"] == "aws:kms" and "SSEKMSKeyId" not in heads["managed"]
    assert heads["sse-s3"]["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in heads["sse-s3"]
    assert heads["named"]["SSEKMSKeyId"] == key_id


def test_presigned_reads_remember_the_shortest_url_lifetime_for_the_grader(sandbox_stack):
    from labapp.grading.checks import CheckContext
    from labapp.grading.grader import run_check

    sb = make_sandbox(sandbox_stack.url)
    s3 = sb.client("s3")
    bucket = f"life-{sb.account_id}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="r.txt", Body=b"report")

    def fetch(expires):
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "r.txt"}, ExpiresIn=expires)
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.read() == b"report"

    journal = [{"action": "GetObject", "service": "s3", "source": "learner", "status": 200,
                "params": {"Bucket": bucket, "Key": "r.txt"}}]
    ctx = CheckContext(client_factory=sb.client, journal=journal)
    grade = {"kind": "s3.presigned_get", "bucket": bucket, "key": "r.txt", "max_expires": 3600}
    fetch(604800)
    out = run_check(grade, {}, ctx)
    assert not out.passed and "valid for 60" in out.feedback  # 604800 seconds, or a little less (SigV2)
    fetch(900)
    headers = s3.head_object(Bucket=bucket, Key="r.txt")["ResponseMetadata"]["HTTPHeaders"]
    assert int(headers["x-lab-presigned-shortest-lifetime"]) <= 900
    assert run_check(grade, {}, CheckContext(client_factory=sb.client, journal=journal)).passed
