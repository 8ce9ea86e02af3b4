"""The emulator process: moto's server app, patched, on a Unix socket, with no route out.

Only the gateway talks to it. It trusts the `x-moto-account-id` header the gateway sets, so it must never
be reachable any other way: the socket is mode 0600 in a private directory, and the process lives in an
empty network namespace (no interfaces at all), which also stops moto's outbound calls (SNS http
subscriptions, API Gateway integrations, Firehose...).

It also keeps accounts apart itself, whatever a request says (account_guard.py): while it serves a
request for account A, moto may not look up, create or iterate any other account's state; such a
request is answered 403 AccessDenied in its protocol's error shape, and a request without one valid
account id is refused outright. Unsigned S3 reads are decided as S3 decides them for an anonymous
principal (s3_public_access.py). Every other principal than the lab session's own key (IAM users' keys,
STS credentials) is decided by IAM policy evaluation (authorization/, from the gateway's x-lab-caller).

Besides moto's API it serves a few admin routes under /_sandbox/ (the gateway refuses that prefix):
    POST /_sandbox/accounts/<account>/reset   forget one account
    GET  /_sandbox/stats                      {"rss_bytes", "accounts"}
    GET  /_sandbox/access-keys/<key id>       {"account_id", "secret_access_key", "expires_at"} of a moto-issued
                                              key (expires_at: Unix time for STS credentials, else null)
    GET  /_sandbox/buckets/<name>/owner       {"account_id"}
    POST /_sandbox/accounts/<account>/iam/access   {principal, action, resource, context}: what IAM would
                                              decide, read in that account only (graders' `iam.access`)
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import re
import sys
import threading
from pathlib import Path

from labapp.sandbox import account_guard, authorization

DATA_DIR = Path(__file__).resolve().parent / "data"
ACCOUNT_HEADER_ENVIRON_KEY = "HTTP_X_MOTO_ACCOUNT_ID"


def configure_moto_environment() -> None:
    """moto reads these at import time: call this before anything imports moto."""
    if "moto" in sys.modules:
        raise RuntimeError("moto was imported before its environment was configured")
    # Bucket names are global; without this, any account can read and write any bucket by name.
    os.environ["MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS"] = "false"
    # The default catalogue is ~1,300 AMIs per account and region (4 MB, 44 ms each); ship a few current ones.
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    os.environ["MOTO_AMIS_PATH"] = str(DATA_DIR / "amis.json")
    # MOTO_ACCOUNT_ID would override the gateway's header and put every learner in one account.
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    # INITIAL_NO_AUTH_ACTION_COUNT is deliberately left unset: IAM enforcement is global in moto and
    # would need every platform key to exist inside moto.


def isolate_network() -> str:
    """Move this process into a new, empty network namespace. Returns how, or raises OSError.

    Must run while the process has a single thread: namespaces are per thread, and threads started
    later inherit the namespace of the thread that starts them."""
    if os.geteuid() == 0:
        os.unshare(os.CLONE_NEWNET)
        return "network namespace"
    os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNET)
    return "user + network namespace"


class AccountLocks:
    """One lock per account: moto is not thread-safe, but different accounts share no state we touch."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def for_account(self, account_id: str) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(account_id)
            if lock is None:
                lock = self._locks[account_id] = threading.Lock()
            return lock

    def forget(self, account_id: str) -> None:
        with self._guard:
            self._locks.pop(account_id, None)

    @contextlib.contextmanager
    def holding(self, account_id: str, *others: str):
        """The account's lock and those of the other accounts of its lab session, always taken in the same
        (sorted) order: a request that reaches a partner account (AssumeRole writes the temporary key there)
        must not run beside a request of that account, and two such requests must not deadlock."""
        with contextlib.ExitStack() as stack:
            for account in sorted({account_id, *others}):
                stack.enter_context(self.for_account(account))
            yield


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


_RESET_ROUTE = re.compile(r"^/_sandbox/accounts/(\d{12})/reset$")
_ACCESS_KEY_ROUTE = re.compile(r"^/_sandbox/access-keys/([A-Z0-9]{16,128})$")
_BUCKET_OWNER_ROUTE = re.compile(r"^/_sandbox/buckets/([^/]{1,255})/owner$")
_IAM_ACCESS_ROUTE = re.compile(r"^/_sandbox/accounts/(\d{12})/iam/access$")


def _sibling_accounts(environ) -> tuple[str, ...]:
    """The other accounts of the caller's lab session, as the gateway said (its trusted caller header)."""
    info = authorization.caller.parse(environ.get(authorization.caller.ENVIRON_KEY))
    return info.sibling_accounts if info is not None else ()


class EmulatorApp:
    """WSGI wrapper around moto: admin routes, per-account serialisation, a drained request body."""

    def __init__(self, moto_app) -> None:
        self.moto_app = moto_app
        self.locks = AccountLocks()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_sandbox/"):
            return self.admin(environ, start_response, path)
        # Read the whole body first: moto does not always consume it, and a half-read body would corrupt
        # the next request on this keep-alive connection.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length or environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        account_id = environ.get(ACCOUNT_HEADER_ENVIRON_KEY, "")
        if not account_guard.ACCOUNT_ID.match(account_id):
            # Without one valid account moto would pick one itself (from the access key, or its default
            # account): never serve such a request.
            status, headers, body = account_guard.denial_response(environ, self.service_of(environ), account_id or "none")
            start_response(status, headers)
            return [body]
        service = self.service_of(environ)
        if refusal := misrouted(environ, service):
            status, headers, body = account_guard.denial_response(environ, service, account_id, refusal)
            start_response(status, headers)
            return [body]
        captured: list = []

        def capture(status, headers, exc_info=None):
            captured[:] = [status, headers]
            return lambda data: None  # moto returns its body; nothing writes through this

        siblings = _sibling_accounts(environ)
        with (
            self.locks.holding(account_id, *siblings),
            account_guard.guarded(account_id, siblings) as guard,
            authorization.request_scope(environ, account_id, service) as iam,
        ):
            try:
                # Materialise the response inside the lock: moto builds some bodies lazily.
                result = self.moto_app(environ, capture)
                try:
                    body = b"".join(result)
                finally:
                    if hasattr(result, "close"):
                        result.close()
            except Exception:
                if not guard.denied and not iam.refusal:
                    raise
                # The refusal propagated out of moto (its Flask apps run in debug mode): answered below.
        if guard.denied:
            # moto may have caught the refusal and answered anything (a 500, or carried on): the request
            # tried to reach another account, so it is refused whatever moto made of it.
            status, headers, body = account_guard.denial_response(environ, service, guard.denied[0])
            start_response(status, headers)
            return [body]
        if iam.evaluated and not iam.decided and not iam.refusal:
            # IAM must decide every call of an evaluated principal: one that reached no decision point is
            # refused (and logged), never allowed silently.
            authorization.enforce.log.warning("IAM: %s %s reached no decision point; refused",
                                              environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            iam.refusal = "This request could not be authorized by the lab's IAM evaluation."
        if iam.refusal:
            status, headers, body = authorization.refusal_response(iam)
            start_response(status, headers)
            return [body]
        start_response(*captured)
        return [body]

    def service_of(self, environ) -> str | None:
        """The moto service a request is for (moto infers some from the form body: rewind it first)."""
        stream = environ.get("wsgi.input")
        if hasattr(stream, "seek"):
            stream.seek(0)
        try:
            return getattr(self.moto_app.get_application(environ), "service", None)
        except Exception:
            return None

    def admin(self, environ, start_response, path):
        from labapp.sandbox import moto_patches

        method = environ["REQUEST_METHOD"]
        if method == "POST" and (match := _RESET_ROUTE.match(path)):
            account_id = match.group(1)
            with self.locks.for_account(account_id):
                moto_patches.reset_account(account_id)
                authorization.forget_account(account_id)
            self.locks.forget(account_id)
            return _json(start_response, 200, {"reset": account_id})
        if method == "GET" and path == "/_sandbox/stats":
            return _json(
                start_response, 200, {"rss_bytes": _rss_bytes(), "accounts": moto_patches.accounts_with_state()}
            )
        if method == "GET" and (match := _ACCESS_KEY_ROUTE.match(path)):
            found = moto_patches.find_access_key(match.group(1))
            if found is None:
                return _json(start_response, 404, {"error": "unknown access key"})
            account_id, secret, expires_at = found
            return _json(
                start_response, 200, {"account_id": account_id, "secret_access_key": secret, "expires_at": expires_at}
            )
        if method == "GET" and (match := _BUCKET_OWNER_ROUTE.match(path)):
            owner = moto_patches.bucket_owner(match.group(1))
            if owner is None:
                return _json(start_response, 404, {"error": "no such bucket"})
            return _json(start_response, 200, {"account_id": owner})
        if method == "POST" and (match := _IAM_ACCESS_ROUTE.match(path)):
            return self.iam_access(environ, start_response, match.group(1))
        if method == "POST" and path == "/_sandbox/gc":
            return _json(start_response, 200, {"collected": gc.collect()})
        return _json(start_response, 404, {"error": "no such admin route"})


    def iam_access(self, environ, start_response, account_id: str):
        """A grader's question, decided like a request of that account: under its lock and the guard, so
        nothing of another account can be read."""
        from labapp.sandbox.authorization import access

        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            question = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            principal, action = str(question["principal"]), str(question["action"])
            resource, context = str(question.get("resource") or "*"), dict(question.get("context") or {})
        except (ValueError, KeyError, TypeError):
            return _json(start_response, 400, {"error": "expected JSON {principal, action, resource, context}"})
        with self.locks.for_account(account_id), account_guard.guarded(account_id) as guard:
            try:
                answer = access.decide(account_id, principal, action, resource, context,
                                       str(question.get("region") or "us-east-1"))
            except access.UnknownPrincipal as exc:
                return _json(start_response, 404, {"error": str(exc)})
            except Exception:
                if not guard.denied:
                    raise
        if guard.denied:
            return _json(start_response, 403, {"error": "the question reached another account"})
        return _json(start_response, 200, answer)


def misrouted(environ, service: str | None) -> str | None:
    """Why moto would run this request as something the gateway did not check, or None.

    moto picks the service from the path, the Host and the body as well as from the signature, so a
    request the gateway checked as S3 object data can run as S3 Control, and an unsigned one as Glacier.
    The gateway decodes every body but S3 object data, and serves unsigned requests for S3 reads only;
    anything else arriving here was classified differently by the two, and is not run."""
    if environ.get("HTTP_X_LAB_ANONYMOUS") and service != "s3":
        return "Unsigned requests can only read S3 objects; sign your request."
    encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding not in ("", "identity") and service != "s3":
        return "This request cannot be served: its body is still encoded for a service that takes no encoded body."
    return None


def _json(start_response, status: int, payload: dict):
    body = json.dumps(payload).encode()
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}.get(status, "Error")
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


WARM_SERVICES = ("s3", "iam", "sts", "ec2", "sns", "sqs")
WARM_ACCOUNT = "000000000000"
MOTO_DEFAULT_ACCOUNT = "123456789012"  # moto.core.DEFAULT_ACCOUNT_ID, without importing moto here


def _warm_up(dispatcher) -> None:
    """Import the common services and build one backend of each, then forget it: the first learner
    request is then fast, and `gc.freeze()` moves all that long-lived data out of the collector's way."""
    from moto.backends import get_backend
    from moto.moto_server.werkzeug_app import create_backend_app

    from labapp.sandbox import moto_patches

    for service in WARM_SERVICES:
        dispatcher.app_instances.setdefault(service, create_backend_app(service))
        # Global services are keyed by partition, regional ones by region.
        get_backend(service)[WARM_ACCOUNT]["aws" if service in ("s3", "iam", "sts") else "us-east-1"]
    moto_patches.reset_account(WARM_ACCOUNT)
    moto_patches.reset_account(MOTO_DEFAULT_ACCOUNT)
    gc.collect()
    gc.freeze()


def build_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from labapp.sandbox import moto_patches

    moto_patches.apply()
    account_guard.install()
    authorization.install()  # IAM decides for every principal but the lab session's own key

    def create_app_unguarded(service):
        """moto builds a service's app on its first request, from a backend of its default account:
        platform work, not the learner's, so outside the guard. That account is then emptied again,
        so /_sandbox/stats lists learners' accounts only."""
        with account_guard.unguarded():
            app = create_backend_app(service)
            moto_patches.reset_account(MOTO_DEFAULT_ACCOUNT)
        return app

    dispatcher = DomainDispatcherApplication(create_app_unguarded)
    _warm_up(dispatcher)
    return EmulatorApp(dispatcher)


def serve(socket_path: str, *, allow_network: bool = False, log=print) -> None:
    configure_moto_environment()
    try:
        how = isolate_network()
        log(f"emulator: isolated in a new {how} (no route out)")
    except OSError as exc:
        if not allow_network:
            raise SystemExit(
                f"emulator: cannot create an empty network namespace ({exc}). Refusing to start: moto "
                "would be able to reach the network (SNS http subscriptions etc.). Run as root, enable "
                "unprivileged user namespaces, or set LAB_EMULATOR_ALLOW_NETWORK=1 to accept the risk."
            ) from exc
        log("!" * 78)
        log(f"!! WARNING: emulator runs WITH network access ({exc}); LAB_EMULATOR_ALLOW_NETWORK=1 is set.")
        log("!" * 78)

    from labapp.sandbox.httpserver import make_unix_server

    app = build_app()
    socket_dir = Path(socket_path).parent
    if not socket_dir.exists():
        socket_dir.mkdir(mode=0o700, parents=True)
    server = make_unix_server(socket_path, app, mode=0o600)
    log(f"emulator: serving on unix://{socket_path} (pid {os.getpid()})")
    try:
        server.serve_forever()
    finally:
        server.server_close()
        try:
            os.unlink(socket_path)
        except FileNotFoundError:
            pass
