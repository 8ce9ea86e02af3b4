"""The gateway's WSGI app: authenticate, pin the account, filter, rate-limit, forward, journal.

Every request either reaches the emulator with exactly one `x-moto-account-id` (the caller's sandbox)
or is refused with an AWS-style error. The order below matters: nothing is forwarded before the
signature is verified and every rule has passed.
"""

from __future__ import annotations

import hmac
import io
import json
import logging
import re
import time
from dataclasses import dataclass, field
from urllib.parse import unquote

from django.utils import timezone

from labapp.sandbox.authorization import caller as caller_header
from labapp.sandbox.httpserver import BadFraming

from . import canonical, errors, journal, operations, payload, rules, sigv4
from .canonical import Parsed
from .errors import Refusal
from .identity import CredentialStore, SandboxKey
from .journal import Journal, JournalEntry
from .ratelimit import RateLimiter
from .upstream import Upstream

log = logging.getLogger(__name__)

READY = "ready"
LIVE = ("provisioning", "ready")
# Trusted platform code may also read a handed-in sandbox (regrading a submission); learners may not.
PLATFORM_MAY_USE = (*LIVE, "submitted")
INTERNAL_SOURCES = ("setup", "platform")
# Never forwarded: connection-level headers, our own control headers, any account override, and what
# described the body as it came over the wire (the emulator gets the decoded, canonical body instead).
_DROP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "expect", "proxy-connection",
     "proxy-authorization", "content-length", "x-lab-internal", "x-lab-source", "x-moto-account-id",
     "content-type", "content-encoding", "x-amz-content-sha256", "x-amz-decoded-content-length", "x-amz-trailer"}
)
# Headers whose values are not parameters (checked for other accounts' ids like every other header).
_UNCHECKED_HEADERS = frozenset({"HTTP_AUTHORIZATION", "HTTP_X_AMZ_CONTENT_SHA256", "HTTP_X_LAB_INTERNAL", "HTTP_USER_AGENT"})
# An S3 browser upload (POST policy) carries its credential inside the multipart body, so that body is read
# before anything is authenticated: it is kept small.
MAX_UNAUTHENTICATED_FORM = 1024 * 1024
# Server and Date are set again by our own HTTP server.
_DROP_RESPONSE_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"})
PUBLIC_RATE_DIVISOR = 5  # unsigned callers get a fifth of a learner's rate and burst
_ANONYMOUS_QUERY_KEYS = frozenset(
    {"versionId", "partNumber", "x-id", "response-content-type", "response-content-disposition",
     "response-content-encoding", "response-content-language", "response-cache-control", "response-expires"}
)
_ERROR_CODE_XML = re.compile(rb"<Code>([^<]{1,100})</Code>")
ANONYMOUS_HEADER = "x-lab-anonymous"  # labapp/sandbox/s3_public_access.py
DENIAL_HEADER = "x-lab-iam-denial"  # labapp/sandbox/authorization/enforce.py: why IAM refused
DENIAL_DETAIL_HEADER = "x-lab-iam-denial-detail"  # and which statements decided (JSON)


@dataclass
class Caller:
    session_id: str
    account_id: str
    source: str  # learner | setup | platform | public (an unsigned request to a learner's bucket)
    rate_limit_key: str = ""  # whose budget the call uses: the account unless set
    # Who signed, for IAM in the emulator (authorization/caller.py): the session's own key, the platform,
    # a key moto issued in the sandbox, or nobody.
    kind: str = caller_header.SESSION
    access_key_id: str = ""
    # Every account of the caller's session (the request stays pinned to `account_id`; the others may be
    # named, e.g. a role to assume in the session's partner account).
    session_accounts: tuple[str, ...] = ()


@dataclass
class Exchange:
    """One request as it moves through the gateway."""

    environ: dict
    method: str
    raw_target: str
    raw_path: str
    raw_query: str
    query_pairs: list[tuple[str, str]]
    started: float
    at: object
    body: bytes = b""
    body_read: bool = False
    parsed: Parsed | None = None
    post_fields: dict[str, str] | None = None
    verified: sigv4.Verified | None = None
    forward_headers: list[tuple[str, str]] = field(default_factory=list)  # set on top of the request's own
    service: str = ""
    region: str = ""
    caller: Caller | None = None
    operation: operations.Operation | None = None
    extra_response_headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), "")

    @property
    def form_pairs(self) -> list[tuple[str, str]] | None:
        return self.parsed.form_pairs if self.parsed is not None else None

    @property
    def mimetype(self) -> str:
        return canonical.mimetype(self.environ.get("CONTENT_TYPE", ""))

    @property
    def announces_body(self) -> bool:
        return bool(self.environ.get("wsgi.input_terminated")) or self.environ.get("CONTENT_LENGTH", "0") not in ("", "0")


class GatewayApp:
    def __init__(
        self,
        *,
        socket_path: str,
        internal_token: str,
        regions: list[str],
        max_body: int,
        rate_per_second: float,
        burst: int,
    ):
        self.upstream = Upstream(socket_path)
        self.credentials = CredentialStore(self.upstream)
        self.limiter = RateLimiter(rate_per_second, burst)
        # Unsigned reads, per client address: a public object in a lab needs a few reads, not a learner's budget.
        self.public_limiter = RateLimiter(rate_per_second / PUBLIC_RATE_DIVISOR, max(5, burst // PUBLIC_RATE_DIVISOR))
        self.journal = Journal()
        self.internal_token = internal_token
        self.regions = list(regions)
        self.max_body = max_body

    # --- WSGI entry ---

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_gateway/"):
            return self.control(environ, start_response, path)
        raw_target = environ.get("RAW_URI") or environ.get("REQUEST_URI") or path
        raw_path, _, raw_query = raw_target.partition("?")
        exchange = Exchange(
            environ=environ,
            method=environ["REQUEST_METHOD"],
            raw_target=raw_target,
            raw_path=raw_path,
            raw_query=raw_query,
            query_pairs=[],
            started=time.perf_counter(),
            at=timezone.now(),
        )
        try:
            if exchange.announces_body and not exchange.body_read:
                # Until the body is read, a refusal must close the connection (the body stays unread).
                exchange.extra_response_headers.append(("Connection", "close"))
            status_line, headers, body = self.handle(exchange)
        except Refusal as refusal:
            status_line, headers, body = self.refuse(exchange, refusal)
        except Exception:
            log.exception("gateway: unexpected error for %s %s", exchange.method, raw_target)
            status_line, headers, body = self.refuse(
                exchange, Refusal(500, "InternalError", "The lab gateway failed to handle this request.")
            )
        start_response(status_line, headers + exchange.extra_response_headers)
        return [body]

    # --- the pipeline ---

    def handle(self, exchange: Exchange):
        environ = exchange.environ
        internal = self.internal_source(environ)
        exchange.query_pairs = canonical.parse_query(exchange.raw_query)
        self.check_announced_length(exchange)
        if self.is_browser_upload(exchange):
            self.read_body(exchange, MAX_UNAUTHENTICATED_FORM)
            exchange.post_fields = _small_form_fields(environ, exchange.body)
        credential = self.find_credential(exchange)
        exchange.service = (
            operations.service_from_signing_name(credential.service)
            if credential.service
            else operations.service_from_request(environ, unquote(exchange.raw_path))
        )
        exchange.region = credential.region

        # Who is asking is settled before any body is read: an unknown key never gets to send one.
        if credential.form == "none":
            if exchange.announces_body:
                raise errors.access_denied("Anonymous requests cannot carry a body; sign your request.")
            exchange.caller = self.anonymous_caller(exchange)
            self.take_rate_limit(exchange, internal)
        else:
            key = self.credentials.key(credential.access_key_id)
            if key is None:
                raise errors.invalid_key(exchange.service)
            self.check_session_status(key, internal, exchange.service)
            kind = (caller_header.INTERNAL if internal
                    else caller_header.MOTO_KEY if key.issued_by_moto else caller_header.SESSION)
            exchange.caller = Caller(key.session_id, key.account_id, internal or "learner", kind=kind,
                                     access_key_id=credential.access_key_id,
                                     session_accounts=key.session_accounts or (key.account_id,))
            self.take_rate_limit(exchange, internal)  # before the body: reading and parsing it is the cost
            self.read_body(exchange, self.max_body)
            # A body can take minutes to arrive: the session may have ended or been handed in meanwhile,
            # and a write must not land in a sandbox kept as submitted. Ask again (ending forgets the key).
            key = self.credentials.key(credential.access_key_id)
            if key is None:
                raise errors.invalid_key(exchange.service)
            self.check_session_status(key, internal, exchange.service)
            self.verify_signature(exchange, credential, key)

        # From here on the caller is known, so refusals are journaled against their session.
        account_id = exchange.caller.account_id
        rules.check_path_and_host(exchange.raw_target, environ.get("HTTP_HOST", ""))
        rules.check_region(exchange.region, exchange.service, environ.get("HTTP_HOST", ""), self.regions)
        self.decode_body(exchange)
        exchange.parsed = self.parse_body(exchange)
        exchange.operation = operations.describe(
            exchange.service,
            exchange.method,
            environ,
            unquote(exchange.raw_path),
            exchange.query_pairs,
            exchange.form_pairs,
            exchange.parsed.body,
        )
        if exchange.service == "sts":
            params = dict(exchange.query_pairs + (exchange.form_pairs or []))
            if isinstance(exchange.parsed.json_document, dict):
                params.update((k, v) for k, v in exchange.parsed.json_document.items() if isinstance(v, str))
            # An IAM user's GetSessionToken / GetFederationToken get real keys of their own in the emulator
            # (extensions/sts.py); the session's own key would get moto's shared placeholder: refused.
            issued_to_user = exchange.caller.kind == caller_header.MOTO_KEY and exchange.operation.action in (
                "GetSessionToken", "GetFederationToken")
            if not issued_to_user:
                rules.check_sts(account_id, exchange.operation.action, params, exchange.caller.session_accounts)
        rules.check_cross_account(account_id, exchange.service, self.referenced_strings(exchange),
                                  exchange.caller.session_accounts)
        return self.forward(exchange)

    def take_rate_limit(self, exchange: Exchange, internal: str | None) -> None:
        if not internal and not self.limiter.allow(exchange.caller.rate_limit_key or exchange.caller.account_id):
            raise errors.throttled(exchange.service)

    def check_announced_length(self, exchange: Exchange) -> None:
        try:
            length = int(exchange.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise Refusal(400, "InvalidRequest", "Content-Length is not a number.") from None
        if length > self.max_body:
            raise Refusal(413, "EntityTooLarge", f"Request bodies are limited to {self.max_body} bytes in this lab.")

    def is_browser_upload(self, exchange: Exchange) -> bool:
        """An S3 POST-policy upload: multipart, no Authorization header, no presigned query."""
        return (
            exchange.method == "POST"
            and exchange.mimetype == canonical.MULTIPART
            and not exchange.environ.get("HTTP_AUTHORIZATION")
            and not any(k.lower() in ("x-amz-credential", "awsaccesskeyid") for k, _ in exchange.query_pairs)
        )

    def read_body(self, exchange: Exchange, limit: int) -> None:
        if exchange.body_read:
            return
        environ = exchange.environ
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            if length > limit:
                raise Refusal(413, "EntityTooLarge", f"Request bodies are limited to {limit} bytes here.")
            if length:
                exchange.body = environ["wsgi.input"].read(length)
                if len(exchange.body) != length:
                    raise Refusal(400, "IncompleteBody", "The request body is shorter than its Content-Length.")
            elif environ.get("wsgi.input_terminated"):  # chunked transfer encoding: no length up front
                exchange.body = environ["wsgi.input"].read(limit + 1)
                if len(exchange.body) > limit:
                    raise Refusal(413, "EntityTooLarge", f"Request bodies are limited to {limit} bytes here.")
        except (BadFraming, ConnectionError, TimeoutError) as exc:
            raise Refusal(400, "IncompleteBody", f"The request body could not be read: {exc}") from None
        exchange.body_read = True
        if ("Connection", "close") in exchange.extra_response_headers:
            exchange.extra_response_headers.remove(("Connection", "close"))

    def decode_body(self, exchange: Exchange) -> None:
        """Undo the payload framing (aws-chunked, verified) and the content coding, exactly once."""
        environ = exchange.environ
        codings = payload.content_codings(environ.get("HTTP_CONTENT_ENCODING", ""))
        mode = exchange.verified.payload_hash if exchange.verified else ""
        if mode in (payload.STREAMING_SIGNED, payload.STREAMING_UNSIGNED_TRAILER):
            exchange.body, trailers = payload.decode_aws_chunked(
                mode,
                exchange.body,
                environ.get("HTTP_X_AMZ_DECODED_CONTENT_LENGTH"),
                exchange.verified.signing,
                environ.get("HTTP_X_AMZ_TRAILER", ""),
            )
            for name, value in trailers.items():
                sent = exchange.header(name)
                if sent and sent != value:
                    raise Refusal(400, "InvalidRequest", f"{name} is given twice with different values.")
                exchange.forward_headers.append((name, value))
            codings = [c for c in codings if c != "aws-chunked"]
        elif "aws-chunked" in codings:
            raise Refusal(400, "InvalidRequest", "An aws-chunked body needs a STREAMING x-amz-content-sha256.")
        if exchange.service == "s3" and self.is_s3_object_data(exchange):
            if codings:  # S3 stores an object's Content-Encoding as metadata and never decodes the data
                exchange.forward_headers.append(("content-encoding", ",".join(codings)))
            return
        if codings in ([], ["identity"]):
            return
        if codings == ["gzip"] and exchange.service != "s3":
            exchange.body = payload.gunzip(exchange.body, self.max_body)
            return
        raise Refusal(
            400, "InvalidRequest",
            f"Content-Encoding {','.join(codings)!r} is not accepted here; send the body uncompressed or gzip.",
        )

    def is_s3_object_data(self, exchange: Exchange) -> bool:
        keys = {k for k, _ in exchange.query_pairs}
        return exchange.method in ("PUT", "POST") and (
            (keys <= rules.S3_DATA_QUERY_KEYS and "uploadId" not in keys and self.s3_key_in_path(exchange))
            or (exchange.method == "PUT" and "uploadId" in keys)
        )

    def s3_key_in_path(self, exchange: Exchange) -> bool:
        _bucket, path = operations.s3_bucket_and_path(exchange.environ.get("HTTP_HOST", ""), unquote(exchange.raw_path))
        parts = path.lstrip("/").split("/", 1)
        return len(parts) == 2 and bool(parts[1])

    def parse_body(self, exchange: Exchange) -> Parsed:
        """The body in the protocol the service speaks, as it will be forwarded (canonical.py)."""
        body, mime, service = exchange.body, exchange.mimetype, exchange.service
        if mime == canonical.CBOR or exchange.header("Smithy-Protocol"):
            raise Refusal(
                400, "InvalidRequest",
                "The Smithy RPC v2 CBOR protocol is not accepted by this lab gateway; AWS SDKs send JSON to "
                "every service the labs use.",
            )
        if mime == canonical.MULTIPART:
            if service == "s3" and exchange.method == "POST" and not exchange.query_pairs and not self.s3_key_in_path(exchange):
                return Parsed(body, None, _post_field_pairs(exchange.environ, body))
            raise Refusal(400, "InvalidRequest", "multipart/form-data is only accepted for S3 POST uploads to a bucket.")
        if service == "s3":
            if mime == canonical.FORM and not body:
                return Parsed(b"", "")  # some SDKs label an empty POST so: forwarded without the label
            if mime == canonical.FORM:
                raise Refusal(400, "InvalidRequest", "S3 requests cannot be sent as a form (application/x-www-form-urlencoded).")
            if self.is_s3_object_data(exchange):
                return Parsed(body, None)  # the learner's object data: it means nothing to the emulator
            return canonical.parse_opaque_or_sniffed(body) if body else Parsed(b"", None)
        known = operations.protocols(service)
        form_ok = known is None or known.protocol in canonical.FORM_PROTOCOLS or "query" in known.supported
        if mime == canonical.FORM:
            if not form_ok:
                raise Refusal(400, "InvalidRequest", f"{service} does not take form bodies; send {known.protocol}.")
            return canonical.parse_form_body(body, exchange.query_pairs)
        if exchange.header("X-Amz-Target") or mime in canonical.JSON_TYPES[:2]:
            if exchange.query_pairs:
                raise Refusal(400, "InvalidRequest", "JSON-protocol requests carry their parameters in the body only.")
            version = known.json_version if known else "1.1"
            return canonical.parse_json_body(body or b"", mime if mime in canonical.JSON_TYPES[:2] else f"application/x-amz-json-{version}")
        if not body:
            return Parsed(b"", None)
        if known is None or known.protocol in canonical.FORM_PROTOCOLS:
            raise Refusal(400, "InvalidRequest", f"The body of a {service} request must be a form (application/x-www-form-urlencoded).")
        if known.protocol == "rest-json":
            if self.rest_operation(exchange) in known.blob_payload_operations:
                return Parsed(body, None, [("", body.decode("utf-8", "replace"))] + canonical.fallback_query_strings(body))
            return canonical.parse_json_body(body, "application/json")
        if known.protocol == "rest-xml":
            return canonical.parse_xml_body(body)
        raise Refusal(400, "InvalidRequest", f"Requests to {service} cannot be checked by this lab gateway.")

    def rest_operation(self, exchange: Exchange) -> str:
        """The REST operation a request names by method, path and query (before its body is parsed)."""
        return operations.describe(
            exchange.service, exchange.method, exchange.environ, unquote(exchange.raw_path), exchange.query_pairs, None, b""
        ).action

    def internal_source(self, environ) -> str | None:
        token = environ.get("HTTP_X_LAB_INTERNAL")
        if token is None:
            return None
        if not hmac.compare_digest(token.encode(), self.internal_token.encode()):
            raise errors.access_denied("The X-Lab-Internal token is not valid.")
        source = environ.get("HTTP_X_LAB_SOURCE", "platform")
        return source if source in INTERNAL_SOURCES else "platform"

    def find_credential(self, exchange: Exchange) -> sigv4.Credential:
        try:
            return sigv4.find_credential(exchange.environ, exchange.query_pairs, exchange.post_fields)
        except sigv4.SignatureError as exc:
            raise Refusal(403 if exc.code != "InvalidRequest" else 400, exc.code, exc.message) from None

    def check_session_status(self, key: SandboxKey, internal: str | None, service: str) -> None:
        allowed = PLATFORM_MAY_USE if internal else (READY,)
        if key.status not in allowed:
            refusal = errors.invalid_key(service)
            refusal.message += " (this lab session is not active)"
            raise refusal

    def verify_signature(self, exchange: Exchange, credential: sigv4.Credential, key: SandboxKey) -> None:
        try:
            if credential.form == "post-form":
                bucket, _path = operations.s3_bucket_and_path(exchange.environ.get("HTTP_HOST", ""), unquote(exchange.raw_path))
                sigv4.verify_post_policy(
                    credential, key.secret, exchange.post_fields or {},
                    bucket=bucket or unquote(exchange.raw_path).strip("/").split("/", 1)[0],
                    file_size=_post_file_size(exchange.environ, exchange.body),
                )
            elif credential.form.startswith("sigv2"):
                bucket, _path = operations.s3_bucket_and_path(exchange.environ.get("HTTP_HOST", ""), "/")
                sigv4.verify_sigv2_s3(
                    credential,
                    key.secret,
                    method=exchange.method,
                    raw_path=exchange.raw_path,
                    raw_query=exchange.raw_query,
                    environ=exchange.environ,
                    bucket_from_host=bucket,
                )
            else:
                exchange.verified = sigv4.verify(
                    credential,
                    key.secret,
                    method=exchange.method,
                    raw_path=exchange.raw_path,
                    raw_query=exchange.raw_query,
                    environ=exchange.environ,
                    body=exchange.body,
                )
        except sigv4.SignatureError as exc:
            raise Refusal(exc.status, exc.code, exc.message) from None

    def anonymous_caller(self, exchange: Exchange) -> Caller:
        """Unsigned S3 reads of an object go to the bucket owner's account, marked anonymous: the
        emulator decides them as S3 does for an anonymous principal (labapp/sandbox/s3_public_access.py).
        Nothing else is served anonymously. Such a caller is not the learner: it is rate-limited by its
        client address and journaled as "public", which neither graders nor the learner's journal read."""
        refusal = errors.access_denied("Anonymous requests can only read S3 objects; sign your request.")
        if exchange.service != "s3" or exchange.method not in ("GET", "HEAD"):
            raise refusal
        names = [k for k, _ in exchange.query_pairs]
        if any(k not in _ANONYMOUS_QUERY_KEYS for k in names) or len(set(names)) != len(names):
            raise refusal
        bucket, path = operations.s3_bucket_and_path(exchange.environ.get("HTTP_HOST", ""), unquote(exchange.raw_path))
        parts = path.lstrip("/").split("/", 1)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise refusal
        rate_limit_key = "public:" + exchange.environ.get("REMOTE_ADDR", "")
        if not self.public_limiter.allow(rate_limit_key):
            raise errors.throttled(exchange.service)
        status, found = self.upstream.get_json(f"/_sandbox/buckets/{_quote_segment(parts[0])}/owner")
        session = self.credentials.session_for_account(found["account_id"]) if status == 200 else None
        if session is None or session.status != READY or (session.expires_at is not None and time.time() >= session.expires_at):
            raise errors.access_denied("Access Denied")
        _make_anonymous_canonical(exchange)
        exchange.region = self.regions[0]
        return Caller(session.session_id, session.account_id, "public", rate_limit_key=rate_limit_key,
                      kind=caller_header.ANONYMOUS)

    def referenced_strings(self, exchange: Exchange):
        """Every string the emulator will interpret: path, query, headers, the parsed body."""
        strings = [("", unquote(exchange.raw_path))]
        strings += exchange.query_pairs
        for name, value in exchange.environ.items():
            if name.startswith("HTTP_") and name not in _UNCHECKED_HEADERS and not name.startswith("HTTP_X_AMZ_META_"):
                strings.append((name[5:], value))
        strings += exchange.forward_headers
        strings += exchange.parsed.strings
        return strings

    # --- forwarding ---

    def forward(self, exchange: Exchange):
        """Send the canonical request: the body as parsed and checked, headers describing exactly it."""
        parsed = exchange.parsed
        headers = []
        for name, value in exchange.environ.items():
            if name.startswith("HTTP_"):
                header = name[5:].replace("_", "-").lower()
            elif name == "CONTENT_TYPE":
                header = "content-type"
            else:
                continue
            # x-lab-* headers are the gateway's own: whatever a client sent under those names is dropped.
            if header not in _DROP_HEADERS and not header.startswith("x-lab-"):
                headers.append((header, value))
        content_type = parsed.content_type if parsed.content_type is not None else exchange.environ.get("CONTENT_TYPE")
        if content_type:
            headers.append(("content-type", content_type))
        if exchange.service == "s3":
            headers.append(("x-amz-content-sha256", payload.UNSIGNED))  # the body is decoded: no streaming
        headers += exchange.forward_headers
        headers.append(("x-moto-account-id", exchange.caller.account_id))  # exactly one, always ours
        if exchange.caller.kind == caller_header.ANONYMOUS:
            headers.append((ANONYMOUS_HEADER, "1"))
        headers.append((caller_header.HEADER, self.caller_header(exchange)))
        response = self.upstream.request(exchange.method, exchange.raw_target, headers, parsed.body)
        denial = response.header(DENIAL_HEADER)
        if denial:  # IAM refused: the journal keeps why, and which statements decided
            exchange.operation.params["AccessDeniedReason"] = unquote(denial)[:1000]
            detail = journal.denial_detail(unquote(response.header(DENIAL_DETAIL_HEADER) or ""))
            if detail:
                exchange.operation.params["AccessDeniedBy"] = detail

        operations.add_response_params(exchange.operation, response.header)
        error_code = ""
        if response.status >= 400:
            error_code = _error_code(response)
        self.record(exchange, response.status, error_code)

        out_headers = [(k, v) for k, v in response.headers
                       if k.lower() not in _DROP_RESPONSE_HEADERS
                       and k.lower() not in (DENIAL_HEADER, DENIAL_DETAIL_HEADER)]
        if exchange.method == "HEAD":
            upstream_length = response.header("content-length")
            if upstream_length is not None:
                out_headers.append(("Content-Length", upstream_length))
            return f"{response.status} {response.reason}", out_headers, b""
        out_headers.append(("Content-Length", str(len(response.body))))
        return f"{response.status} {response.reason}", out_headers, response.body

    def caller_header(self, exchange: Exchange) -> str:
        environ = exchange.environ
        return caller_header.CallerInfo(
            exchange.caller.kind,
            exchange.caller.access_key_id,
            environ.get("REMOTE_ADDR", ""),
            exchange.region,
            environ.get("wsgi.url_scheme") == "https",
            tuple(a for a in exchange.caller.session_accounts if a != exchange.caller.account_id),
        ).header_value()

    def refuse(self, exchange: Exchange, refusal: Refusal):
        if exchange.caller is not None:
            self.record(exchange, refusal.status, refusal.code)
        return errors.render(refusal, service=exchange.service, environ=exchange.environ)

    def record(self, exchange: Exchange, status: int, error_code: str) -> None:
        operation = exchange.operation or operations.Operation(exchange.service, "", {})
        self.journal.record(
            JournalEntry(
                session_id=exchange.caller.session_id,
                at=exchange.at,
                source=exchange.caller.source,
                service=operation.service,
                action=operation.action,
                region=exchange.region,
                status=status,
                error_code=error_code,
                params=operation.params,
                mutating=operation.mutating if operation.action else exchange.method not in ("GET", "HEAD"),
                duration_ms=(time.perf_counter() - exchange.started) * 1000,
            )
        )

    # --- control routes (not AWS) ---

    def control(self, environ, start_response, path):
        method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if 0 < length <= 65536 else b""
        if path == "/_gateway/health" and method in ("GET", "HEAD"):
            return _plain(start_response, "200 OK", b"ok")
        token = environ.get("HTTP_X_LAB_INTERNAL", "")
        if not hmac.compare_digest(token.encode(), self.internal_token.encode()):
            return _plain(start_response, "403 Forbidden", b"internal token required")
        if path == "/_gateway/flush" and method == "POST":
            ok = self.journal.flush()
            return _json(start_response, "200 OK" if ok else "504 Gateway Timeout", {"flushed": ok})
        if path == "/_gateway/forget" and method == "POST":
            try:
                access_key_id = json.loads(body or b"{}")["access_key_id"]
            except (ValueError, KeyError, TypeError):
                return _plain(start_response, "400 Bad Request", b'expected {"access_key_id": "..."}')
            self.credentials.forget(access_key_id)
            return _json(start_response, "200 OK", {"forgotten": access_key_id})
        return _plain(start_response, "404 Not Found", b"no such gateway route")


def _error_code(response) -> str:
    header = response.header("x-amzn-ErrorType")
    if header:
        return header.split(":", 1)[0][:100]
    match = _ERROR_CODE_XML.search(response.body[:4096])
    if match:
        return match.group(1).decode("utf-8", "replace")
    if response.body[:1] == b"{":
        try:
            document = json.loads(response.body)
            return str(document.get("__type") or document.get("code") or "").rsplit("#", 1)[-1][:100]
        except ValueError:
            pass
    return ""


def _parse_post_form(environ, body: bytes):
    """(form, files) of an S3 POST upload, parsed by werkzeug as the emulator parses them."""
    from werkzeug.formparser import parse_form_data

    form_environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": environ.get("CONTENT_TYPE", ""),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    try:
        _stream, form, files = parse_form_data(form_environ, max_form_memory_size=1024 * 1024, silent=False)
    except Exception:
        raise Refusal(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.") from None
    return form, files


def _post_field_pairs(environ, body: bytes) -> list[tuple[str, str]]:
    """The text fields of an S3 POST upload (the file part is skipped); a form that does not parse, or
    names a field twice, is refused."""
    form, files = _parse_post_form(environ, body)
    pairs = []
    for name, values in list(form.lists()) + [(name, [""]) for name in files]:
        if len(values) > 1 or (name in form and name in files):
            raise Refusal(400, "InvalidArgument", f"POST form field {name!r} is given twice.")
        pairs.append((name, values[0]))
    return pairs


def _post_file_size(environ, body: bytes) -> int:
    """The size of an S3 POST upload's file part (what a content-length-range condition limits)."""
    _form, files = _parse_post_form(environ, body)
    upload = files.get("file")
    return len(upload.read()) if upload is not None else 0


def _small_form_fields(environ, body: bytes) -> dict[str, str]:
    return dict(_post_field_pairs(environ, body))


def _make_anonymous_canonical(exchange: Exchange) -> None:
    """Forward an unsigned read as exactly that: no Authorization header (moto takes even an empty one
    for a signed request), no x-amz-* or x-lab-* headers, the query rebuilt from its checked pairs (so
    nothing in a value reads as a parameter), and the gateway's anonymous mark."""
    from urllib.parse import quote, urlencode

    from labapp.sandbox.s3_public_access import ANONYMOUS_HEADER

    environ = exchange.environ
    for name in [n for n in environ if n == "HTTP_AUTHORIZATION" or n.startswith(("HTTP_X_AMZ_", "HTTP_X_LAB_"))]:
        del environ[name]
    query = urlencode(exchange.query_pairs, quote_via=quote, safe="-_.~")
    exchange.raw_query = query
    exchange.raw_target = exchange.raw_path + (f"?{query}" if query else "")
    environ["HTTP_" + ANONYMOUS_HEADER.upper().replace("-", "_")] = "1"  # forwarded as x-lab-anonymous


def _quote_segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _plain(start_response, status, body: bytes):
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _json(start_response, status, payload):
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
