"""The relay between a sandbox and the gateway holds a bounded number of connections per sandbox: a
learner script opening thousands of connections gets 503 SlowDown beyond the cap (which SDKs retry),
and the gateway never sees more than the cap from that sandbox."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import closing

from labapp.runner.sandbox import Relay


class HoldingGateway:
    """Accepts connections and keeps them open, counting how many are open at once."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.open = 0
        self.most = 0
        self.peers: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.peers.append(peer[0])
                self.open += 1
                self.most = max(self.most, self.open)
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn):
        with conn:
            try:
                while conn.recv(65536):
                    pass
            except OSError:
                pass
        with self.lock:
            self.open -= 1


def test_connections_per_sandbox_are_capped(tmp_path):
    gateway = HoldingGateway()
    relay = Relay(lambda: ("127.0.0.1", gateway.port), max_per_sandbox=8)
    first = relay.listen(tmp_path / "one.sock", None)
    second = relay.listen(tmp_path / "two.sock", None)
    clients = []
    try:
        for _ in range(30):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(5)
            client.connect(str(tmp_path / "one.sock"))
            clients.append(client)
        time.sleep(0.5)
        assert gateway.most == 8  # the other 22 never reached the gateway
        refused = 0
        for client in clients[8:]:
            reply = client.recv(1000)
            assert reply.startswith(b"HTTP/1.1 503") and b"SlowDown" in reply
            refused += 1
        assert refused == 22

        # Another sandbox is not affected by the first one's connections.
        with closing(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)) as other:
            other.connect(str(tmp_path / "two.sock"))
            time.sleep(0.3)
            assert gateway.open == 9

        # Closing connections frees their places.
        for client in clients[:8]:
            client.close()
        time.sleep(0.5)
        with closing(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)) as again:
            again.settimeout(1)
            again.connect(str(tmp_path / "one.sock"))
            time.sleep(0.3)
            assert gateway.open == 1
            try:
                assert again.recv(100) == b""  # not refused: waiting for the gateway's answer
            except TimeoutError:
                pass
    finally:
        for client in clients:
            client.close()
        relay.close(first)
        relay.close(second)
        gateway.sock.close()


def test_a_script_opening_many_connections_gets_503_beyond_the_cap(run, stub_gateway):
    """Through a real sandbox: 60 connections held open at once; the pool's relay lets 32 through."""
    from dataclasses import replace

    from tests.runner.conftest import TEST_LIMITS

    source = (
        "import socket\n"
        "held = []\n"
        "for _ in range(60):\n"
        "    s = socket.create_connection(('127.0.0.1', 4566), timeout=5)\n"
        "    s.sendall(b'GET /many HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
        "    held.append(s)\n"
        "replies = []\n"
        "for s in held:\n"
        "    try:\n"
        "        replies.append(s.recv(200))\n"
        "    except OSError as e:\n"
        "        replies.append(repr(e).encode())\n"
        "print(sum(b'GATEWAY-OK' in r for r in replies), sum(r.startswith(b'HTTP/1.1 503') for r in replies))\n"
    )
    result, _outcome = run(source, replace(TEST_LIMITS, processes=400, wall_seconds=20))
    assert result.exit_code == 0, result.stderr
    through, refused = map(int, result.stdout.split())
    assert (through, refused) == (32, 28)


def test_each_sandbox_reaches_a_loopback_gateway_from_an_address_of_its_own(tmp_path):
    """The gateway limits connections per client address: if every sandbox came from 127.0.0.1, one
    learner's scripts could use up every other learner's (and the graders') share."""
    gateway = HoldingGateway()
    relay = Relay(lambda: ("127.0.0.1", gateway.port))
    relay.listen(tmp_path / "one.sock", None)
    relay.listen(tmp_path / "two.sock", None)
    clients = []
    try:
        for name in ("one", "one", "two"):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.connect(str(tmp_path / f"{name}.sock"))
            clients.append(client)
        deadline = time.monotonic() + 5
        while len(gateway.peers) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        from collections import Counter

        assert sorted(Counter(gateway.peers).values()) == [1, 2]  # two sandboxes, two addresses
        assert "127.0.0.1" not in gateway.peers and all(p.startswith("127.") for p in gateway.peers)
    finally:
        for client in clients:
            client.close()
