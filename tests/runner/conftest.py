"""Fixtures for the runner tests: one pool of pre-warmed sandboxes with a stub gateway, short limits.

The pool is built after a canary variable is put into this process's environment, so every sandbox's
bwrap inherits it and the tests can prove the learner's process does not."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from types import SimpleNamespace

import pytest

from labapp.runner.sandbox import Limits

CANARY = f"canary-{uuid.uuid4().hex}"
# Short limits keep the hostile suite fast; the production defaults are in sandbox.Limits.
TEST_LIMITS = Limits(wall_seconds=3, cpu_seconds=2, memory_mb=256, processes=32, output_bytes=64 * 1024, tmpfs_mb=16)


class StubGateway:
    """A TCP server standing in for the gateway: answers every request with a fixed HTTP 200 and
    remembers what it received."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    data = conn.recv(65536)
                except OSError:
                    continue
                self.requests.append(data)
                body = b"GATEWAY-OK"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


@pytest.fixture(scope="session")
def stub_gateway():
    gateway = StubGateway()
    yield gateway
    gateway.sock.close()


@pytest.fixture(scope="session")
def runner_pool(stub_gateway):
    from labapp.runner.pool import Pool
    from labapp.runner.sandbox import RunnerUnavailable

    os.environ["LAB_CANARY_SECRET"] = CANARY
    try:
        pool = Pool(size=2, gateway=lambda: ("127.0.0.1", stub_gateway.port))
        pool.wait_warm(60)
    except RunnerUnavailable as error:
        # Not a skip: the console is a core feature, and `make test` installs what it needs.
        pytest.fail(f"the runner sandbox is unavailable here: {error}")
    yield pool
    pool.close()
    os.environ.pop("LAB_CANARY_SECRET", None)


@pytest.fixture
def fake_session():
    return SimpleNamespace(access_key_id="AKIDRUNNERTEST0000001", secret_access_key="runner-test-secret", region="us-east-1")


@pytest.fixture
def run(runner_pool, fake_session):
    """run(source) -> (RunResult, Outcome): a script in a fresh sandbox with the test limits."""
    from labapp.runner.api import run_job, session_env

    def _run(source: str, limits: Limits = TEST_LIMITS):
        result, outcome = run_job({"mode": "script", "source": source, "env": session_env(fake_session)}, limits, runner_pool)
        assert not result.infra_error, result.message
        return result, outcome

    return _run


def survivors(outcome, grace: float = 5.0) -> list[int]:
    """Processes of a finished sandbox still alive on the host: its pids, anything in its pid namespace,
    anything left in its cgroups. Must be [].

    When a pid namespace's init dies the kernel kills the rest asynchronously; on a loaded machine a fork
    bomb's last children can take seconds to finish dying (the full suite on a 2-core machine). Those are
    not left behind, so they get `grace` seconds; anything still there after that is."""
    deadline = time.monotonic() + grace
    while (left := _alive(outcome)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _alive(outcome) -> list[int]:
    import psutil

    def survivor(pid: int) -> bool:
        try:
            process = psutil.Process(pid)
            # Pids and even pid-namespace ids ("pid:[4026532257]") are reused: the pool's next sandbox is
            # often given the very namespace id of the one just torn down. A process born after the
            # teardown is not a survivor of this sandbox.
            born_later = outcome.torn_down_at and process.create_time() > outcome.torn_down_at - 0.05
            return process.status() != psutil.STATUS_ZOMBIE and not born_later
        except psutil.NoSuchProcess:
            return False

    left = {pid for pid in outcome.pids if psutil.pid_exists(pid) and survivor(pid)}
    if outcome.pidns:
        in_namespace = []
        for proc in psutil.process_iter():
            try:
                if os.readlink(f"/proc/{proc.pid}/ns/pid") == outcome.pidns and survivor(proc.pid):
                    in_namespace.append(proc.pid)
            except (OSError, psutil.Error):
                pass
        # A namespace id freed by this sandbox's teardown can be handed to the pool's next sandbox before
        # torn_down_at is stamped (seen under load). The namespace is another sandbox's when its init (pid 1
        # inside) is alive and is not this sandbox's: its processes are not survivors of this one.
        inits = [pid for pid in in_namespace if _innermost_pid(pid) == 1]
        if not (inits and not set(inits) & set(outcome.pids)):
            left.update(in_namespace)
    for directory in outcome.cgroup_dirs:
        if os.path.exists(directory):
            with open(os.path.join(directory, "cgroup.procs")) as procs:
                left.update(int(p) for p in procs.read().split())
    return sorted(left)


def _innermost_pid(pid: int) -> int | None:
    """The process's pid inside its own pid namespace (the last NSpid field of /proc/<pid>/status)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except OSError:
        pass
    return None


def describe(pid: int) -> str:
    import psutil

    try:
        p = psutil.Process(pid)
        return f"{pid} {p.name()} {p.cmdline()[:6]} uid={p.uids().real} ns={os.readlink(f'/proc/{pid}/ns/pid')}"
    except Exception as error:  # noqa: BLE001
        return f"{pid} ({error})"
