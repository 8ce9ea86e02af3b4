"""AWS Signature Version 4: find the credential in a request and verify the signature.

moto checks no signatures, so this is the only thing standing between a learner's key and another
account's key. The canonical request is rebuilt exactly the way botocore builds it when signing
(botocore/auth.py: SigV4Auth, S3SigV4Auth, SigV4QueryAuth), from the bytes that came over the wire.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from botocore.utils import normalize_url_path

from . import post_policy
from .errors import Refusal
from .payload import SigningContext, payload_hash_for_signing

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_CLOCK_SKEW = timedelta(minutes=15)
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600  # what AWS allows
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

# Exactly what the SDKs send, Credential first: moto takes the service from the first comma-separated
# part of the header, so a header with anything else in it would be checked as one service and run as
# another (an `X=.../iam/...` part in front of a valid S3 Credential).
_SIGV4_HEADER = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([0-9a-f]{64})"
)


class SignatureError(Exception):
    """The request's signature is missing, malformed, stale or wrong. `code` is the AWS error code."""

    def __init__(self, code: str, message: str, status: int = 403):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Verified:
    payload_hash: str  # as signed: a hex digest, UNSIGNED-PAYLOAD or STREAMING-...
    signing: SigningContext


@dataclass(frozen=True)
class Credential:
    """Who claims to sign the request, and how (one of: header, presigned, post-form, sigv2, none)."""

    access_key_id: str
    date: str = ""  # YYYYMMDD from the credential scope
    region: str = ""
    service: str = ""
    form: str = "header"
    signed_headers: tuple[str, ...] = ()
    signature: str = ""


ANONYMOUS = Credential(access_key_id="", form="none")


def find_credential(environ: dict, query: list[tuple[str, str]], form_fields: dict[str, str] | None) -> Credential:
    """Extract the claimed credential from a header, a presigned query, or an S3 POST form."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if auth.startswith(ALGORITHM):
        match = _SIGV4_HEADER.fullmatch(auth)
        if not match:
            raise SignatureError(
                "IncompleteSignature",
                "The Authorization header is not a valid SigV4 header "
                "(AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...).",
            )
        return _credential_from_scope(match.group(1), "header", match.group(2), match.group(3))
    if auth.startswith("AWS "):
        # S3's legacy HMAC-SHA1 scheme; other services' SigV2 puts the key in the query or form.
        key_id, _, signature = auth[4:].strip().partition(":")
        return Credential(access_key_id=key_id, service="s3", form="sigv2-header", signature=signature)
    if auth:
        raise SignatureError("IncompleteSignature", "Unsupported Authorization header; use AWS4-HMAC-SHA256.")

    params = {}
    for name, value in query:
        params.setdefault(name.lower(), value)
    if "x-amz-credential" in params:
        if params.get("x-amz-algorithm") != ALGORITHM:
            raise SignatureError("AuthorizationQueryParametersError", "X-Amz-Algorithm must be AWS4-HMAC-SHA256.")
        return _credential_from_scope(
            params["x-amz-credential"],
            "presigned",
            params.get("x-amz-signedheaders", ""),
            params.get("x-amz-signature", ""),
        )
    if "awsaccesskeyid" in params and "expires" in params and "signaturemethod" not in params:
        # An S3 presigned URL in the legacy form; boto3 and `aws s3 presign` still produce these by default.
        return Credential(
            access_key_id=params["awsaccesskeyid"], service="s3", form="sigv2-query", signature=unquote(params.get("signature", ""))
        )
    if "awsaccesskeyid" in params:
        raise SignatureError(
            "InvalidRequest", "Signature Version 2 is not supported here; sign requests with Signature Version 4."
        )
    if form_fields:
        fields = {k.lower(): v for k, v in form_fields.items()}
        if "x-amz-credential" in fields:
            return _credential_from_scope(fields["x-amz-credential"], "post-form", "", fields.get("x-amz-signature", ""))
        if "awsaccesskeyid" in fields:
            raise SignatureError("InvalidRequest", "Signature Version 2 POST policies are not supported here.")
    return ANONYMOUS


def _credential_from_scope(scope: str, form: str, signed_headers: str, signature: str) -> Credential:
    parts = scope.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureError("IncompleteSignature", f"Malformed credential scope {scope!r}.")
    return Credential(
        access_key_id=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        form=form,
        signed_headers=tuple(h for h in signed_headers.lower().split(";") if h),
        signature=signature.lower(),
    )


@functools.lru_cache(maxsize=4096)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived key changes once a day per credential; caching it saves four HMACs per request."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


_AMZ_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z")


def _parse_amz_date(value: str) -> datetime:
    # What SDKs send (fixed-width ASCII digits) is read directly: datetime.strptime costs ~25 us.
    # strptime reads such a string the same way; anything else, or an impossible date, goes to it.
    fixed = _AMZ_DATE.fullmatch(value)
    if fixed:
        try:
            return datetime(*map(int, fixed.groups()), tzinfo=UTC)
        except ValueError:
            pass
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError("IncompleteSignature", f"X-Amz-Date {value!r} is not in the form YYYYMMDDTHHMMSSZ.") from None


def _header_value(environ: dict, name: str) -> str | None:
    if name == "content-type":
        return environ.get("CONTENT_TYPE")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH")
    return environ.get("HTTP_" + name.upper().replace("-", "_"))


def _canonical_headers(environ: dict, names: tuple[str, ...]) -> str:
    lines = []
    for name in sorted(set(names)):
        value = _header_value(environ, name)
        if value is None:
            raise SignatureError("SignatureDoesNotMatch", f"Signed header {name!r} is missing from the request.")
        lines.append(f"{name}:{' '.join(value.split())}")
    return "\n".join(lines) + "\n"


def _canonical_query_raw(raw_query: str, drop_signature: bool) -> str:
    """botocore's form: split the query as sent, sort, re-join, no re-encoding."""
    pairs = []
    for pair in raw_query.split("&") if raw_query else []:
        key, _, value = pair.partition("=")
        if drop_signature and key == "X-Amz-Signature":
            continue
        pairs.append((key, value))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_query_strict(raw_query: str, drop_signature: bool) -> str:
    """The specification's form (decode, then encode everything but unreserved), for other SDKs."""
    pairs = []
    for pair in raw_query.split("&") if raw_query else []:
        key, _, value = pair.partition("=")
        if drop_signature and key == "X-Amz-Signature":
            continue
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_uri(raw_path: str, service: str) -> str:
    if not raw_path:
        return "/"
    if service == "s3":
        return raw_path  # S3 signs the path as sent: no normalisation, no second encoding
    return quote(normalize_url_path(raw_path), safe="/~")


def verify(
    credential: Credential,
    secret: str,
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    environ: dict,
    body: bytes,
    now: datetime | None = None,
) -> Verified:
    """Raise SignatureError unless the request was signed with `secret` recently enough; else say how
    its payload was declared (a hex digest already checked against `body`, or one of the S3 modes)."""
    now = now or datetime.now(UTC)
    if credential.form == "post-form":
        raise AssertionError("use verify_post_policy for S3 POST forms")

    if credential.form == "presigned":
        params = dict(pair.partition("=")[::2] for pair in raw_query.split("&") if pair)
        amz_date = unquote(params.get("X-Amz-Date", ""))
        signed_at = _parse_amz_date(amz_date)
        try:
            expires = int(params.get("X-Amz-Expires", "0"))
        except ValueError:
            raise SignatureError("AuthorizationQueryParametersError", "X-Amz-Expires must be a number.") from None
        if not 0 < expires <= MAX_PRESIGN_EXPIRES:
            raise SignatureError(
                "AuthorizationQueryParametersError", "X-Amz-Expires must be between 1 and 604800 seconds."
            )
        if signed_at - now > MAX_CLOCK_SKEW:
            raise SignatureError("RequestTimeTooSkewed", "The presigned URL is dated in the future.")
        if now > signed_at + timedelta(seconds=expires):
            raise SignatureError("AccessDenied", "Request has expired")
        drop_signature = True
    else:
        amz_date = environ.get("HTTP_X_AMZ_DATE", "")
        if not amz_date:
            raise SignatureError("IncompleteSignature", "The request must carry an X-Amz-Date header.")
        signed_at = _parse_amz_date(amz_date)
        if abs(now - signed_at) > MAX_CLOCK_SKEW:
            raise SignatureError(
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
        drop_signature = False

    # The payload is bound to the signature through X-Amz-Content-Sha256 only when that header is signed;
    # an unsigned one is ignored (the body's real hash is used). A streamed body's chunks are checked
    # later, chained from this signature (payload.decode_aws_chunked).
    declared = environ.get("HTTP_X_AMZ_CONTENT_SHA256") if "x-amz-content-sha256" in credential.signed_headers else None
    try:
        payload_hash = payload_hash_for_signing(declared, credential.service, credential.form == "presigned", body)
    except Refusal as refusal:
        raise SignatureError(refusal.code, refusal.message, refusal.status) from None

    if amz_date[:8] != credential.date:
        raise SignatureError("SignatureDoesNotMatch", "The credential scope date does not match X-Amz-Date.")
    if "host" not in credential.signed_headers:
        raise SignatureError("SignatureDoesNotMatch", "The Host header must be signed.")
    # As S3 does: every x-amz-* header must be signed, or anyone holding a presigned URL could add
    # x-amz-copy-source or x-amz-acl to it. (An unsigned X-Amz-Content-Sha256 is ignored, see above.)
    unsigned = sorted(
        name for name in (key[5:].replace("_", "-").lower() for key in environ if key.startswith("HTTP_"))
        if name.startswith("x-amz-") and name != "x-amz-content-sha256" and name not in credential.signed_headers
    )
    if unsigned:
        raise SignatureError(
            "AccessDenied", f"There were headers present in the request which were not signed: {', '.join(unsigned)}"
        )

    key = signing_key(secret, credential.date, credential.region, credential.service)
    headers_part = _canonical_headers(environ, credential.signed_headers)
    signed_names = ";".join(sorted(set(credential.signed_headers)))
    uri = _canonical_uri(raw_path, credential.service)
    scope = f"{credential.date}/{credential.region}/{credential.service}/aws4_request"

    tried = set()
    for canonical_query in (
        _canonical_query_raw(raw_query, drop_signature),
        _canonical_query_strict(raw_query, drop_signature),
    ):
        if canonical_query in tried:
            continue
        tried.add(canonical_query)
        canonical_request = "\n".join(
            (method, uri, canonical_query, headers_part, signed_names, payload_hash)
        )
        string_to_sign = "\n".join(
            (ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
        )
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, credential.signature):
            return Verified(payload_hash, SigningContext(credential.signature, amz_date, scope, key))
    raise SignatureError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )


def verify_post_policy(
    credential: Credential, secret: str, fields: dict[str, str], *, bucket: str, file_size: int,
    now: datetime | None = None,
) -> None:
    """S3 browser POST uploads sign the base64 policy document itself with the derived key; the form
    must then meet every condition of that policy (post_policy.check)."""
    import base64
    import json

    lowered = {k.lower(): v for k, v in fields.items()}
    policy = lowered.get("policy", "")
    if not policy:
        raise SignatureError("AccessDenied", "An S3 POST upload needs a signed policy.")
    key = signing_key(secret, credential.date, credential.region, credential.service)
    expected = hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, credential.signature):
        raise SignatureError(
            "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
        )
    try:
        document = json.loads(base64.b64decode(policy))
        expiration = datetime.fromisoformat(document["expiration"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        raise SignatureError("InvalidPolicyDocument", "The POST policy is not valid.") from None
    if (now or datetime.now(UTC)) > expiration:
        raise SignatureError("AccessDenied", "Invalid according to Policy: Policy expired.")
    try:
        post_policy.check(document, fields, bucket=bucket, file_size=file_size)
    except Refusal as refusal:
        raise SignatureError(refusal.code, refusal.message, refusal.status) from None


def verify_sigv2_s3(
    credential: Credential, secret: str, *, method: str, raw_path: str, raw_query: str, environ: dict,
    bucket_from_host: str | None, now: datetime | None = None,
) -> None:
    """S3's HMAC-SHA1 signatures (header `AWS key:sig`, or AWSAccessKeyId/Signature/Expires presigned
    URLs), rebuilt as botocore's HmacV1Auth / HmacV1QueryAuth build them."""
    import base64
    from email.utils import parsedate_to_datetime

    from botocore.auth import HmacV1Auth

    now = now or datetime.now(UTC)
    if credential.form == "sigv2-query":
        params = dict(pair.partition("=")[::2] for pair in raw_query.split("&") if pair)
        try:
            expires = int(params.get("Expires", ""))
        except ValueError:
            raise SignatureError("AccessDenied", "Expires must be a number.") from None
        if now.timestamp() > expires:
            raise SignatureError("AccessDenied", "Request has expired")
        date_line = str(expires)
    else:
        date_line = environ.get("HTTP_DATE", "")
        try:
            signed_at = parsedate_to_datetime(environ.get("HTTP_X_AMZ_DATE") or date_line)
        except (TypeError, ValueError):
            raise SignatureError("AccessDenied", "The request must carry a valid Date header.") from None
        if abs(now - signed_at) > MAX_CLOCK_SKEW:
            raise SignatureError("RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
    custom = sorted(
        (key[5:].lower().replace("_", "-"), value.strip())
        for key, value in environ.items()
        if key.startswith("HTTP_X_AMZ_")
    )
    resource = (f"/{bucket_from_host}" if bucket_from_host else "") + raw_path
    interesting = []
    for pair in raw_query.split("&") if raw_query else []:
        name, has_value, value = pair.partition("=")
        if name in HmacV1Auth.QSAOfInterest:
            interesting.append((name, unquote(value) if has_value else None))
    if interesting:
        interesting.sort(key=lambda item: item[0])
        resource += "?" + "&".join(name if value is None else f"{name}={value}" for name, value in interesting)
    lines = [method, environ.get("HTTP_CONTENT_MD5", ""), environ.get("CONTENT_TYPE", ""), date_line]
    lines += [f"{name}:{value}" for name, value in custom]
    lines.append(resource)
    digest = hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha1).digest()
    expected = base64.b64encode(digest).decode()
    if not hmac.compare_digest(expected, credential.signature):
        raise SignatureError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )
