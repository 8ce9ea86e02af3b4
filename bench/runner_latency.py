"""Console and script runner latency (issue 3), side by side with a plain cold `aws` subprocess.

Runs against a real emulator + gateway. For each sample the pool is given time to refill first (a learner
types between commands); the figure is request -> output stored (a Run row saved) when the runner app's
model is migrated, else request -> RunResult. Targets: console `aws s3 ls` p50 < 150 ms and >= 4x faster
than cold; a boto3 script doing one call p50 < 250 ms. Also prints back-to-back figures (no refill wait).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sandbox_bench import percentiles, setup_database  # noqa: E402

N = int(os.environ.get("BENCH_RUNNER_N", "20"))
SCRIPT = """
import boto3
s3 = boto3.client("s3")
print([b["Name"] for b in s3.list_buckets()["Buckets"]])
"""


def main():
    from labapp.runner.api import run_cli, run_script
    from labapp.runner.pool import Pool
    from tests.stack import SandboxStack

    run_dir, db_env = setup_database()
    from tests.sandbox.helpers import make_sandbox

    with SandboxStack(run_dir / "stack", db_env, {"LAB_GATEWAY_RATE_PER_SECOND": "100000",
                                                  "LAB_GATEWAY_RATE_BURST": "100000"}) as stack:
        box = make_sandbox(stack.url)
        box.client("s3").create_bucket(Bucket=f"bench-{box.account_id}")
        session = box.session
        size = int(os.environ.get("LAB_RUNNER_POOL_SIZE", "2"))
        pool = Pool(size=size, gateway=lambda: ("127.0.0.1", stack.port), runtime_dir=None)
        store = _store_function(session)
        try:
            pool.wait_warm(60)
            aws = str(Path(sys.executable).with_name("aws"))
            env = {**box.cli_env({"PATH": os.environ["PATH"], "HOME": str(run_dir)}),
                   "AWS_ENDPOINT_URL": stack.url, "AWS_EC2_METADATA_DISABLED": "true"}
            cold = []
            for _ in range(max(N // 2, 5)):
                start = time.perf_counter()
                done = subprocess.run([aws, "s3", "ls"], env=env, capture_output=True)
                cold.append((time.perf_counter() - start) * 1000)
                assert done.returncode == 0, done.stderr

            def measure(fn, refill=True):
                samples = []
                for _ in range(N):
                    if refill:
                        pool.wait_warm(60)
                        time.sleep(0.05)
                    start = time.perf_counter()
                    result = fn()
                    store(result)
                    samples.append((time.perf_counter() - start) * 1000)
                    assert result.exit_code == 0 and not result.limit, result
                return samples

            console = measure(lambda: run_cli(session, "aws s3 ls", pool=pool))
            script = measure(lambda: run_script(session, SCRIPT, pool=pool))
            burst = measure(lambda: run_cli(session, "aws s3 ls", pool=pool), refill=False)
        finally:
            pool.close()

    c50, c95 = percentiles(cold)
    w50, w95 = percentiles(console)
    s50, s95 = percentiles(script)
    b50, b95 = percentiles(burst)
    print(f"pool size {size}; samples: {N} per runner row, {len(cold)} cold; figures in ms")
    print(f"{'':38} {'p50':>8} {'p95':>8}")
    print(f"{'cold subprocess `aws s3 ls`':38} {c50:8.1f} {c95:8.1f}")
    print(f"{'runner console `aws s3 ls`':38} {w50:8.1f} {w95:8.1f}   {c50 / w50:.1f}x faster than cold")
    print(f"{'runner boto3 script (one call)':38} {s50:8.1f} {s95:8.1f}")
    print(f"{'runner console, back-to-back (no refill)':38} {b50:8.1f} {b95:8.1f}")
    ok = w50 < 150 and c50 / w50 >= 4 and s50 < 250
    print(f"targets (console p50 < 150 ms and >= 4x cold; script p50 < 250 ms): {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


def _store_function(session):
    """Save each result the way the web panel will (a Run row), if the runner app is installed."""
    from django.apps import apps

    if not apps.is_installed("labapp.runner"):
        return lambda result: None
    from labapp.runner.models import Run

    def store(result):
        Run.objects.create(session=session, kind=Run.Kind.CLI, source="aws s3 ls", status=Run.Status.DONE,
                           stdout=result.stdout, stderr=result.stderr, exit_code=result.exit_code,
                           duration_ms=result.duration_ms, limit=result.limit or "", message=result.message)

    return store


if __name__ == "__main__":
    main()
