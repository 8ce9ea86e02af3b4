"""The one way trusted platform code (setup, graders, resource panels) reaches a sandbox.

Calls go through the gateway with the session's own credentials, so they land in the session's
account and pass the same rules as the learner's; the X-Lab-Internal token marks them as ours (they may
run while the session is still provisioning, and are journaled as "setup" or "platform").

Creating a botocore client costs 10-30 ms (loading and parsing the service model), so clients are cached
per (session, service, source) for the life of the process; they are thread-safe.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections import OrderedDict

import boto3
import botocore.session
from botocore.config import Config
from django.conf import settings

SOURCES = ("setup", "platform")
_CLIENT_CONFIG = Config(
    retries={"max_attempts": 2, "mode": "standard"},  # one retry, for throttling; graders must be quick
    connect_timeout=5,
    read_timeout=30,
    s3={"addressing_style": "path"},  # the gateway is an IP:port, so no bucket.host names
    parameter_validation=True,
)

# The most recently used clients, at most MAX_CLIENTS: each keeps keep-alive connections to the gateway,
# and a long-lived worker sees hundreds of sessions (an unbounded cache held connections until the
# gateway refused more). An evicted client's connections are closed.
MAX_CLIENTS = 32
_clients: OrderedDict[tuple, object] = OrderedDict()
_lock = threading.Lock()
_botocore_session = None


def _session() -> botocore.session.Session:
    """One botocore session per process: it caches loaded service models, so the second client of a
    service is built much faster than the first."""
    global _botocore_session
    if _botocore_session is None:
        _botocore_session = botocore.session.Session()
        # Never pick up the operator's own AWS profile or credentials.
        _botocore_session.set_config_variable("profile", None)
    return _botocore_session


def _add_internal_headers(source: str):
    token = settings.LAB_INTERNAL_TOKEN

    def handler(request, **kwargs):
        request.headers["X-Lab-Internal"] = token
        request.headers["X-Lab-Source"] = source

    return handler


def client(lab_session, service: str, *, source: str = "platform", region: str | None = None, account=None):
    """A boto3 client for `service` inside `lab_session`'s sandbox (or `account`, one of its
    `extra_accounts`: signed with that account's keys, so the gateway pins it there)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    region = region or lab_session.region or settings.LAB_DEFAULT_REGION
    keys = account if account is not None else lab_session
    cache_key = (
        str(lab_session.pk),
        keys.access_key_id,
        service,
        source,
        region,
        settings.LAB_GATEWAY_URL,
    )
    with _lock:
        cached = _clients.get(cache_key)
        if cached is not None:
            _clients.move_to_end(cache_key)
            return cached
        boto_session = boto3.session.Session(
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            region_name=region,
            botocore_session=_shared_botocore_with_credentials(lab_session),
        )
        made = boto_session.client(service, endpoint_url=settings.LAB_GATEWAY_URL, config=_CLIENT_CONFIG)
        # request-created fires before signing, so the headers are part of what is signed.
        made.meta.events.register("request-created", _add_internal_headers(source))
        _clients[cache_key] = made
        while len(_clients) > MAX_CLIENTS:
            _key, evicted = _clients.popitem(last=False)
            evicted.close()
        return made


def _shared_botocore_with_credentials(lab_session):
    # boto3.Session(botocore_session=...) would set credentials on the shared session itself, leaking
    # one session's keys into the next; a per-client child session shares the loader (model cache) only.
    base = _session()
    child = botocore.session.Session()
    child.register_component("data_loader", base.get_component("data_loader"))
    child.set_config_variable("profile", None)
    return child


class SandboxSession:
    """boto3.Session-like: `SandboxSession(lab_session).client("s3")`."""

    def __init__(self, lab_session, *, source: str = "platform"):
        self.lab_session = lab_session
        self.source = source

    def client(self, service: str, region_name: str | None = None):
        return client(self.lab_session, service, source=self.source, region=region_name)

    @property
    def region_name(self) -> str:
        return self.lab_session.region


def sandbox_session(lab_session, *, source: str = "platform") -> SandboxSession:
    return SandboxSession(lab_session, source=source)


def forget_clients(lab_session) -> None:
    """Drop cached clients of a session (its credentials are no longer valid)."""
    with _lock:
        for key in [k for k in _clients if k[0] == str(lab_session.pk)]:
            _clients.pop(key).close()


# --- gateway control routes -------------------------------------------------------------------


class SandboxUnavailable(Exception):
    """The gateway or the emulator could not serve platform code (down, restarting, answering 5xx, or
    the journal could not be written): try again later. Never the learner's doing, so never a grade."""


def _gateway_post(path: str, payload: dict | None = None, timeout: float = 20.0) -> dict:
    from urllib.parse import urlsplit

    url = urlsplit(settings.LAB_GATEWAY_URL)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
    try:
        body = json.dumps(payload or {}).encode()
        conn.request(
            "POST",
            path,
            body=body,
            headers={"X-Lab-Internal": settings.LAB_INTERNAL_TOKEN, "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        data = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise SandboxUnavailable(f"the gateway did not answer {path}: {error}") from error
    finally:
        conn.close()
    if response.status >= 500:
        raise SandboxUnavailable(f"gateway {path} answered {response.status}: {data[:200]!r}")
    if response.status != 200:
        raise RuntimeError(f"gateway {path} answered {response.status}: {data[:200]!r}")
    return json.loads(data or b"{}")


def flush_journal() -> None:
    """Block until every API call the gateway has seen so far is in the ApiCall table; raises
    SandboxUnavailable when it could not (graders must not run on an incomplete journal)."""
    _gateway_post("/_gateway/flush")


def forget_credentials(access_key_id: str) -> None:
    """Make the gateway drop its cached copy of a key now (call when a session ends)."""
    _gateway_post("/_gateway/forget", {"access_key_id": access_key_id})


# --- emulator admin routes (the socket, not the gateway) --------------------------------------


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("emulator", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _emulator(method: str, path: str, timeout: float = 30.0) -> dict:
    conn = _UnixConnection(settings.LAB_EMULATOR_SOCKET, timeout)
    try:
        conn.request(method, path, headers={"Content-Length": "0"} if method == "POST" else {})
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"emulator {path} answered {response.status}: {data[:200]!r}")
        return json.loads(data or b"{}")
    finally:
        conn.close()


def reset_account(account_id: str) -> None:
    """Forget everything the sandbox account holds in the emulator (other accounts are untouched)."""
    if not (len(account_id) == 12 and account_id.isdigit()):
        raise ValueError(f"not an account id: {account_id!r}")
    _emulator("POST", f"/_sandbox/accounts/{account_id}/reset")


def emulator_stats() -> dict:
    """{"rss_bytes": int, "accounts": [account ids with any state]}"""
    return _emulator("GET", "/_sandbox/stats")


def iam_access(account_id: str, principal: str, action: str, resource: str = "*", context: dict | None = None,
               region: str | None = None) -> dict:
    """What IAM would decide, in the sandbox account, if `principal` (a user or role ARN of that account)
    asked for `action` on `resource` with these extra condition keys: the emulator's own engine, principals
    and resource policies (labapp/sandbox/authorization/access.py). Returns {allowed, decision, reason_kind,
    message, matched...}; raises LookupError when the principal does not exist, SandboxUnavailable when the
    emulator cannot answer."""
    if not (len(account_id) == 12 and account_id.isdigit()):
        raise ValueError(f"not an account id: {account_id!r}")
    body = json.dumps({"principal": principal, "action": action, "resource": resource, "context": context or {},
                       "region": region or settings.LAB_DEFAULT_REGION}).encode()
    conn = _UnixConnection(settings.LAB_EMULATOR_SOCKET, 30.0)
    try:
        conn.request("POST", f"/_sandbox/accounts/{account_id}/iam/access", body=body,
                     headers={"Content-Type": "application/json", "Content-Length": str(len(body))})
        response = conn.getresponse()
        data = response.read()
    except OSError as error:
        raise SandboxUnavailable(f"the emulator did not answer an IAM question: {error}") from error
    finally:
        conn.close()
    if response.status == 404:
        raise LookupError(json.loads(data or b"{}").get("error") or "no such principal")
    if response.status in (400, 403):
        raise RuntimeError(json.loads(data or b"{}").get("error") or f"refused ({response.status})")
    if response.status != 200:
        raise SandboxUnavailable(f"the emulator answered {response.status} to an IAM question: {data[:200]!r}")
    return json.loads(data)
