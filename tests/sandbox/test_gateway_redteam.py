"""Attacks a red-team review found against the rebuilt gateway, each kept as a regression test."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.sandbox.helpers import make_sandbox

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]


def send(gateway_url: str, method: str, target: str, headers: dict, body: bytes = b"") -> tuple[int, bytes]:
    gateway = urlsplit(gateway_url)
    conn = http.client.HTTPConnection(gateway.hostname, gateway.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def signed_s3_headers(box, method: str, url: str) -> dict:
    request = AWSRequest(method=method, url=url)
    request.headers["X-Amz-Content-SHA256"] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    S3SigV4Auth(Credentials(box.key, box.secret), "s3", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_an_authorization_header_with_a_decoy_part_is_refused(sandbox_stack):
    """moto reads the service from the header's first part, the gateway read `Credential=` anywhere: a
    decoy IAM scope in front of a valid S3 signature ran IAM CreateUser, journaled as S3."""
    box = make_sandbox(sandbox_stack.url)
    url = f"{sandbox_stack.url}/?Action=CreateUser&UserName=hidden-user&Version=2010-05-08"
    headers = signed_s3_headers(box, "GET", url)
    headers["Authorization"] = headers["Authorization"].replace(
        "AWS4-HMAC-SHA256 ", f"AWS4-HMAC-SHA256 X={box.key}/20260101/us-east-1/iam/aws4_request, ", 1)
    status, body = send(sandbox_stack.url, "GET", "/?Action=CreateUser&UserName=hidden-user&Version=2010-05-08", headers)
    assert status in (400, 403) and b"IncompleteSignature" in body
    assert [u["UserName"] for u in box.client("iam").list_users()["Users"]] == []


def test_a_presigned_url_cannot_carry_unsigned_amz_headers(sandbox_stack):
    """A presigned PUT plus an unsigned x-amz-copy-source copied a private object to a public one."""
    box = make_sandbox(sandbox_stack.url)
    s3 = box.client("s3")
    bucket = f"private-{box.account_id}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"SECRET")
    v4 = box.client("s3", signature_version="s3v4")  # SigV2 URLs sign x-amz-* headers themselves
    url = v4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "upload.txt"}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}"
    status, body = send(sandbox_stack.url, "PUT", target, {
        "Host": parts.netloc, "x-amz-copy-source": f"{bucket}/secret.txt", "x-amz-acl": "public-read"})
    assert status == 403 and b"not signed" in body
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["secret.txt"]
    # The URL itself still works as meant.
    status, _ = send(sandbox_stack.url, "PUT", target, {"Host": parts.netloc}, b"hello")
    assert status == 200
    assert s3.get_object(Bucket=bucket, Key="upload.txt")["Body"].read() == b"hello"


def test_a_write_whose_body_arrives_after_hand_in_does_not_land(sandbox_stack):
    """The session was checked when the headers arrived; the body came after the hand-in, and the object
    landed in the sandbox kept as submitted for grading."""
    import hashlib
    import time

    from labapp.labs import services
    from labapp.sandbox import client as sandbox

    box = make_sandbox(sandbox_stack.url)
    bucket = f"kept-{box.account_id}"
    box.client("s3").create_bucket(Bucket=bucket)
    body = b"x" * 200_000
    request = AWSRequest(method="PUT", url=f"{sandbox_stack.url}/{bucket}/late.txt", data=body)
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    S3SigV4Auth(Credentials(box.key, box.secret), "s3", "us-east-1").add_auth(request)
    gateway = urlsplit(sandbox_stack.url)
    conn = http.client.HTTPConnection(gateway.hostname, gateway.port, timeout=60)
    try:
        conn.putrequest("PUT", f"/{bucket}/late.txt", skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", gateway.netloc)
        for name, value in request.headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.send(body[:1000])  # headers accepted, the body is on its way
        time.sleep(1)
        assert services.hand_in(box.session)
        time.sleep(1)  # the forget is sent after the hand-in commits
        conn.send(body[1000:])
        response = conn.getresponse()
        assert response.status == 403, response.read()
    finally:
        conn.close()
    kept = sandbox.client(box.session, "s3", source="platform")
    assert "Contents" not in kept.list_objects_v2(Bucket=bucket)


def post_upload(gateway_url: str, url: str, fields: dict, content: bytes) -> int:
    import uuid

    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n'
                 "Content-Type: text/plain\r\n\r\n".encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    target = urlsplit(url)
    status, _ = send(gateway_url, "POST", target.path or "/", {
        "Host": target.netloc, "Content-Type": f"multipart/form-data; boundary={boundary}"}, body)
    return status


def test_a_post_policy_is_held_to_its_conditions(sandbox_stack):
    """Only the policy's signature was checked: any key, size, ACL or bucket of the signer went through."""
    box = make_sandbox(sandbox_stack.url)
    s3 = box.client("s3")
    bucket, other = f"uploads-{box.account_id}", f"other-{box.account_id}"
    for name in (bucket, other):
        s3.create_bucket(Bucket=name)
    post = box.client("s3", signature_version="s3v4").generate_presigned_post(
        bucket, "uploads/${filename}", Conditions=[["starts-with", "$key", "uploads/"], ["content-length-range", 1, 10]],
        ExpiresIn=300,
    )
    fields = post["fields"]
    assert post_upload(sandbox_stack.url, post["url"], fields, b"hello") in (200, 201, 204)
    assert post_upload(sandbox_stack.url, post["url"], {**fields, "key": "secret.txt"}, b"hello") == 403
    assert post_upload(sandbox_stack.url, post["url"], fields, b"x" * 125) == 403
    assert post_upload(sandbox_stack.url, post["url"], {**fields, "acl": "public-read"}, b"hello") == 403
    assert post_upload(sandbox_stack.url, post["url"].replace(bucket, other), fields, b"hello") == 403
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["uploads/f.txt"]
    assert "Contents" not in s3.list_objects_v2(Bucket=other)


def test_a_small_gzip_body_with_millions_of_values_is_refused_cheaply(sandbox_stack):
    """16 KB of gzip inflating to a JSON array of millions of zeros cost the gateway a gigabyte."""
    import gzip
    import time

    from tests.sandbox.helpers import signed_request

    box = make_sandbox(sandbox_stack.url)
    bomb = gzip.compress(b'{"x":[' + b"0," * 4_000_000 + b"0]}")
    assert len(bomb) < 50_000
    started = time.monotonic()
    status, body = signed_request(
        sandbox_stack.url, key=box.key, secret=box.secret, method="POST", url=f"{sandbox_stack.url}/",
        service="dynamodb", headers={"Content-Type": "application/x-amz-json-1.0", "Content-Encoding": "gzip",
                                     "X-Amz-Target": "DynamoDB_20120810.ListTables"}, body=bomb,
    )
    assert status == 413 and b"values" in body
    assert time.monotonic() - started < 5
    assert box.client("dynamodb").list_tables()["TableNames"] == []  # the learner's own calls still work


def test_a_header_block_larger_than_64_kib_is_refused(sandbox_stack):
    """100 lines of 64 KB each held about 10 MB of gateway memory per unauthenticated connection."""
    gateway = urlsplit(sandbox_stack.url)
    with socket.create_connection((gateway.hostname, gateway.port), timeout=10) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        try:
            for n in range(20):
                conn.sendall(f"X-Pad-{n}: ".encode() + b"a" * 8000 + b"\r\n")
            conn.sendall(b"\r\n")
        except OSError:
            pass  # the gateway may close before all of it is sent
        reply = conn.recv(200)
    assert reply.startswith(b"HTTP/1.1 431") or reply.startswith(b"HTTP/1.0 431")
    # An ordinary request with ordinary headers still works.
    box = make_sandbox(sandbox_stack.url)
    assert box.client("s3").list_buckets()["Buckets"] == []


def test_the_platforms_cached_clients_are_bounded_and_closed(sandbox_stack):
    """Every session's clients used to stay cached with their keep-alive connections; a long lab test
    piled up enough of them that the gateway refused the platform's own setup calls with SlowDown."""
    from labapp.sandbox import client as sandbox

    boxes = [make_sandbox(sandbox_stack.url) for _ in range(sandbox.MAX_CLIENTS + 8)]
    made = []
    for box in boxes:
        made.append(sandbox.client(box.session, "s3"))
        made[-1].list_buckets()
    assert len(sandbox._clients) <= sandbox.MAX_CLIENTS
    assert sandbox.client(boxes[-1].session, "s3") is made[-1]  # recent ones are reused
    sandbox.forget_clients(boxes[-1].session)
    assert sandbox.client(boxes[-1].session, "s3") is not made[-1]


def test_the_per_client_cap_spares_the_platforms_address_only():
    """Setup and grading calls come from 127.0.0.1 with a few keep-alive connections per sandbox; a class's
    worth used to exhaust the per-address cap. Any other address (a runner sandbox's, a remote learner's)
    is still capped."""
    import threading
    import time

    from labapp.sandbox.gateway.server import PLATFORM_ADDRESSES
    from labapp.sandbox.httpserver import ConnectionLimits, make_tcp_server

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    limits = ConnectionLimits(max_connections=50, max_per_client=2, uncapped_clients=PLATFORM_ADDRESSES,
                              overload_body=b"<Code>SlowDown</Code>")
    server = make_tcp_server("127.0.0.1", 0, app, limits)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    held = []
    try:
        held += [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        held += [socket.create_connection(("127.0.0.1", port), source_address=("127.9.9.9", 0)) for _ in range(2)]
        time.sleep(0.3)

        def ask(source: str) -> bytes:
            with socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0)) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                return sock.recv(200)

        assert ask("127.0.0.1").startswith(b"HTTP/1.1 200")  # the sixth from the platform's address
        assert ask("127.9.9.9").startswith(b"HTTP/1.1 503")  # the third from a sandbox's address
    finally:
        for sock in held:
            sock.close()
        server.shutdown()
        server.server_close()
