"""Talking to the emulator over its Unix socket with persistent connections.

A request borrows a keep-alive connection from a small shared pool and returns it afterwards (a
connection is never shared by two threads at once). The gateway's server starts a thread per client
connection, so a pool that outlives threads keeps reusing the same sockets instead of connecting anew for
every client.

Requests are written and responses read here rather than with http.client: it costs about 0.3 ms of CPU
per call more, mostly parsing the response headers with the email package. The bytes on the wire and the
checks on them are http.client's: the same request line and header validation (no CR/LF injection), the
same status-line and header parsing (httpserver.parse_header_lines), Content-Length, chunked and
read-until-close bodies, and the same exceptions for a connection the emulator closed.
"""

from __future__ import annotations

import http.client
import json
import re
import select
import socket
import threading
import time
from dataclasses import dataclass

from labapp.sandbox.httpserver import IDLE_TIMEOUT, MAX_LINE, parse_header_lines, read_header_lines

# http.client's own validation of what goes on the request line and in header lines.
_DISALLOWED_METHOD_CHAR = re.compile("[\x00-\x1f]")
_DISALLOWED_URL_CHAR = re.compile("[\x00-\x20\x7f]")
_LEGAL_HEADER_NAME = re.compile(rb"[^:\s][^:\r\n]*").fullmatch
_ILLEGAL_HEADER_VALUE = re.compile(rb"\n(?![ \t])|\r(?![ \t\n])").search
_BODYLESS_METHODS = ("GET", "HEAD", "DELETE", "OPTIONS")


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over AF_UNIX; the "host" is only used for the Host header default. (Benchmarks and
    tests talk to the emulator with it; the gateway itself uses Upstream.)"""

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


class _NoResponse(Exception):
    """The connection failed before the first byte of a response arrived."""


class _Connection:
    __slots__ = ("sock", "rfile", "idle_since")

    def __init__(self, socket_path: str, timeout: float):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.idle_since = 0.0

    def looks_closed(self) -> bool:
        """An idle keep-alive connection has nothing to read; if it is readable, the peer closed it
        (or sent something unasked for): either way it cannot carry a request."""
        poller = select.poll()  # not select.select: descriptors above 1024 are common in a busy gateway
        poller.register(self.sock, select.POLLIN | select.POLLERR | select.POLLHUP)
        try:
            return bool(poller.poll(0))
        except OSError:
            return True

    def close(self) -> None:
        try:
            self.rfile.close()
        finally:
            self.sock.close()


def encode_request(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    """The request as http.client's putrequest/putheader/endheaders would send it (skip_host,
    skip_accept_encoding), refusing the same malformed methods, targets and headers."""
    if _DISALLOWED_METHOD_CHAR.search(method):
        raise ValueError(f"method can't contain control characters. {method!r}")
    if _DISALLOWED_URL_CHAR.search(target):
        raise http.client.InvalidURL(f"URL can't contain control characters. {target!r}")
    out = [f"{method} {target or '/'} HTTP/1.1\r\n".encode("ascii")]
    for name, value in headers:
        name_bytes = name.encode("ascii")
        if not _LEGAL_HEADER_NAME(name_bytes):
            raise ValueError(f"Invalid header name {name_bytes!r}")
        value_bytes = value.encode("latin-1")
        if _ILLEGAL_HEADER_VALUE(value_bytes):
            raise ValueError(f"Invalid header value {value_bytes!r}")
        out.append(name_bytes + b": " + value_bytes + b"\r\n")
    if body or method not in _BODYLESS_METHODS:
        out.append(b"Content-Length: %d\r\n" % len(body))
    out.append(b"\r\n")
    out.append(body)
    return b"".join(out)


def _read_status(rfile) -> tuple[int, int, str]:
    """(version 10|11, status, reason) as http.client reads them, skipping 100 Continue responses."""
    while True:
        line = str(rfile.readline(MAX_LINE + 1), "iso-8859-1")
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("status line")
        if not line:
            raise http.client.RemoteDisconnected("Remote end closed connection without response")
        try:
            version, status, reason = line.split(None, 2)
        except ValueError:
            try:
                version, status = line.split(None, 1)
                reason = ""
            except ValueError:
                version = ""
        if not version.startswith("HTTP/"):
            raise http.client.BadStatusLine(line)
        try:
            status = int(status)
        except ValueError:
            raise http.client.BadStatusLine(line) from None
        if status < 100 or status > 999:
            raise http.client.BadStatusLine(line)
        if status != 100:
            break
        read_header_lines(rfile)  # the headers of an interim 100 Continue
    if version == "HTTP/1.0":
        number = 10
    elif version.startswith("HTTP/1."):
        number = 11
    else:
        raise http.client.UnknownProtocol(version)
    return number, status, reason.strip()


def _will_close(version: int, headers) -> bool:
    connection = headers.get("connection")
    if version == 11:
        return bool(connection and "close" in connection.lower())
    if headers.get("keep-alive"):
        return False
    if connection and "keep-alive" in connection.lower():
        return False
    proxy_connection = headers.get("proxy-connection")
    return not (proxy_connection and "keep-alive" in proxy_connection.lower())


def _read_exactly(rfile, amount: int) -> bytes:
    data = rfile.read(amount)
    if len(data) < amount:
        raise http.client.IncompleteRead(data, amount - len(data))
    return data


def _read_chunked(rfile) -> bytes:
    parts = []
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("chunk size")
        size_text = line.split(b";", 1)[0]
        try:
            size = int(size_text, 16)
        except ValueError:
            raise http.client.IncompleteRead(b"".join(parts)) from None
        if size == 0:
            break
        parts.append(_read_exactly(rfile, size))
        _read_exactly(rfile, 2)  # CRLF after the chunk
    while True:  # trailers, up to the empty line
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("trailer line")
        if line in (b"\r\n", b"\n", b""):
            break
    return b"".join(parts)


def read_response(rfile, method: str) -> tuple[int, str, list[tuple[str, str]], bytes, bool]:
    """(status, reason, headers, body, will_close) of one response, read the way http.client does."""
    version, status, reason = _read_status(rfile)
    headers = parse_header_lines(read_header_lines(rfile))
    transfer_encoding = headers.get("transfer-encoding")
    chunked = bool(transfer_encoding and transfer_encoding.lower() == "chunked")
    will_close = _will_close(version, headers)
    length = None
    if not chunked:
        content_length = headers.get("content-length")
        if content_length:
            try:
                length = int(content_length)
            except ValueError:
                length = None
            else:
                if length < 0:
                    length = None
    if status in (204, 304) or 100 <= status < 200 or method == "HEAD":
        length = 0
    if not will_close and not chunked and length is None:
        will_close = True
    if method == "HEAD":
        body = b""
    elif chunked:
        body = _read_chunked(rfile)
    elif length is None:
        body = rfile.read()
    else:
        body = _read_exactly(rfile, length) if length else b""
    return status, reason, list(headers.items()), body, will_close


class Upstream:
    MAX_IDLE = 32

    def __init__(self, socket_path: str, timeout: float = 60.0, max_idle_seconds: float = IDLE_TIMEOUT / 2):
        self.socket_path = socket_path
        self.timeout = timeout
        # The emulator's server closes a connection idle for IDLE_TIMEOUT; ours are dropped well before.
        self.max_idle_seconds = max_idle_seconds
        self._idle: list[_Connection] = []  # oldest first
        self._lock = threading.Lock()
        self.connections_made = 0  # for tests and benchmarks

    def _connect(self) -> _Connection:
        self.connections_made += 1
        return _Connection(self.socket_path, self.timeout)

    def _borrow(self) -> tuple[_Connection, bool]:
        stale = []
        try:
            with self._lock:
                cutoff = time.monotonic() - self.max_idle_seconds
                while self._idle and self._idle[0].idle_since < cutoff:
                    stale.append(self._idle.pop(0))
                while self._idle:
                    conn = self._idle.pop()
                    if conn.looks_closed():
                        stale.append(conn)
                        continue
                    return conn, True
        finally:
            for conn in stale:
                conn.close()
        return self._connect(), False

    def _give_back(self, conn: _Connection) -> None:
        conn.idle_since = time.monotonic()
        with self._lock:
            if len(self._idle) < self.MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _exchange(self, conn: _Connection, method: str, data: bytes):
        """Send and read one response; _NoResponse if the connection failed before any response byte."""
        try:
            conn.sock.sendall(data)
            first = conn.rfile.peek(1)
        except _STALE_CONNECTION_ERRORS as exc:
            raise _NoResponse(str(exc)) from exc
        if not first:
            raise _NoResponse("the emulator closed the connection without a response")
        return read_response(conn.rfile, method)

    def request(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"") -> UpstreamResponse:
        """Send one request; `headers` must not contain Content-Length (it is set from `body`).

        A pooled connection that fails before any byte of a response was read is retried once on a fresh
        connection. That is safe: the emulator's server closes a keep-alive connection only while waiting
        for a request line, or after answering one, so a request that got no byte back was not processed
        (only a crash of the emulator breaks that, and then the fresh connection fails too)."""
        data = encode_request(method, target, headers, body)
        conn, reused = self._borrow()
        try:
            try:
                status, reason, response_headers, payload, will_close = self._exchange(conn, method, data)
            except _NoResponse:
                conn.close()
                if not reused:
                    raise http.client.RemoteDisconnected("the emulator closed the connection without a response")
                conn = self._connect()
                status, reason, response_headers, payload, will_close = self._exchange(conn, method, data)
        except _NoResponse:
            conn.close()
            raise http.client.RemoteDisconnected("the emulator closed the connection without a response") from None
        except BaseException:
            conn.close()
            raise
        if will_close:
            conn.close()
        else:
            self._give_back(conn)
        return UpstreamResponse(status, reason, response_headers, payload)

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
