"""A small pool of pre-warmed sandboxes per process. Each job takes one; it is never reused.

A single long-lived filler thread builds every sandbox (bwrap's --die-with-parent follows the thread
that spawned it, so spawning from short-lived request threads would kill sandboxes early). `acquire()`
hands out a ready sandbox, or waits for the filler to build one. Warming sandboxes run with a low
cpu.shares, so they yield the CPU to jobs that are running.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path

from .sandbox import Limits, Outcome, Relay, Runtime, RunnerUnavailable, Sandbox

log = logging.getLogger(__name__)


class Pool:
    def __init__(self, size: int = 2, runtime: Runtime | None = None, gateway=None, tmpfs_mb: int = 16,
                 runtime_dir: Path | None = None, host_uid: int | None = 65534, cgroups: bool = True,
                 relay_max_connections: int = 32):
        self.size = max(int(size), 0)
        self.runtime = runtime or Runtime.discover(runtime_dir, host_uid, cgroups)
        self.relay = Relay(gateway or (lambda: ("127.0.0.1", 4566)), relay_max_connections)
        self.tmpfs_mb = tmpfs_mb
        self.pid = os.getpid()
        self.ready: deque[Sandbox] = deque()
        self.waiters = 0
        self.closed = False
        self.error: str | None = None
        self.cv = threading.Condition()
        self.spawned = 0
        self.thread = threading.Thread(target=self._fill, daemon=True, name="runner-pool")
        self.thread.start()

    # --- filler ---------------------------------------------------------------------------

    def _wanted(self) -> bool:
        return not self.closed and (len(self.ready) < self.size or self.waiters > len(self.ready))

    def _fill(self) -> None:
        while True:
            with self.cv:
                while not self.closed and not self._wanted():
                    self.cv.wait()
                if self.closed:
                    return
            try:
                sandbox = Sandbox(self.runtime, self.relay, tmpfs_mb=self.tmpfs_mb)
                sandbox.wait_ready()
            except Exception as error:  # noqa: BLE001 - reported to whoever waits, then retried
                log.exception("runner: could not build a sandbox")
                try:
                    sandbox.destroy()  # type: ignore[possibly-undefined]
                except Exception:
                    pass
                with self.cv:
                    self.error = f"{type(error).__name__}: {error}"
                    self.cv.notify_all()
                time.sleep(1.0)
                continue
            with self.cv:
                self.spawned += 1
                self.error = None
                if self.closed:
                    sandbox.destroy()
                    return
                self.ready.append(sandbox)
                self.cv.notify_all()

    # --- users ----------------------------------------------------------------------------

    def acquire(self, timeout: float = 30.0) -> Sandbox:
        deadline = time.monotonic() + timeout
        with self.cv:
            self.waiters += 1
            self.cv.notify_all()
            try:
                while True:
                    while self.ready:
                        sandbox = self.ready.popleft()
                        if sandbox.alive():
                            self.cv.notify_all()  # the filler builds a replacement
                            return sandbox
                        sandbox.destroy()
                    if self.closed:
                        raise RunnerUnavailable("the runner pool is closed")
                    if self.error and self.spawned == 0:
                        raise RunnerUnavailable(self.error)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise RunnerUnavailable(self.error or "no sandbox became ready in time")
                    self.cv.wait(remaining)
            finally:
                self.waiters -= 1

    def run(self, job: dict, limits: Limits, should_stop=None) -> Outcome:
        if should_stop is None:
            return self.acquire().run(job, limits)
        return self.acquire().run(job, limits, should_stop=should_stop)

    def wait_warm(self, timeout: float = 30.0) -> bool:
        """Block until the pool holds `size` ready sandboxes (benchmarks, tests)."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while len(self.ready) < self.size and time.monotonic() < deadline:
                if self.error and self.spawned == 0:
                    raise RunnerUnavailable(self.error)
                self.cv.wait(max(deadline - time.monotonic(), 0.01))
            return len(self.ready) >= self.size

    def close(self) -> None:
        with self.cv:
            self.closed = True
            ready, self.ready = list(self.ready), deque()
            self.cv.notify_all()
        for sandbox in ready:
            sandbox.destroy()
        self.thread.join(timeout=35)


class ServingSandbox:
    """Runs a series of jobs of one trusted caller in one sandbox taken from `pool`, each in a fresh process
    forked from the sandbox's warm interpreter (see Sandbox.serve): `lab test` runs every lab's reference
    solution through it. Has the pool's `run(job, limits)`, so `api.run_cli(..., pool=serving)` works.
    Learners' commands never use it: each of theirs gets a sandbox of its own. Not thread-safe: one per
    thread."""

    def __init__(self, pool: Pool):
        self.pool = pool
        self.sandbox: Sandbox | None = None
        self.jobs = 0

    def run(self, job: dict, limits: Limits) -> Outcome:
        if self.sandbox is None or self.sandbox.closed:
            self.sandbox = self.pool.acquire()
        self.jobs += 1
        return self.sandbox.serve(job, limits)  # a dead sandbox is replaced on the next job

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.destroy()
            self.sandbox = None

    def __enter__(self) -> "ServingSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def runtime_dir_from_settings() -> Path:
    from django.conf import settings

    return Path(settings.LAB_RUNNER_DIR)


def pool_from_settings(size: int | None = None) -> Pool:
    """A pool configured like the worker's (gateway, runtime dir, sandbox uid); `size` overrides
    LAB_RUNNER_POOL_SIZE (0: build each sandbox on demand)."""
    from django.conf import settings

    return Pool(
        size=settings.LAB_RUNNER_POOL_SIZE if size is None else size,
        gateway=settings_gateway,
        runtime_dir=runtime_dir_from_settings(),
        host_uid=settings.LAB_RUNNER_UID,
        cgroups=not settings.LAB_RUNNER_NO_CGROUPS,
        relay_max_connections=settings.LAB_RUNNER_RELAY_MAX_CONNECTIONS,
    )


def settings_gateway() -> tuple[str, int]:
    """Where relays connect: LAB_RUNNER_GATEWAY_HOST/PORT (the gateway's address by default)."""
    from django.conf import settings

    return settings.LAB_RUNNER_GATEWAY_HOST, int(settings.LAB_RUNNER_GATEWAY_PORT)


_default: Pool | None = None
_default_lock = threading.Lock()


def default_pool() -> Pool:
    """The process's pool, built from settings on first use (again in a forked child)."""
    global _default
    with _default_lock:
        if _default is None or _default.pid != os.getpid():
            _default = pool_from_settings()
        return _default


@atexit.register
def _close_default() -> None:
    if _default is not None and _default.pid == os.getpid():
        _default.close()
