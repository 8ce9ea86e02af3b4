"""The Celery worker of the test stack, next to the emulator and gateway of tests/stack.py.

The worker runs the project's real Celery app against real Redis, on a queue of its own (so a
`make run` on the same machine never takes the tests' jobs), with the reaper schedule (`-B`) and
short job leases so tests of dead workers finish in seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.stack import PYTHON, REPO

JOB_LEASE_SECONDS = "4"
REQUEUE_AFTER_SECONDS = "5"


class LabWorker:
    def __init__(self, env: dict[str, str], run_dir: Path, concurrency: int = 2):
        self.env = {
            **env,
            "LAB_JOB_LEASE_SECONDS": JOB_LEASE_SECONDS,
            "LAB_REQUEUE_AFTER_SECONDS": REQUEUE_AFTER_SECONDS,
        }
        self.run_dir = run_dir
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.run_dir / f"worker-{self.starts}.log"

    def start(self, timeout: float = 60) -> LabWorker:
        self.starts += 1
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "labapp", "worker", "-B", "--loglevel", "INFO",
             "--concurrency", str(self.concurrency), "--hostname", f"tests-{os.getpid()}-{self.starts}@%h",
             "--scheduler", "celery.beat:Scheduler", "--without-gossip", "--without-mingle"],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"the Celery worker did not start:\n{self.log_tail()}")
            time.sleep(0.1)
        return self

    def pool_children(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children(recursive=True)]

    def kill(self) -> None:
        """SIGKILL the whole worker, pool children included: nothing gets a chance to clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 15) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"
