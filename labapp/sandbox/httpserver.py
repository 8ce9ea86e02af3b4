"""A small threaded WSGI server with real HTTP/1.1 keep-alive, on TCP or a Unix socket.

Werkzeug's development server closes every connection after one response (werkzeug/serving.py says
so: http.server cannot drain a request body before the next request line). SDKs and the gateway's
upstream pool reuse connections, so a fresh TCP or Unix connection plus a fresh thread per call would
be most of the gateway's overhead. This server always knows where a request body ends (Content-Length
or chunked), drains it after the app ran, buffers the app's response, and sends status line, headers
and body in one write with TCP_NODELAY (no Nagle/delayed-ACK stalls).

Both apps served here (gateway, emulator) build their whole response in memory anyway.

Facing learners (the gateway), the server also defends itself: message framing is strict (a request with
both Content-Length and Transfer-Encoding, several differing lengths, or any transfer coding but
"chunked" is refused and the connection closed: request smuggling), `ConnectionLimits` caps
connections in all and per client address (503 SlowDown beyond them, no thread started), a request must
arrive within a deadline (slowloris), and "Expect: 100-continue" is answered only when the app starts
reading the body, so an app that refuses a request first never invites its body.
"""

from __future__ import annotations

import email.parser
import http.client
import os
import re
import socket
import socketserver
import sys
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote_to_bytes

IDLE_TIMEOUT = 120  # seconds a keep-alive connection may sit idle (clients' pools must drop theirs sooner)
_NO_BODY_STATUSES = {204, 304}
MAX_LINE = 65536  # the limits http.client applies
MAX_HEADERS = 100
# The whole header block: lines of MAX_LINE times MAX_HEADERS would let one unauthenticated connection
# hold 6 MB (measured: 10 MB of gateway memory each). AWS's own header limits are a few KB.
MAX_HEADER_BYTES = 64 * 1024
MAX_TRAILERS = 16
MAX_DRAIN = 64 * 1024  # unread body bytes worth reading to keep a connection; beyond that it is closed
LINGER_SECONDS, LINGER_GAP, LINGER_BYTES = 10.0, 2.0, 64 * 1024 * 1024  # discarding a refused body
_DIGITS = re.compile(r"[0-9]{1,18}")
_CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,15})(?:;[^\r\n]*)?\r?\n")


@dataclass(frozen=True)
class ConnectionLimits:
    """What one listener facing untrusted clients tolerates. None of these apply to the emulator's socket."""

    max_connections: int = 512
    max_per_client: int = 128
    # Addresses the per-client cap does not apply to (the total does): the platform's own.
    uncapped_clients: frozenset[str] = frozenset()
    header_timeout: float = 20.0  # seconds for a request line and headers once a request is due
    min_body_rate: int = 64 * 1024  # bytes per second a body must at least arrive at
    overload_body: bytes = b""  # what a refused connection is told (the gateway sends an AWS-style error)

# --- header blocks ----------------------------------------------------------------------------------
# http.client parses a header block with the email package (~0.2 ms a block, twice per proxied call).
# Header blocks from SDKs and from our own server are plain "Name: value" lines, which are parsed here
# directly; any block with a line that is not of that form (folded lines, control or non-ASCII bytes,
# a space before the colon...) is handed to the email parser as before, so the result is always exactly
# what http.client would produce.
_PLAIN_HEADER_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\t\x20-\x7e]*)\r?\n")
_END_OF_HEADERS = (b"\r\n", b"\n", b"")


class Headers:
    """The parts of http.client.HTTPMessage used here: ordered (name, value) pairs, case-insensitive get."""

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[str, str]]):
        self._items = items

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def keys(self) -> list[str]:
        return [name for name, _ in self._items]

    def values(self) -> list[str]:
        return [value for _, value in self._items]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._items)

    def get(self, name: str, failobj=None):
        name = name.lower()
        for key, value in self._items:
            if key.lower() == name:
                return value
        return failobj

    def __getitem__(self, name: str):
        return self.get(name)

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def get_all(self, name: str, failobj=None):
        name = name.lower()
        found = [value for key, value in self._items if key.lower() == name]
        return found or failobj


def read_header_lines(fp) -> list[bytes]:
    """The raw lines of a header block, up to and including the empty line (http.client's limits)."""
    lines = []
    total = 0
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        total += len(line)
        if total > MAX_HEADER_BYTES:
            raise http.client.HTTPException(f"the headers are longer than {MAX_HEADER_BYTES} bytes")
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        if line in _END_OF_HEADERS:
            return lines


def parse_header_lines(lines: list[bytes]):
    """Headers (or, for unusual blocks, an http.client.HTTPMessage) exactly as http.client parses them."""
    items = []
    match = _PLAIN_HEADER_LINE.fullmatch
    for line in lines:
        if line in _END_OF_HEADERS:
            break
        found = match(line)
        if found is None:
            text = b"".join(lines).decode("iso-8859-1")
            return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)
        items.append((found[1].decode("ascii"), found[2].decode("ascii")))
    return Headers(items)


class BadFraming(Exception):
    """The request's body framing is ambiguous or malformed; answer 400 and close the connection."""


class ChunkedBody:
    """A strict reader of a chunked body: hexadecimal sizes only (no signs, prefixes or underscores that
    int() would accept), CRLF after every chunk, a bounded trailer section."""

    def __init__(self, rfile):
        self.rfile = rfile
        self.left_in_chunk = 0
        self.done = False

    def _next_chunk(self) -> None:
        line = self.rfile.readline(MAX_LINE + 1)
        match = _CHUNK_SIZE_LINE.fullmatch(line)
        if match is None:
            raise BadFraming("invalid chunk size line")
        self.left_in_chunk = int(match.group(1), 16)
        if self.left_in_chunk == 0:
            for _ in range(MAX_TRAILERS + 1):
                if self.rfile.readline(MAX_LINE + 1) in _END_OF_HEADERS:
                    self.done = True
                    return
            raise BadFraming("too many trailer lines")

    def read(self, size: int = -1) -> bytes:
        parts, wanted = [], size if size is not None and size >= 0 else None
        while not self.done and (wanted is None or wanted > 0):
            if self.left_in_chunk == 0:
                self._next_chunk()
                continue
            amount = self.left_in_chunk if wanted is None else min(wanted, self.left_in_chunk)
            data = self.rfile.read(amount)
            if len(data) < amount:
                raise BadFraming("the connection closed inside a chunk")
            parts.append(data)
            self.left_in_chunk -= amount
            if wanted is not None:
                wanted -= amount
            if self.left_in_chunk == 0 and self.rfile.read(2) not in (b"\r\n",):
                raise BadFraming("a chunk is not followed by CRLF")
        return b"".join(parts)

    @property
    def exhausted(self) -> bool:
        return self.done


class LengthBody:
    def __init__(self, rfile, length: int):
        self.rfile = rfile
        self.left = length

    def read(self, size: int = -1) -> bytes:
        amount = self.left if size is None or size < 0 else min(size, self.left)
        if amount <= 0:
            return b""
        data = self.rfile.read(amount)
        self.left -= len(data)
        if len(data) < amount:
            self.left = 0
            raise ConnectionError("the client closed the connection inside the body")
        return data

    @property
    def exhausted(self) -> bool:
        return self.left <= 0


class RequestBody:
    """wsgi.input: sends a deferred "100 Continue" on the first read and tells the handler when the
    whole body has arrived (its read deadline ends there)."""

    def __init__(self, handler, inner):
        self.handler = handler
        self.inner = inner
        self.continue_pending = False
        self.started = False

    def read(self, size: int = -1) -> bytes:
        if not self.started:
            self.started = True
            if self.continue_pending:
                self.continue_pending = False
                self.handler.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        data = self.inner.read(size)
        if self.inner.exhausted:
            self.handler.body_finished()
        return data

    def readline(self, size: int = -1) -> bytes:
        # Apps here read bodies in blocks; a line reader built on read(1) is enough for the rare caller.
        out = bytearray()
        while size is None or size < 0 or len(out) < size:
            byte = self.read(1)
            if not byte:
                break
            out += byte
            if byte == b"\n":
                break
        return bytes(out)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __iter__(self):
        while line := self.readline():
            yield line

    @property
    def exhausted(self) -> bool:
        return self.inner.exhausted


class WSGIRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AWSDeveloperLab"
    sys_version = ""
    timeout = IDLE_TIMEOUT

    def setup(self) -> None:
        super().setup()
        if self.server.address_family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.limits: ConnectionLimits | None = getattr(self.server, "limits", None)
        self.requests_served = 0
        self.unread_body = False

    def finish(self) -> None:
        super().finish()
        if self.unread_body:
            self._linger()

    def _linger(self) -> None:
        """Closing a socket with unread input makes the kernel send a reset, which can destroy the answer
        before the client reads it (it is still sending the body we refused). So, as nginx's lingering
        close does: stop writing, read and discard (nothing is kept) for a while, then close."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(LINGER_GAP)
            deadline, discarded = time.monotonic() + LINGER_SECONDS, 0
            while time.monotonic() < deadline and discarded < LINGER_BYTES:
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                discarded += len(chunk)
        except OSError:
            pass

    # --- deadlines (only with ConnectionLimits) ---

    def _set_deadline(self, seconds: float | None) -> None:
        if self.limits is not None:
            self.server.watchdog.set(self, None if seconds is None else time.monotonic() + seconds)

    def body_finished(self) -> None:
        self._set_deadline(None)  # the app works on it now: the client owes nothing until the next request

    def handle(self) -> None:
        try:
            super().handle()
        finally:
            if self.limits is not None:
                self.server.watchdog.set(self, None)

    def handle_expect_100(self) -> bool:
        # Answered on the first read of the body (RequestBody), not before the app saw the headers.
        self.expect_continue = True
        return True

    def address_string(self) -> str:
        return self.client_address[0] if isinstance(self.client_address, tuple) else "unix"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the journal is the request log
        pass

    def parse_request(self) -> bool:
        """BaseHTTPRequestHandler.parse_request (Python 3.12) with the header block parsed by
        parse_header_lines instead of the email package; every check and answer is the same."""
        self.command = None  # set in case of error on the first line
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1")
        requestline = requestline.rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) == 0:
            return False

        if len(words) >= 3:  # Enough to determine protocol version
            version = words[-1]
            try:
                if not version.startswith("HTTP/"):
                    raise ValueError
                base_version_number = version.split("/", 1)[1]
                version_number = base_version_number.split(".")
                if len(version_number) != 2:
                    raise ValueError
                if any(not component.isdigit() for component in version_number):
                    raise ValueError("non digit in http version")
                if any(len(component) > 10 for component in version_number):
                    raise ValueError("unreasonable length http version")
                version_number = int(version_number[0]), int(version_number[1])
            except (ValueError, IndexError):
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
                return False
            if version_number >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            if version_number >= (2, 0):
                self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, f"Invalid HTTP version ({base_version_number})")
                return False
            self.request_version = version

        if not 2 <= len(words) <= 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({requestline!r})")
            return False
        command, path = words[:2]
        if len(words) == 2:
            self.close_connection = True
            if command != "GET":
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad HTTP/0.9 request type ({command!r})")
                return False
        self.command, self.path = command, path

        # gh-87389: "//path" is reduced to "/path" (open redirects).
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")

        try:
            self.headers = parse_header_lines(read_header_lines(self.rfile))
        except http.client.LineTooLong as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", str(err))
            return False
        except http.client.HTTPException as err:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", str(err))
            return False

        conntype = self.headers.get("Connection", "")
        if conntype.lower() == "close":
            self.close_connection = True
        elif conntype.lower() == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        expect = self.headers.get("Expect", "")
        if (
            expect.lower() == "100-continue"
            and self.protocol_version >= "HTTP/1.1"
            and self.request_version >= "HTTP/1.1"
        ):
            if not self.handle_expect_100():
                return False
        return True

    def handle_one_request(self) -> None:
        self.expect_continue = False
        if self.limits is not None:
            # The first request must come promptly; later ones may wait out the keep-alive idle time.
            first = self.requests_served == 0
            self._set_deadline(self.limits.header_timeout if first else self.timeout + self.limits.header_timeout)
        self.requests_served += 1
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (TimeoutError, ConnectionError):
            self.close_connection = True
            return
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():  # also answers "Expect: 100-continue"
            return
        try:
            self.run_wsgi()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def make_environ(self, body_stream) -> dict:
        path, _, query = self.path.partition("?")
        environ = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": body_stream,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "SERVER_SOFTWARE": self.server_version,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            # PEP 3333: the decoded bytes of the path, as latin-1 text.
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": self.path,
            "REQUEST_URI": self.path,
            "REMOTE_ADDR": self.address_string(),
            "SERVER_NAME": str(self.server.server_address[0]) if isinstance(self.server.server_address, tuple) else "unix",
            "SERVER_PORT": str(self.server.server_address[1]) if isinstance(self.server.server_address, tuple) else "0",
            "SERVER_PROTOCOL": self.request_version,
        }
        for name, value in self.headers.items():
            if "_" in name:
                # WSGI cannot tell "X_Foo" from "X-Foo"; dropping underscored names stops one spoofing
                # the other (e.g. x_moto_account_id).
                continue
            key = name.upper().replace("-", "_")
            value = value.replace("\r\n", "")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
                if key in environ:
                    value = f"{environ[key]},{value}"
            environ[key] = value
        if isinstance(body_stream.inner, ChunkedBody):
            environ["wsgi.input_terminated"] = True
            environ.pop("CONTENT_LENGTH", None)
        return environ

    def _body_stream(self) -> RequestBody:
        """The body as framed by exactly one of Content-Length or chunked; anything else is BadFraming."""
        codings = self.headers.get_all("Transfer-Encoding") or []
        lengths = self.headers.get_all("Content-Length") or []
        if codings:
            if lengths:
                raise BadFraming("Content-Length and Transfer-Encoding together")
            if len(codings) != 1 or codings[0].strip().lower() != "chunked":
                raise BadFraming("only the chunked transfer coding is accepted")
            if self.request_version != "HTTP/1.1":
                raise BadFraming("Transfer-Encoding needs HTTP/1.1")
            return RequestBody(self, ChunkedBody(self.rfile))
        values = {value.strip() for value in lengths}
        if len(values) > 1 or not all(_DIGITS.fullmatch(value) for value in values):
            raise BadFraming("Content-Length must be one decimal number")
        return RequestBody(self, LengthBody(self.rfile, int(values.pop()) if values else 0))

    def run_wsgi(self) -> None:
        try:
            body_stream = self._body_stream()
        except BadFraming as exc:
            self.close_connection = True
            self.send_error(400, "Bad request framing", str(exc))
            return
        if self.limits is not None:
            length = getattr(body_stream.inner, "left", None)
            if body_stream.exhausted:
                self._set_deadline(None)
            else:  # the body must keep arriving at a minimum rate (chunked: as if it were the largest allowed)
                expected = length if length is not None else 16 * 1024 * 1024
                self._set_deadline(self.limits.header_timeout + expected / self.limits.min_body_rate)
        body_stream.continue_pending = self.expect_continue
        environ = self.make_environ(body_stream)
        response: dict = {}

        def start_response(status, headers, exc_info=None):
            response["status"], response["headers"] = status, headers
            return lambda data: response.setdefault("extra", []).append(data)

        try:
            result = self.server.app(environ, start_response)
            try:
                body = b"".join(response.pop("extra", [])) + b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except BadFraming as exc:  # found while the app read the body: the client's fault, not the app's
            response = {"status": "400 Bad Request", "headers": [("Content-Type", "text/plain")]}
            body = f"Bad request framing: {exc}\n".encode()
            self.close_connection = True
        except (ConnectionError, TimeoutError):
            raise  # the client went away mid-body: nobody to answer (handle_one_request closes)
        except Exception:
            import traceback

            traceback.print_exc()
            response = {"status": "500 Internal Server Error", "headers": [("Content-Type", "text/plain")]}
            body = b"internal server error"
            self.close_connection = True

        # Whatever the app left unread must not be parsed as the next request. A body the client was never
        # invited to send (100-continue unanswered), or a large one, is not read at all: the connection closes.
        # A small rest is read (the connection stays usable); anything else closes the connection once the
        # answer is sent (finish() lingers so the client still reads it).
        if not body_stream.exhausted:
            self.unread_body = True
            closing = any(
                name.lower() == "connection" and value.lower() == "close" for name, value in response["headers"]
            )
            small = isinstance(body_stream.inner, LengthBody) and body_stream.inner.left <= MAX_DRAIN
            if closing or not small or (body_stream.continue_pending and not body_stream.started):
                self.close_connection = True
            else:
                try:
                    body_stream.inner.read()
                    self.unread_body = False
                except Exception:
                    self.close_connection = True

        code = int(response["status"].split(None, 1)[0])
        head_request = self.command == "HEAD"
        lines = [f"{self.protocol_version} {response['status']}\r\n"]
        for name, value in response["headers"]:
            lowered = name.lower()
            if lowered == "content-length":
                if not head_request:
                    continue  # recomputed below from the buffered body
            if lowered == "connection":
                if value.lower() == "close":
                    self.close_connection = True
                continue  # written once below
            if lowered == "transfer-encoding":
                continue
            lines.append(f"{name}: {value}\r\n")
        if not head_request and code not in _NO_BODY_STATUSES and code >= 200:
            lines.append(f"Content-Length: {len(body)}\r\n")
        elif head_request or code in _NO_BODY_STATUSES:
            body = b""
        if self.close_connection:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        self.wfile.write("".join(lines).encode("latin-1") + body)


class Watchdog:
    """One thread that shuts down connections whose request is overdue (slowloris), so a blocked read in
    a handler thread returns at once."""

    def __init__(self):
        self._deadlines: dict[WSGIRequestHandler, float] = {}
        self._closing: list[tuple[socket.socket, float]] = []  # refused connections, drained before closing
        self._lock = threading.Lock()
        threading.Thread(target=self._run, daemon=True, name="http-watchdog").start()

    def close_later(self, sock: socket.socket) -> None:
        """Close `sock` once the client stopped sending (or after 2 s): closing with unread input would
        reset the connection and could destroy the answer already sent."""
        with self._lock:
            if len(self._closing) < 1000:  # a flood of refused connections must not pile up descriptors
                self._closing.append((sock, time.monotonic() + 2.0))
                return
        sock.close()

    def _drain_closing(self, now: float) -> None:
        with self._lock:
            pending, self._closing = self._closing, []
        keep = []
        for sock, give_up in pending:
            try:
                while data := sock.recv(65536):
                    del data
                finished = True  # end of stream
            except BlockingIOError:
                finished = now >= give_up
            except OSError:
                finished = True
            if finished:
                sock.close()
            else:
                keep.append((sock, give_up))
        if keep:
            with self._lock:
                self._closing.extend(keep)

    def set(self, handler, deadline: float | None) -> None:
        with self._lock:
            if deadline is None:
                self._deadlines.pop(handler, None)
            else:
                self._deadlines[handler] = deadline

    def _run(self) -> None:
        while True:
            time.sleep(0.5)
            now = time.monotonic()
            self._drain_closing(now)
            with self._lock:
                overdue = [handler for handler, deadline in self._deadlines.items() if deadline <= now]
                for handler in overdue:
                    del self._deadlines[handler]
            for handler in overdue:
                handler.close_connection = True
                try:
                    handler.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _ThreadingTCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    limits: ConnectionLimits | None = None

    def start_limits(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.watchdog = Watchdog()
        self._count_lock = threading.Lock()
        self._total = 0
        self._per_client: dict[str, int] = {}

    def process_request(self, request, client_address) -> None:
        if self.limits is None:
            return super().process_request(request, client_address)
        host = client_address[0]
        with self._count_lock:
            refused = (
                self._total >= self.limits.max_connections
                or (host not in self.limits.uncapped_clients and self._per_client.get(host, 0) >= self.limits.max_per_client)
            )
            if not refused:
                self._total += 1
                self._per_client[host] = self._per_client.get(host, 0) + 1
        if refused:
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release(host)
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            if self.limits is not None:
                self._release(client_address[0])

    def _release(self, host: str) -> None:
        with self._count_lock:
            self._total -= 1
            left = self._per_client.get(host, 1) - 1
            if left:
                self._per_client[host] = left
            else:
                self._per_client.pop(host, None)

    def _refuse(self, request) -> None:
        """503 and close, from the accepting thread: a fresh socket's send buffer takes it without blocking."""
        body = self.limits.overload_body or b"Too many connections; retry later.\n"
        head = (
            "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nRetry-After: 1\r\n"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        try:
            request.setblocking(False)
            request.send(head + body)
            request.shutdown(socket.SHUT_WR)
        except OSError:
            request.close()
            return
        self.watchdog.close_later(request)


class _ThreadingUnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 128


def make_tcp_server(host: str, port: int, app, limits: ConnectionLimits | None = None) -> socketserver.BaseServer:
    server = _ThreadingTCPServer((host, port), WSGIRequestHandler)
    server.app = app
    if limits is not None:
        server.start_limits(limits)
    return server


def make_unix_server(path: str, app, mode: int = 0o600, idle_timeout: float = IDLE_TIMEOUT) -> socketserver.BaseServer:
    """Bind `path` (replacing a stale socket file) with `mode`, with no window where it is wider."""
    if os.path.exists(path):
        os.unlink(path)
    handler = WSGIRequestHandler
    if idle_timeout != IDLE_TIMEOUT:  # tests of clients' connection pools
        handler = type("ShortIdleHandler", (WSGIRequestHandler,), {"timeout": idle_timeout})
    old_umask = os.umask(0o777 & ~mode)
    try:
        server = _ThreadingUnixServer(path, handler)
    finally:
        os.umask(old_umask)
    os.chmod(path, mode)
    server.app = app
    return server


