"""How much time the gateway adds to a call.

The same pre-signed request bytes go to the gateway (TCP, keep-alive) and straight to the emulator's
Unix socket (keep-alive, with the `x-moto-account-id` header the gateway would add). Direct and gateway
calls are interleaved (ABBA order) so load from other processes on the machine lands on both sides
alike; each side gets a warm-up first. Per call it prints p50 and p95 of each side, their difference,
and the CPU time the gateway process (all its threads, journal writes included) spent per call, which
is far less noisy on a shared machine. The whole measurement is repeated --runs times on the same stack
and the medians of the runs are printed last. Target: overhead under 2 ms at p50 and p95.

    .venv/bin/python bench/gateway_overhead.py [--n 600] [--warmup 100] [--runs 3] [--profile FILE]

--profile FILE makes the gateway process profile itself (labapp/sandbox/gateway/server.py,
LAB_GATEWAY_PROFILE) and write its statistics to FILE when it stops.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import statistics
import time

from _sandbox_bench import make_sessions, percentiles, setup_database

TARGET_MS = 2.0


def signed(sandbox, method, url, service, body=b"", headers=None):
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(sandbox.key, sandbox.secret), service, "us-east-1").add_auth(request)
    return method, request.url.split("://", 1)[1].split("/", 1)[1], dict(request.headers), body


def one_call(conn, method, path, headers, body) -> float:
    start = time.perf_counter()
    conn.request(method, "/" + path, body=body or None, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - start) * 1000
    if response.status != 200:
        raise SystemExit(f"{method} /{path}: HTTP {response.status}")
    return elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux), or NaN."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(gateway, emulator, request, direct_headers, n, warmup, gateway_pid):
    method, path, headers, body = request
    for _ in range(warmup):
        one_call(emulator, method, path, direct_headers, body)
        one_call(gateway, method, path, headers, body)
    direct, through = [], []
    cpu_before = cpu_seconds(gateway_pid)
    for i in range(n):
        if i % 4 in (0, 3):  # ABBA: neither side is always first after a pause
            direct.append(one_call(emulator, method, path, direct_headers, body))
            through.append(one_call(gateway, method, path, headers, body))
        else:
            through.append(one_call(gateway, method, path, headers, body))
            direct.append(one_call(emulator, method, path, direct_headers, body))
    cpu_ms = (cpu_seconds(gateway_pid) - cpu_before) * 1000 / n
    return percentiles(direct), percentiles(through), cpu_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=600, help="measured calls per side and API call (default 600)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured calls per side first (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="repeat the whole measurement, report medians (default 3)")
    parser.add_argument("--profile", default="", help="have the gateway write profile statistics to this file")
    args = parser.parse_args()

    from labapp.sandbox.gateway.upstream import UnixHTTPConnection
    from tests.stack import SandboxStack

    run_dir, db_env = setup_database()
    extra_env = {"LAB_GATEWAY_RATE_PER_SECOND": "100000", "LAB_GATEWAY_RATE_BURST": "100000"}
    if args.profile:
        extra_env["LAB_GATEWAY_PROFILE"] = args.profile
    with SandboxStack(run_dir / "stack", db_env, extra_env) as stack:
        [box] = make_sessions(1, stack.url)
        host = stack.url.split("://", 1)[1]
        box.client("s3").create_bucket(Bucket=f"bench-{box.account_id}")
        box.client("iam").create_user(UserName="bench")
        form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        calls = {
            "s3 ListBuckets": signed(box, "GET", f"http://{host}/", "s3"),
            "iam ListUsers": signed(box, "POST", f"http://{host}/", "iam", b"Action=ListUsers&Version=2010-05-08", form),
            "ec2 DescribeVpcs": signed(box, "POST", f"http://{host}/", "ec2", b"Action=DescribeVpcs&Version=2016-11-15", form),
        }
        gateway = http.client.HTTPConnection("127.0.0.1", stack.port)
        emulator = UnixHTTPConnection(stack.socket_path)
        print(f"N={args.n} calls per side (after {args.warmup} warm-up), interleaved, keep-alive, same signed bytes; ms")
        header = (
            f"{'call':<17} {'direct p50':>10} {'p95':>6} {'gateway p50':>12} {'p95':>6} {'overhead p50':>13} {'p95':>6}"
            f" {'gateway CPU/call':>17}"
        )
        results: dict[str, list[tuple[float, float, float, float, float]]] = {name: [] for name in calls}
        pid = stack.gateway.process.pid
        for run in range(args.runs):
            print(f"\nrun {run + 1}/{args.runs}" if args.runs > 1 else "")
            print(header)
            for name, request in calls.items():
                direct_headers = {**request[2], "x-moto-account-id": box.account_id}
                (d50, d95), (g50, g95), cpu = measure(gateway, emulator, request, direct_headers, args.n, args.warmup, pid)
                results[name].append((d50, d95, g50, g95, cpu))
                print(f"{name:<17} {d50:10.2f} {d95:6.2f} {g50:12.2f} {g95:6.2f} {g50 - d50:13.2f} {g95 - d95:6.2f} {cpu:17.2f}")
        if args.runs > 1:
            print(f"\nmedian of {args.runs} runs")
            print(header)
            for name, rows in results.items():
                d50, d95, g50, g95, cpu = (statistics.median(column) for column in zip(*rows))
                o50 = statistics.median(r[2] - r[0] for r in rows)
                o95 = statistics.median(r[3] - r[1] for r in rows)
                print(f"{name:<17} {d50:10.2f} {d95:6.2f} {g50:12.2f} {g95:6.2f} {o50:13.2f} {o95:6.2f} {cpu:17.2f}")
        worst50 = max(statistics.median(r[2] - r[0] for r in rows) for rows in results.values())
        worst95 = max(statistics.median(r[3] - r[1] for r in rows) for rows in results.values())
        verdict = "meets" if max(worst50, worst95) < TARGET_MS else "MISSES"
        print(f"\nworst overhead: p50 {worst50:.2f} ms, p95 {worst95:.2f} ms; {verdict} the {TARGET_MS:.0f} ms target")

        from django.conf import settings

        from labapp.sandbox import client

        settings.LAB_GATEWAY_URL = stack.url
        client.flush_journal()


if __name__ == "__main__":
    main()
