"""Shared set-up for the sandbox benchmarks: a throwaway database, a session row, and the stack."""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def setup_database() -> tuple[Path, dict]:
    run_dir = Path(tempfile.mkdtemp(prefix="lab-bench-"))
    db_env = {"LAB_SQLITE_PATH": str(run_dir / "bench.sqlite3")}
    os.environ.update(db_env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labapp.settings")
    subprocess.run([sys.executable, str(REPO / "manage.py"), "migrate", "-v0"], check=True, env={**os.environ})
    import django

    django.setup()
    return run_dir, db_env


def make_sessions(count: int, gateway_url: str):
    from tests.sandbox.helpers import make_sandbox

    return [make_sandbox(gateway_url) for _ in range(count)]


def percentiles(samples_ms: list[float]) -> tuple[float, float]:
    """(median, 95th percentile by nearest rank)."""
    ordered = sorted(samples_ms)
    return statistics.median(ordered), ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def wait(obj, done, timeout: float, poll: float) -> None:
    """Re-read a model row every `poll` seconds until `done(row)`; exit the benchmark after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        obj.refresh_from_db()
        if done(obj):
            return
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {obj}")
        time.sleep(poll)
