"""Account isolation where moto looks state up: one request, one account.

The gateway pins every request to one account (`x-moto-account-id`), but moto resolves many
parameters to *other* accounts on its own: an ARN's account (STS AssumeRole, SNS, EventBridge, Logs,
RDS), a peer owner id (EC2 peering), a bucket name in the global namespace, an access key found by
scanning every account. Checking each request's text the gateway's way leaves every parse difference
open. So the emulator enforces it at the one place all of those meet: moto's `BackendDict`, the
per-service dict of per-account backends. While a request of account A is served:

- looking up (or creating) any other account's backend raises `CrossAccountAccessDenied`, before
  anything is created; the request is answered 403 AccessDenied in its protocol's shape, whatever
  moto did with the exception;
- iterating over a BackendDict yields only A (moto scans all accounts to resolve access keys).

Outside a request (start-up, the /_sandbox admin routes, which reset and inspect any account) there
is no guard. No other account is allowed: the AMIs and AWS-managed policies moto shows a learner live
in the learner's own backends (their owner ids, 137112412989 or "aws", are labels, never looked up),
so nothing needs a shared account, and a shared account would be a channel between learners.

A lab session may own several accounts (a main account and a partner, `accounts:` in the lab file). The
gateway tells the emulator which (`sibling_accounts` of the caller header), and still pins the request
to the one account of the key that signed it. An operation that needs another account of the session
(STS AssumeRole of a partner account's role reads that role and its trust policy, and stores the
temporary key there) asks for it explicitly with `reaching(account)`, for the few lines that need it
(or `reach_for_request`, once IAM allowed an S3 request for a bucket the partner account owns: moto's
handler then serves that bucket from its owner, and only then is moto's cross-account S3 access on);
`reaching` refuses any account that is not one of the request's session's, so another learner's
account stays refused exactly as before, and outside `reaching` so do the session's own other accounts.

Threads that moto starts during a request (DynamoDB's export to S3, for one, writes to the bucket owner
it is told) run under the request's guard too: a new thread starts with an empty context, so `install`
makes `Thread.start` carry the guard of the thread that starts it.
"""

from __future__ import annotations

import contextlib
import json
import re
from contextvars import ContextVar
from dataclasses import dataclass, field

ACCOUNT_ID = re.compile(r"^\d{12}$")
DENIAL_MESSAGE = "This sandbox may not access resources of another AWS account ({account})."


@dataclass
class RequestGuard:
    account_id: str
    denied: list[str] = field(default_factory=list)
    siblings: frozenset[str] = frozenset()  # the other accounts of the request's lab session
    reached: tuple[str, ...] = ()  # those an operation is reading right now (`reaching`)

    def allows(self, account_id: object) -> bool:
        return account_id == self.account_id or account_id in self.reached


_current: ContextVar[RequestGuard | None] = ContextVar("lab_account_guard", default=None)


def _exception_base():
    from moto.core.exceptions import ServiceException

    return ServiceException


class CrossAccountAccessDenied(Exception):
    """Raised inside moto; replaced by a ServiceException subclass in `install()` so that moto's own
    handlers serialise it as AccessDenied where they catch it."""

    code = "AccessDenied"

    def __init__(self, account_id: str):
        self.account_id = account_id
        self.message = DENIAL_MESSAGE.format(account=account_id)
        super().__init__(self.message)


@contextlib.contextmanager
def guarded(account_id: str, siblings=()):
    """Serve one request of `account_id`: other accounts are refused until the block ends, except that
    `reaching` may open one of `siblings` (the other accounts of the same lab session)."""
    guard = RequestGuard(account_id, siblings=frozenset(s for s in siblings if s != account_id))
    token = _current.set(guard)
    try:
        yield guard
    finally:
        _current.reset(token)


@contextlib.contextmanager
def unguarded():
    """For platform work started from inside a request (moto building a service's app on first use)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


class NotASessionAccount(Exception):
    pass


def may_reach(account_id: str) -> bool:
    """Whether `reaching(account_id)` would open it: the request's own account or one of its session's."""
    guard = _current.get()
    return guard is None or account_id == guard.account_id or account_id in guard.siblings


@contextlib.contextmanager
def reaching(account_id: str):
    """Let the current request read `account_id`, another account of its own lab session, until the block
    ends. Any other account raises NotASessionAccount (nothing is opened); outside a request (platform
    work) nothing is guarded anyway."""
    guard = _current.get()
    if guard is None or account_id == guard.account_id:
        yield
        return
    if account_id not in guard.siblings:
        raise NotASessionAccount(account_id)
    before = guard.reached
    guard.reached = (*before, account_id)
    try:
        yield
    finally:
        guard.reached = before


def reach_for_request(account_id: str) -> None:
    """Like `reaching`, until the request ends: for an operation whose handler reads the other account
    after IAM allowed it (S3 on a bucket of the session's partner account). Same rule: only an account of
    the request's own session."""
    guard = _current.get()
    if guard is None or account_id == guard.account_id or account_id in guard.reached:
        return
    if account_id not in guard.siblings:
        raise NotASessionAccount(account_id)
    guard.reached = (*guard.reached, account_id)


def current() -> RequestGuard | None:
    return _current.get()


def _refuse_unless_allowed(account_id) -> None:
    guard = _current.get()
    if guard is None or guard.allows(account_id):
        return
    guard.denied.append(str(account_id)[:64])
    raise CrossAccountAccessDenied(str(account_id)[:64])


def _allowed_keys(backend_dict) -> list:
    """The accounts of a BackendDict the current request may see: its own and any it is `reaching`, if
    present (O(1): moto lists the keys on every lookup, and the emulator holds hundreds of accounts)."""
    guard = _current.get()
    if guard is None:
        return list(dict.keys(backend_dict))
    # The accounts an operation is reaching count too: moto creates an account's backend when its id is
    # not among the keys, which would replace the reached account's state with an empty one.
    return [a for a in (guard.account_id, *guard.reached) if dict.__contains__(backend_dict, a)]


_installed = False


def install() -> None:
    """Patch moto's BackendDict (and so every subclass: S3's, Organizations') once."""
    global _installed, CrossAccountAccessDenied
    if _installed:
        return
    from moto.core.base_backend import BackendDict

    # Make the exception a moto ServiceException: moto's response code renders those in the request's
    # protocol where it catches them; our EmulatorApp replaces the response anyway.
    import warnings

    # moto's serializer warns that AccessDenied is not in each service's model; it is answered anyway.
    warnings.filterwarnings("ignore", message=r"Exception\(CrossAccountAccessDenied\)")
    base = _exception_base()
    plain = CrossAccountAccessDenied
    CrossAccountAccessDenied = type("CrossAccountAccessDenied", (plain, base), {"code": "AccessDenied"})

    original_getitem = BackendDict.__getitem__
    original_setitem = BackendDict.__setitem__
    original_delitem = BackendDict.__delitem__

    def __getitem__(self, account_id):
        _refuse_unless_allowed(account_id)
        return original_getitem(self, account_id)

    def __setitem__(self, account_id, value):
        _refuse_unless_allowed(account_id)
        original_setitem(self, account_id, value)

    def __delitem__(self, account_id):
        _refuse_unless_allowed(account_id)
        original_delitem(self, account_id)

    def __contains__(self, account_id):
        present = dict.__contains__(self, account_id)
        if present:
            _refuse_unless_allowed(account_id)
        return present

    def get(self, account_id, default=None):
        if not dict.__contains__(self, account_id):
            return default
        _refuse_unless_allowed(account_id)
        return dict.get(self, account_id, default)

    def pop(self, account_id, *default):
        _refuse_unless_allowed(account_id)
        return dict.pop(self, account_id, *default)

    def setdefault(self, account_id, default=None):
        _refuse_unless_allowed(account_id)
        return dict.setdefault(self, account_id, default)

    def __iter__(self):
        return iter(_allowed_keys(self))

    def keys(self):
        return _allowed_keys(self)

    def values(self):
        return [dict.__getitem__(self, key) for key in _allowed_keys(self)]

    def items(self):
        return [(key, dict.__getitem__(self, key)) for key in _allowed_keys(self)]

    def __len__(self):
        return len(_allowed_keys(self))

    def copy(self):
        return {key: dict.__getitem__(self, key) for key in _allowed_keys(self)}

    for name, function in {
        "__getitem__": __getitem__,
        "__setitem__": __setitem__,
        "__delitem__": __delitem__,
        "__contains__": __contains__,
        "get": get,
        "pop": pop,
        "setdefault": setdefault,
        "__iter__": __iter__,
        "keys": keys,
        "values": values,
        "items": items,
        "__len__": __len__,
        "copy": copy,
    }.items():
        setattr(BackendDict, name, function)
    # moto's whole-server reset, run from a request, would wipe every account; it is unreachable
    # (the gateway refuses /moto-api), and under a guard it is refused like any other account.
    original_reset = BackendDict.reset.__func__

    @classmethod
    def reset(cls):
        if _current.get() is not None:
            raise CrossAccountAccessDenied("*")
        original_reset(cls)

    BackendDict.reset = reset
    _s3_reaches_only_opened_accounts()
    _guard_threads_started_under_a_guard()
    _installed = True


def _s3_reaches_only_opened_accounts() -> None:
    """moto serves a bucket of another account by name only when cross-account access is on, and the
    emulator turns it off (MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS=false). It is on exactly while an operation has
    opened another account of its own session (`reach_for_request`, after IAM allowed a partner account's
    bucket); the guard still refuses every account that was not opened."""
    import moto.s3.models as s3_models

    never = s3_models.s3_allow_crossdomain_access

    def s3_allow_crossdomain_access() -> bool:
        guard = _current.get()
        return bool(guard.reached) if guard is not None else never()

    s3_models.s3_allow_crossdomain_access = s3_allow_crossdomain_access


def _guard_threads_started_under_a_guard() -> None:
    import threading

    original_start = threading.Thread.start

    def start(self):
        guard = _current.get()
        if guard is not None:
            run = self.run

            def run_guarded():
                token = _current.set(guard)  # the starting request's account, and only it
                try:
                    run()
                finally:
                    _current.reset(token)

            self.run = run_guarded
        return original_start(self)

    threading.Thread.start = start


# --- the refusal, in the protocol the caller speaks ------------------------------------------------

# moto backend names that differ from botocore's service names
_BOTOCORE_NAMES = {"awslambda": "lambda", "cognitoidp": "cognito-idp", "cognitoidentity": "cognito-identity"}


def _protocol(environ, service: str | None) -> tuple[str, str]:
    """(botocore service name, protocol) of the request, best effort."""
    from werkzeug.wrappers import Request

    name = _BOTOCORE_NAMES.get(service or "", service or "")
    try:
        from moto.core.request import determine_request_protocol
        from moto.core.utils import get_service_model

        model = get_service_model(name)
        try:
            return name, determine_request_protocol(model, Request(environ))
        except Exception:
            return name, str(model.protocol)
    except Exception:
        pass
    content_type = environ.get("CONTENT_TYPE", "")
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        return name, "smithy-rpc-v2-cbor"
    if environ.get("HTTP_X_AMZ_TARGET") or "amz-json" in content_type:
        return name, "json"
    if content_type.startswith("application/json"):
        return name, "rest-json"
    if content_type.startswith("application/x-www-form-urlencoded"):
        return name, "ec2" if name == "ec2" else "query"
    return name, "rest-xml"


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 | len(data)]) + data
    if len(data) < 256:
        return bytes([0x78, len(data)]) + data
    return bytes([0x79]) + len(data).to_bytes(2, "big") + data


def denial_response(environ, service: str | None, account_id: str, message: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
    """A 403 AccessDenied as the caller's SDK expects it (status line, headers, body); the message says
    the request reached for `account_id`, unless another is given."""
    import uuid

    message = message or DENIAL_MESSAGE.format(account=account_id)
    request_id = str(uuid.uuid4())
    name, protocol = _protocol(environ, service)
    headers = [("x-amzn-RequestId", request_id)]
    if protocol in ("json", "rest-json"):
        code = "AccessDeniedException"
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
        content_type = "application/json" if protocol == "rest-json" else "application/x-amz-json-1.1"
        headers += [("Content-Type", content_type), ("x-amzn-ErrorType", code)]
        if environ.get("HTTP_X_AMZN_QUERY_MODE") or name == "sqs":
            headers.append(("x-amzn-query-error", "AccessDenied;Sender"))
    elif protocol == "smithy-rpc-v2-cbor":
        code = "AccessDeniedException"
        body = bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message)
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
    elif protocol == "ec2":
        body = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>AccessDenied</Code>"
            f"<Message>{_xml_escape(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "rest-xml" and name == "s3":
        body = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
            f"<Message>{_xml_escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers.append(("Content-Type", "application/xml"))
    else:  # query, and rest-xml services other than S3 (Route 53, CloudFront)
        body = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>Sender</Type>"
            f"<Code>AccessDenied</Code><Message>{_xml_escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    headers.append(("Content-Length", str(len(body))))
    return "403 Forbidden", headers, body
