"""Unsigned S3 reads through the gateway: public objects are served, private ones never, and an
anonymous caller is neither the learner's rate limit nor the learner's journal."""

from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import pytest

from tests.sandbox.helpers import make_sandbox, signed_request

pytestmark = pytest.mark.django_db(transaction=True)


def anonymous_get(box, path: str, method: str = "GET", headers: list[tuple[str, str]] | None = None):
    return signed_request(
        box.gateway_url, key="", secret="", method=method, url=f"http://s3.amazonaws.com{path}", service="s3",
        sign=False, unsigned_headers=headers,
    )


def public_policy(bucket: str, **statement) -> str:
    allow = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [{**allow, **statement}]})


@pytest.fixture
def box(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)
    box.bucket = f"anon-{box.account_id}"
    s3 = box.client("s3")
    s3.create_bucket(Bucket=box.bucket)
    s3.put_object(Bucket=box.bucket, Key="private.txt", Body=b"PRIVATE")
    return box


def test_private_objects_stay_private_however_the_request_is_dressed(box):
    path = f"/{box.bucket}/private.txt"
    assert anonymous_get(box, path)[0] == 403
    assert anonymous_get(box, path, "HEAD")[0] == 403
    assert anonymous_get(box, path, headers=[("Authorization", "")])[0] == 403
    for query in ("response-content-type=text/plain%3BSignature%3Dabc", "response-content-type=text/Signature=abc"):
        status, body = anonymous_get(box, f"{path}?{query}")
        assert status == 403 and b"PRIVATE" not in body, query
    status, body = anonymous_get(box, f"{path}?response-content-type=a&response-content-type=b")
    assert status in (400, 403) and b"PRIVATE" not in body


def test_a_private_version_behind_a_delete_marker_is_not_served(box):
    s3 = box.client("s3")
    s3.put_bucket_versioning(Bucket=box.bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=box.bucket, Key="gone.txt", Body=b"OLD-PRIVATE")["VersionId"]
    s3.delete_object(Bucket=box.bucket, Key="gone.txt")
    status, body = anonymous_get(box, f"/{box.bucket}/gone.txt?versionId={version}")
    assert status == 403 and b"OLD-PRIVATE" not in body
    # Nor a private older version under a public latest one.
    old = s3.put_object(Bucket=box.bucket, Key="page.html", Body=b"DRAFT")["VersionId"]
    s3.put_object(Bucket=box.bucket, Key="page.html", Body=b"PUBLISHED", ACL="public-read")
    assert anonymous_get(box, f"/{box.bucket}/page.html") == (200, b"PUBLISHED")
    status, body = anonymous_get(box, f"/{box.bucket}/page.html?versionId={old}")
    assert status == 403 and b"DRAFT" not in body


def test_public_read_acl_and_public_bucket_policy_are_served(box):
    s3 = box.client("s3")
    s3.put_object(Bucket=box.bucket, Key="acl.txt", Body=b"BY-ACL", ACL="public-read")
    assert anonymous_get(box, f"/{box.bucket}/acl.txt") == (200, b"BY-ACL")
    assert anonymous_get(box, f"/{box.bucket}/acl.txt", "HEAD")[0] == 200
    s3.put_bucket_policy(Bucket=box.bucket, Policy=public_policy(box.bucket))
    assert anonymous_get(box, f"/{box.bucket}/private.txt") == (200, b"PRIVATE")
    assert anonymous_get(box, f"/{box.bucket}/private.txt", "HEAD")[0] == 200
    assert anonymous_get(box, f"/{box.bucket}/private.txt?response-content-type=text/plain")[0] == 200


def test_policies_that_are_not_public_or_are_blocked_serve_nothing(box):
    s3 = box.client("s3")
    s3.put_bucket_policy(Bucket=box.bucket, Policy=public_policy(box.bucket, Principal={"AWS": f"arn:aws:iam::{box.account_id}:root"}))
    assert anonymous_get(box, f"/{box.bucket}/private.txt")[0] == 403
    # Allowed to everyone, but a Deny for plain HTTP applies to an anonymous caller of this (HTTP) gateway.
    deny_http = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{box.bucket}/*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    document = json.loads(public_policy(box.bucket))
    document["Statement"].append(deny_http)
    s3.put_bucket_policy(Bucket=box.bucket, Policy=json.dumps(document))
    assert anonymous_get(box, f"/{box.bucket}/private.txt")[0] == 403
    # A public policy under RestrictPublicBuckets, and a public ACL under IgnorePublicAcls.
    s3.put_bucket_policy(Bucket=box.bucket, Policy=public_policy(box.bucket))
    s3.put_object(Bucket=box.bucket, Key="acl.txt", Body=b"BY-ACL", ACL="public-read")
    s3.put_public_access_block(
        Bucket=box.bucket,
        PublicAccessBlockConfiguration={"BlockPublicAcls": False, "IgnorePublicAcls": True,
                                        "BlockPublicPolicy": False, "RestrictPublicBuckets": True},
    )
    assert anonymous_get(box, f"/{box.bucket}/private.txt")[0] == 403
    assert anonymous_get(box, f"/{box.bucket}/acl.txt")[0] == 403


def test_anonymous_callers_use_their_own_rate_limit_and_are_not_the_learners_calls(box, sandbox_stack):
    from labapp.labs.models import ApiCall
    from labapp.sandbox import client as sandbox_client

    # The test stack allows learners a burst of 200 and 50 a second, unsigned callers a fifth of that:
    # 5 x 100 quick requests run out of their tokens, and would have used up most of the learner's.
    statuses: list[int] = []
    threads = [threading.Thread(target=hammer, args=(box, f"/{box.bucket}/private.txt", 100, statuses)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 503 in statuses, "anonymous callers have a rate limit of their own"
    assert set(statuses) <= {403, 503}
    box.client("s3").list_objects_v2(Bucket=box.bucket)  # the learner's own budget is untouched
    sandbox_client.flush_journal()
    learner_calls = ApiCall.objects.filter(session=box.session.pk, source=ApiCall.Source.LEARNER)
    assert [c.action for c in learner_calls.filter(action="GetObject")] == []
    assert learner_calls.filter(action="ListObjectsV2").count() == 1
    assert ApiCall.objects.filter(session=box.session.pk, source="public").exists()
    time.sleep(40 / 10)  # let the anonymous bucket refill for whatever test runs next


def hammer(box, path: str, count: int, statuses: list[int]) -> None:
    """`count` unsigned GETs on one keep-alive connection."""
    gateway = urlsplit(box.gateway_url)
    conn = http.client.HTTPConnection(gateway.hostname, gateway.port, timeout=30)
    try:
        for _ in range(count):
            conn.request("GET", path, headers={"Host": "s3.amazonaws.com"})
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        conn.close()


def test_the_emulator_decides_by_itself_whatever_reaches_it(box, sandbox_stack):
    """Straight to the emulator's socket, as the bucket owner's account but without credentials: moto alone
    would serve the private object for an empty Authorization header or `Signature=` in a query value."""
    from tests.sandbox.test_emulator_isolation import _UnixConnection

    def emulator_get(path, headers=()):
        conn = _UnixConnection(sandbox_stack.socket_path)
        try:
            conn.request("GET", path, headers={"Host": "s3.amazonaws.com", "x-moto-account-id": box.account_id, **dict(headers)})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    private = f"/{box.bucket}/private.txt"
    for path, headers in [
        (private, ()),
        (private, [("Authorization", "")]),
        (f"{private}?response-content-type=x%3BSignature%3Dy", ()),
        (f"{private}?acl", ()),
    ]:
        status, body = emulator_get(path, headers)
        assert status == 403 and b"PRIVATE" not in body, (path, headers)
    box.client("s3").put_object(Bucket=box.bucket, Key="open.txt", Body=b"OPEN", ACL="public-read")
    assert emulator_get(f"/{box.bucket}/open.txt") == (200, b"OPEN")
    status, body = emulator_get(f"/{box.bucket}/open.txt?acl")
    assert status == 403 and b"AccessControlPolicy" not in body


def test_presigned_urls_still_read_private_objects(box):
    """A presigned URL carries its signature in the query: signed, not anonymous."""
    import urllib.request

    for version in ("s3v4", "s3"):
        url = box.client("s3", signature_version=version).generate_presigned_url(
            "get_object", Params={"Bucket": box.bucket, "Key": "private.txt"}, ExpiresIn=300
        )
        with urllib.request.urlopen(url) as response:
            assert response.read() == b"PRIVATE", version
