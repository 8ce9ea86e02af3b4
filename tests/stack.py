"""Start the real emulator and gateway as subprocesses, for tests and benchmarks.

`StackProcess` runs one `manage.py` command with its output in a log file, waits until it answers, and
stops it cleanly (SIGTERM, then SIGKILL). `SandboxStack` starts emulator + gateway on a fresh Unix socket
and a free port, pointed at a given database.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StackProcess:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.args = args
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, ready: Callable[[], bool], timeout: float = 60.0) -> StackProcess:
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [PYTHON, str(REPO / "manage.py"), *self.args],
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, and we stop it ourselves
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if ready():
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready in {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._log.close()


def unix_socket_answers(path: str) -> bool:
    if not os.path.exists(path):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect(path)
        s.sendall(b"GET /_sandbox/stats HTTP/1.1\r\nHost: emulator\r\nConnection: close\r\n\r\n")
        return s.recv(16).startswith(b"HTTP/1.1 200")


def http_health_answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/_gateway/health")
        return conn.getresponse().status == 200
    finally:
        conn.close()


class SandboxStack:
    """Emulator + gateway for one test session or benchmark run."""

    def __init__(self, run_dir: Path, db_env: dict[str, str], extra_env: dict[str, str] | None = None):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.socket_path = str(self.run_dir / "emulator" / "emulator.sock")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "LAB_EMULATOR_SOCKET": self.socket_path,
            "LAB_GATEWAY_HOST": "127.0.0.1",
            "LAB_GATEWAY_PORT": str(self.port),
            "LAB_GATEWAY_URL": self.url,
            "PYTHONUNBUFFERED": "1",
            **db_env,
            **(extra_env or {}),
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py sets it
        self.emulator = StackProcess("emulator", ["emulator"], self.env, self.run_dir)
        self.gateway = StackProcess("gateway", ["gateway"], self.env, self.run_dir)

    def start(self) -> SandboxStack:
        self.emulator.start(lambda: unix_socket_answers(self.socket_path))
        try:
            self.gateway.start(lambda: http_health_answers(self.port))
        except Exception:
            self.emulator.stop()
            raise
        return self

    def stop(self) -> None:
        self.gateway.stop()
        self.emulator.stop()

    def logs(self) -> str:
        return "\n".join(
            f"----- {p.name} ({p.log_path}) -----\n{p.log_tail()}" for p in (self.emulator, self.gateway)
        )

    def __enter__(self) -> SandboxStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
