"""Talking to the emulator over its Unix socket with persistent connections.

A request borrows a keep-alive connection from a small shared pool and returns it afterwards (http.client
connections are not thread-safe, so one is never shared by two threads at once). The gateway's server
starts a thread per client connection, so a pool that outlives threads keeps reusing the same sockets
instead of connecting anew for every client.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from dataclasses import dataclass


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over AF_UNIX; the "host" is only used for the Host header default."""

    def __init__(self, socket_path: str, timeout: float = 60.0):
        super().__init__("emulator", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


@dataclass
class UpstreamResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


# A reused connection can turn out to be closed by the other side; these mean "try a fresh one".
_STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class Upstream:
    MAX_IDLE = 32

    def __init__(self, socket_path: str, timeout: float = 60.0):
        self.socket_path = socket_path
        self.timeout = timeout
        self._idle: list[UnixHTTPConnection] = []
        self._lock = threading.Lock()

    def _borrow(self) -> tuple[UnixHTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return UnixHTTPConnection(self.socket_path, self.timeout), False

    def _give_back(self, conn: UnixHTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def request(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"") -> UpstreamResponse:
        """Send one request; `headers` must not contain Content-Length (it is set from `body`)."""
        for _attempt in range(2):
            conn, reused = self._borrow()
            try:
                conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body or None)
                response = conn.getresponse()
                payload = response.read()
            except _STALE_CONNECTION_ERRORS:
                conn.close()
                if reused:
                    continue
                raise
            except Exception:
                conn.close()
                raise
            if response.will_close:
                conn.close()
            else:
                self._give_back(conn)
            return UpstreamResponse(response.status, response.reason, response.getheaders(), payload)
        raise ConnectionError("emulator connection failed twice")

    def get_json(self, path: str) -> tuple[int, dict]:
        response = self.request("GET", path, [("Host", "emulator")])
        try:
            return response.status, json.loads(response.body or b"{}")
        except ValueError:
            return response.status, {}

    def post_json(self, path: str) -> tuple[int, dict]:
        response = self.request("POST", path, [("Host", "emulator")])
        try:
            return response.status, json.loads(response.body or b"{}")
        except ValueError:
            return response.status, {}
