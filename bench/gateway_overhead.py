"""How much time the gateway adds to a call: the same pre-signed request bytes sent N times to the
gateway (TCP, keep-alive) and straight to the emulator socket (keep-alive), with the account header the
gateway would add. Prints p50/p95 per call and the difference. Target: under 2 ms."""

from __future__ import annotations

import hashlib
import http.client
import time

from _sandbox_bench import make_sessions, percentiles, setup_database

N = 300


def signed(sandbox, method, url, service, body=b"", headers=None):
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(sandbox.key, sandbox.secret), service, "us-east-1").add_auth(request)
    return method, request.url.split("://", 1)[1].split("/", 1)[1], dict(request.headers), body


def timed(conn, method, path, headers, body, n):
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        conn.request(method, "/" + path, body=body or None, headers=headers)
        response = conn.getresponse()
        response.read()
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status == 200, response.status
    return samples


def main():
    from labapp.sandbox.gateway.upstream import UnixHTTPConnection
    from tests.stack import SandboxStack

    run_dir, db_env = setup_database()
    with SandboxStack(run_dir / "stack", db_env, {"LAB_GATEWAY_RATE_PER_SECOND": "100000", "LAB_GATEWAY_RATE_BURST": "100000"}) as stack:
        [box] = make_sessions(1, stack.url)
        host = stack.url.split("://", 1)[1]
        box.client("s3").create_bucket(Bucket=f"bench-{box.account_id}")
        box.client("iam").create_user(UserName="bench")
        calls = {
            "s3 ListBuckets": signed(box, "GET", f"http://{host}/", "s3"),
            "iam ListUsers": signed(box, "POST", f"http://{host}/", "iam", b"Action=ListUsers&Version=2010-05-08",
                                    {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
            "ec2 DescribeVpcs": signed(box, "POST", f"http://{host}/", "ec2", b"Action=DescribeVpcs&Version=2016-11-15",
                                       {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
        }
        gateway = http.client.HTTPConnection("127.0.0.1", stack.port)
        emulator = UnixHTTPConnection(stack.socket_path)
        print(f"N={N} calls each, keep-alive connections, same signed bytes\n")
        print(f"{'call':<18} {'emulator p50/p95':>18} {'gateway p50/p95':>18} {'overhead p50/p95':>18}")
        for name, (method, path, headers, body) in calls.items():
            direct_headers = {**headers, "x-moto-account-id": box.account_id}
            timed(emulator, method, path, direct_headers, body, 20)  # warm-up
            timed(gateway, method, path, headers, body, 20)
            direct = timed(emulator, method, path, direct_headers, body, N)
            through = timed(gateway, method, path, headers, body, N)
            d50, d95 = percentiles(direct)
            g50, g95 = percentiles(through)
            print(f"{name:<18} {d50:8.2f} / {d95:6.2f} ms {g50:8.2f} / {g95:6.2f} ms {g50 - d50:8.2f} / {g95 - d95:6.2f} ms")
        from labapp.sandbox import client

        from django.conf import settings

        settings.LAB_GATEWAY_URL = stack.url
        client.flush_journal()


if __name__ == "__main__":
    main()
