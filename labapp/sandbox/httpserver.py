"""A small threaded WSGI server with real HTTP/1.1 keep-alive, on TCP or a Unix socket.

Werkzeug's development server closes every connection after one response (werkzeug/serving.py says
so: http.server cannot drain a request body before the next request line). SDKs and the gateway's
upstream pool reuse connections, so a fresh TCP or Unix connection plus a fresh thread per call would
be most of the gateway's overhead. This server always knows where a request body ends (Content-Length
or chunked), drains it after the app ran, buffers the app's response, and sends status line, headers
and body in one write with TCP_NODELAY (no Nagle/delayed-ACK stalls).

Both apps served here (gateway, emulator) build their whole response in memory anyway.
"""

from __future__ import annotations

import email.parser
import http.client
import os
import re
import socket
import socketserver
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote_to_bytes

from werkzeug.serving import DechunkedInput
from werkzeug.wsgi import LimitedStream

IDLE_TIMEOUT = 120  # seconds a keep-alive connection may sit idle
_NO_BODY_STATUSES = {204, 304}
MAX_LINE = 65536  # the limits http.client applies
MAX_HEADERS = 100

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
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
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


class WSGIRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AWSDeveloperLab"
    sys_version = ""
    timeout = IDLE_TIMEOUT

    def setup(self) -> None:
        super().setup()
        if self.server.address_family in (socket.AF_INET, socket.AF_INET6):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

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
        if body_stream is not None and isinstance(body_stream, DechunkedInput):
            environ["wsgi.input_terminated"] = True
        return environ

    def _body_stream(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return DechunkedInput(self.rfile)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return None
        return LimitedStream(self.rfile, length)

    def run_wsgi(self) -> None:
        body_stream = self._body_stream()
        if body_stream is None:
            self.send_error(400, "Bad Content-Length")
            self.close_connection = True
            return
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
        except Exception:
            import traceback

            traceback.print_exc()
            response = {"status": "500 Internal Server Error", "headers": [("Content-Type", "text/plain")]}
            body = b"internal server error"
            self.close_connection = True

        # Whatever the app left unread must not be parsed as the next request.
        try:
            while body_stream.read(1 << 20):
                pass
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
            if lowered == "connection" and value.lower() == "close":
                self.close_connection = True
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


class _ThreadingTCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _ThreadingUnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 128


def make_tcp_server(host: str, port: int, app) -> socketserver.BaseServer:
    server = _ThreadingTCPServer((host, port), WSGIRequestHandler)
    server.app = app
    return server


def make_unix_server(path: str, app, mode: int = 0o600) -> socketserver.BaseServer:
    """Bind `path` (replacing a stale socket file) with `mode`, with no window where it is wider."""
    if os.path.exists(path):
        os.unlink(path)
    old_umask = os.umask(0o777 & ~mode)
    try:
        server = _ThreadingUnixServer(path, WSGIRequestHandler)
    finally:
        os.umask(old_umask)
    os.chmod(path, mode)
    server.app = app
    return server


