"""What a learner's process can reach: only the gateway (through the relay), nothing else of the host."""

import json
import socket
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from .conftest import CANARY, survivors


def probe(run, source):
    result, outcome = run(source)
    assert result.exit_code == 0, result.stderr
    assert survivors(outcome) == []
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_gateway_is_reachable_through_the_in_sandbox_forwarder(run, stub_gateway):
    before = len(stub_gateway.requests)
    out = probe(run, "import json, urllib.request\n"
                     "print(json.dumps(urllib.request.urlopen('http://127.0.0.1:4566/ping', timeout=5).read().decode()))")
    assert out == "GATEWAY-OK"
    assert any(b"GET /ping" in r for r in stub_gateway.requests[before:])


@pytest.fixture
def host_listener():
    """A service listening on the host's loopback, like Redis or the web server."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.settimeout(0.2)
    yield sock.getsockname()[1], sock
    sock.close()


def test_host_loopback_services_are_refused(run, host_listener):
    port, sock = host_listener
    ports = [6379, 5432, 8000, port]
    out = probe(run, f"""
import json, socket
results = {{}}
for port in {ports}:
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(('127.0.0.1', port))
        results[port] = 'connected'
    except OSError as e:
        results[port] = type(e).__name__
print(json.dumps(results))
""")
    assert set(out.values()) == {"ConnectionRefusedError"}, out
    with pytest.raises(socket.timeout):
        sock.accept()  # nothing from the sandbox arrived at the host listener


def test_the_emulator_socket_and_abstract_sockets_are_unreachable(run):
    out = probe(run, f"""
import json, socket
results = {{}}
for name, addr in [('emulator', {settings.LAB_EMULATOR_SOCKET!r}), ('abstract', '\\0/tmp/.X11-unix/X0')]:
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(addr)
        results[name] = 'connected'
    except OSError as e:
        results[name] = type(e).__name__
print(json.dumps(results))
""")
    assert "connected" not in out.values(), out


def test_dns_and_instance_metadata_fail(run):
    out = probe(run, """
import json, socket
results = {}
try:
    socket.getaddrinfo('example.com', 443)
    results['dns'] = 'resolved'
except OSError as e:
    results['dns'] = type(e).__name__
s = socket.socket()
s.settimeout(2)
try:
    s.connect(('169.254.169.254', 80))
    results['imds'] = 'connected'
except OSError as e:
    results['imds'] = type(e).__name__
results['interfaces'] = sorted(line.split(':')[0].strip() for line in open('/proc/net/dev').readlines()[2:])
print(json.dumps(results))
""")
    assert out["dns"] == "gaierror"
    assert out["imds"] != "connected"
    assert out["interfaces"] == ["lo"]


def test_only_unix_and_inet_socket_families(run):
    out = probe(run, """
import json, socket
results = {}
for name in ['AF_VSOCK', 'AF_NETLINK', 'AF_PACKET', 'AF_BLUETOOTH', 'AF_ALG', 'AF_UNIX', 'AF_INET', 'AF_INET6']:
    family = getattr(socket, name, None)
    if family is None:
        continue
    kind = socket.SOCK_DGRAM if name in ('AF_NETLINK', 'AF_PACKET') else socket.SOCK_STREAM
    if name == 'AF_ALG': kind = socket.SOCK_SEQPACKET
    try:
        socket.socket(family, kind).close()
        results[name] = 'ok'
    except OSError as e:
        results[name] = e.errno
print(json.dumps(results))
""")
    for name in ("AF_VSOCK", "AF_NETLINK", "AF_PACKET", "AF_BLUETOOTH", "AF_ALG"):
        if name in out:
            assert out[name] == 97, out  # EAFNOSUPPORT
    assert out["AF_UNIX"] == out["AF_INET"] == "ok"


def test_dangerous_syscalls_fail_with_eperm(run):
    out = probe(run, """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
calls = {'ptrace': (101, 16, 1, 0, 0), 'bpf': (321, 0, 0, 0), 'userfaultfd': (323, 0),
         'io_uring_setup': (425, 1, 0), 'keyctl': (250, 0, 0), 'unshare_user': (272, 0x10000000),
         'unshare_net': (272, 0x40000000), 'mount': (165, 0, 0, 0, 0, 0), 'perf_event_open': (298, 0, 0, -1, -1, 0)}
results = {}
for name, (nr, *args) in calls.items():
    rc = libc.syscall(nr, *[ctypes.c_long(a) for a in args])
    results[name] = ctypes.get_errno() if rc == -1 else 'succeeded'
print(json.dumps(results))
""")
    assert all(value == 1 for value in out.values()), out  # EPERM


def test_the_project_settings_database_and_host_files_are_invisible(run, tmp_path):
    canary_file = Path(settings.BASE_DIR) / f".runner-canary-{uuid.uuid4().hex}"
    canary_file.write_text(CANARY)
    try:
        paths = [str(canary_file), str(Path(settings.BASE_DIR) / "labapp" / "settings.py"),
                 str(settings.DATABASES["default"]["NAME"]), str(settings.VAR_DIR), "/work", "/root/.ssh",
                 "/etc/shadow", "/var/run", "/sys/fs/cgroup"]
        out = probe(run, f"""
import json, os
results = {{}}
for path in {paths!r}:
    try:
        if os.path.isdir(path):
            results[path] = os.listdir(path)
        else:
            results[path] = open(path).read(100)
    except OSError as e:
        results[path] = type(e).__name__
results['/etc/passwd'] = open('/etc/passwd').read()
results['/'] = sorted(os.listdir('/'))
results['uid'] = os.getuid()
print(json.dumps(results))
""")
    finally:
        canary_file.unlink()
    for path in paths:
        assert out[path] in ("FileNotFoundError", "PermissionError"), (path, out[path])
    assert "root:" not in out["/etc/passwd"] and out["/etc/passwd"].startswith("learner:")
    assert out["uid"] == 1000
    assert not {"work", "var", "srv", "sys", "boot", "mnt", "run"} & set(out["/"]), out["/"]


def test_the_worker_environment_is_invisible(run):
    import os

    assert os.environ.get("LAB_CANARY_SECRET") == CANARY  # set in the worker before the pool was built
    out = probe(run, """
import json, os
seen = dict(os.environ)
blobs = []
for pid in os.listdir('/proc'):
    if pid.isdigit():
        for name in ('environ', 'cmdline'):
            try:
                blobs.append(open(f'/proc/{pid}/{name}', 'rb').read().decode(errors='replace'))
            except OSError:
                pass
print(json.dumps({'env': seen, 'proc': blobs}))
""")
    assert CANARY not in json.dumps(out)
    assert "LAB_CANARY_SECRET" not in out["env"]
    assert set(out["env"]) <= {"HOME", "PATH", "LANG", "TERM", "MALLOC_ARENA_MAX", "AWS_ACCESS_KEY_ID",
                               "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL",
                               "AWS_EC2_METADATA_DISABLED", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                               "AWS_PAGER", "LC_CTYPE"}, out["env"]


def test_writes_go_to_a_private_tmpfs_that_vanishes(run):
    first = probe(run, "import json, os\nopen('/home/learner/mine.txt', 'w').write('secret')\n"
                       "open('/tmp/t.txt', 'w').write('x')\nprint(json.dumps(os.listdir('/home/learner')))")
    assert "mine.txt" in first
    second = probe(run, "import json, os\nprint(json.dumps([os.listdir('/home/learner'), os.listdir('/tmp')]))")
    assert "mine.txt" not in second[0] and second[1] == []
    out = probe(run, """
import json
results = {}
for path in ['/usr/lib/x86_64-linux-gnu/x', '/opt/lab/site-packages/boto3/x', '/gw/x']:
    try:
        open(path, 'w')
        results[path] = 'written'
    except OSError as e:
        results[path] = e.errno
print(json.dumps(results))
""")
    assert "written" not in out.values(), out
