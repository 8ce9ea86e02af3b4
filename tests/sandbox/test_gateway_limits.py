"""What one client can cost the gateway, and how the HTTP server frames requests.

The first part drives labapp/sandbox/httpserver.py in-process with a small app (framing, request
smuggling, connection caps, slow clients, 100-continue); the second goes through the real gateway
(nothing is read before the caller is known); the last covers the gateway's pool of emulator
connections (stale connections after a quiet spell).
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import closing
from urllib.parse import urlsplit

import pytest

from labapp.sandbox.httpserver import ConnectionLimits, make_tcp_server, make_unix_server


class EchoApp:
    """Answers every request with its path and the body it read (or did not read)."""

    def __init__(self, read_body: bool = True):
        self.read_body = read_body
        self.paths: list[str] = []

    def __call__(self, environ, start_response):
        self.paths.append(environ["PATH_INFO"])
        body = environ["wsgi.input"].read() if self.read_body else b""
        payload = environ["PATH_INFO"].encode() + b" " + body
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))])
        return [payload]


@pytest.fixture
def serve():
    servers = []

    def start(app, limits=None):
        server = make_tcp_server("127.0.0.1", 0, app, limits)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def exchange(port: int, data: bytes, wait: float = 5.0) -> bytes:
    """Send raw bytes, read until the server closes (or `wait` passes)."""
    with closing(socket.create_connection(("127.0.0.1", port), timeout=wait)) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


# --- framing ---------------------------------------------------------------------------------------


def test_chunked_body_is_read_and_the_connection_kept(serve):
    port = serve(EchoApp())
    reply = exchange(port, b"POST /one HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n"
                           b"GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert b"/one hello world" in reply
    assert b"/two " in reply


@pytest.mark.parametrize("head", [
    b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n",
    b"Transfer-Encoding: chunked, identity\r\n",
    b"Transfer-Encoding: xchunked\r\n",
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    b"Content-Length: 4\r\nContent-Length: 5\r\n",
    b"Content-Length: +4\r\n",
    b"Content-Length: 0x4\r\n",
], ids=["CL+TE", "TE+CL", "TE list", "TE xchunked", "TE twice", "two lengths", "signed length", "hex length"])
def test_ambiguous_framing_is_refused_and_nothing_smuggled(serve, head):
    app = EchoApp()
    port = serve(app)
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    reply = exchange(port, b"POST /front HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n0\r\n\r\n" + smuggled)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    assert b"Connection: close" in reply
    assert app.paths == []  # neither the request nor the one hidden in its body reached the app


@pytest.mark.parametrize("chunks", [b"0x5\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n", b"-5\r\nhello\r\n0\r\n\r\n"])
def test_malformed_chunks_end_the_connection(serve, chunks):
    app = EchoApp()
    port = serve(app)
    reply = exchange(port, b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
                           + b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400") and b"Connection: close" in reply, reply[:200]
    assert "/smuggled" not in app.paths


# --- what one client can hold ------------------------------------------------------------------------


def test_connections_beyond_the_caps_get_503_at_once(serve):
    port = serve(EchoApp(), ConnectionLimits(max_connections=3, max_per_client=2, overload_body=b"<Code>SlowDown</Code>"))
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    time.sleep(0.2)
    started = time.monotonic()
    reply = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 503") and b"SlowDown" in reply and b"Connection: close" in reply, reply
    assert time.monotonic() - started < 2
    held.pop().close()
    time.sleep(0.3)
    assert exchange(port, b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200")
    for sock in held:
        sock.close()


def test_a_request_that_never_finishes_is_cut_off(serve):
    """Slowloris: a request line trickling in, or a body far slower than announced."""
    port = serve(EchoApp(), ConnectionLimits(header_timeout=1, min_body_rate=1_000_000))
    for partial in (b"GET / HTTP/1.1\r\nHost: x\r\n", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc"):
        with closing(socket.create_connection(("127.0.0.1", port), timeout=10)) as sock:
            started = time.monotonic()
            sock.sendall(partial)
            try:
                while sock.recv(65536):
                    pass
            except ConnectionResetError:
                pass
            assert time.monotonic() - started < 5  # closed by the server long before the 120 s idle timeout


def test_100_continue_is_sent_only_when_the_app_reads_the_body(serve):
    refusing = serve(EchoApp(read_body=False))
    head = b"PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n"
    reply = exchange(refusing, head)
    assert reply.startswith(b"HTTP/1.1 200") and b"100 Continue" not in reply
    assert b"Connection: close" in reply  # the body it never invited is not read as the next request

    reading = serve(EchoApp())
    with closing(socket.create_connection(("127.0.0.1", reading), timeout=5)) as sock:
        sock.sendall(b"PUT /small HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(b"hello")
        assert b"/small hello" in sock.recv(1000)


# --- through the gateway: nothing is read before the caller is known ----------------------------------


def _raw_gateway(url: str, head: bytes, body: bytes = b"", wait: float = 10) -> tuple[bytes, float]:
    gateway = urlsplit(url)
    with closing(socket.create_connection((gateway.hostname, gateway.port), timeout=wait)) as sock:
        started = time.monotonic()
        sock.sendall(head + body)
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return reply, time.monotonic() - started


@pytest.mark.django_db(transaction=True)  # the gateway looks the unknown key up in the test database
def test_unauthenticated_bodies_are_not_read(sandbox_stack):
    big = 15 * 1024 * 1024
    cases = [
        b"PUT /some-bucket/key HTTP/1.1\r\nHost: s3.amazonaws.com\r\nContent-Length: %d\r\n\r\n" % big,
        b"PUT /some-bucket/key HTTP/1.1\r\nHost: s3.amazonaws.com\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n" % big,
        b"POST / HTTP/1.1\r\nHost: sts.amazonaws.com\r\nTransfer-Encoding: chunked\r\n\r\n",
        (b"PUT /some-bucket/key HTTP/1.1\r\nHost: s3.amazonaws.com\r\nContent-Length: %d\r\nX-Amz-Date: 20260101T000000Z\r\n"
         b"Authorization: AWS4-HMAC-SHA256 Credential=AKIAUNKNOWNKEY000000/20260101/us-east-1/s3/aws4_request, "
         b"SignedHeaders=host;x-amz-date, Signature=%s\r\n\r\n") % (big, b"0" * 64),
    ]
    for head in cases:
        reply, seconds = _raw_gateway(sandbox_stack.url, head, b"x" * 1000)  # far less than announced
        assert reply.startswith(b"HTTP/1.1 403"), reply[:300]
        assert b"100 Continue" not in reply
        assert b"Connection: close" in reply
        assert seconds < 5  # answered without waiting for the 15 MiB


# --- the gateway's pool of emulator connections ----------------------------------------------------------


@pytest.fixture
def short_idle_emulator(tmp_path):
    """An HTTP server on a Unix socket that closes keep-alive connections idle for 0.5 s."""
    path = str(tmp_path / "e.sock")
    app = EchoApp()

    def slow(environ, start_response):
        time.sleep(0.2)  # long enough that concurrent requests each take their own connection
        return app(environ, start_response)

    server = make_unix_server(path, slow, idle_timeout=0.5)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield path
    server.shutdown()
    server.server_close()


def _fill_pool(upstream, count: int) -> None:
    threads = [threading.Thread(target=upstream.request, args=("GET", f"/{i}", [("Host", "e")])) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_pooled_connections_closed_by_the_emulator_are_not_errors(short_idle_emulator, monkeypatch):
    from labapp.sandbox.gateway import upstream as upstream_module

    pool = upstream_module.Upstream(short_idle_emulator, max_idle_seconds=60)  # longer than the server keeps them
    _fill_pool(pool, 4)
    assert len(pool._idle) == 4
    time.sleep(1.0)  # the server has closed all four
    assert pool.request("GET", "/after-quiet", [("Host", "e")]).status == 200
    # Even when a dead connection is not noticed before use (closed in the instant before sending), the
    # request is retried once on a fresh connection, not on another pooled one.
    _fill_pool(pool, 4)
    time.sleep(1.0)
    monkeypatch.setattr(upstream_module._Connection, "looks_closed", lambda self: False)
    for _ in range(3):
        assert pool.request("GET", "/race", [("Host", "e")]).status == 200


def test_idle_connections_are_dropped_before_the_server_drops_them(short_idle_emulator):
    from labapp.sandbox.gateway.upstream import Upstream

    pool = Upstream(short_idle_emulator, max_idle_seconds=0.2)
    pool.request("GET", "/1", [("Host", "e")])
    pool.request("GET", "/2", [("Host", "e")])
    assert pool.connections_made == 1  # reused while fresh
    time.sleep(0.3)
    pool.request("GET", "/3", [("Host", "e")])
    assert pool.connections_made == 2  # dropped once idle too long, a new one made
