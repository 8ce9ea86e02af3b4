"""STS DecodeAuthorizationMessage, which moto 5.2.5 lacks (it answers NotImplemented, then 500), and
GetCallerIdentity for the lab session's own keys (see `SESSION_ROLE`).

On AWS some services (EC2 above all) answer a refused request with an *encoded authorization failure
message*: an opaque blob only the same account can turn back into JSON with
`sts:DecodeAuthorizationMessage`. The emulator produces such messages itself (see `encode()`; the S3
extension uses it when a bucket policy's explicit Deny refuses an object request), and this operation
decodes them.

Message format (ours, opaque to callers, like AWS's): "lab1." + base64url(zlib(JSON)) + "." + HMAC.
The JSON carries the account it was issued to; another account gets InvalidAuthorizationMessageException,
as it would on AWS. The HMAC key lives only in the emulator process, so a forged or edited message is
refused too (messages do not survive an emulator restart, which labs never need).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import zlib

PREFIX = "lab1."
_SECRET = secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(body: str) -> str:
    return _b64(hmac.new(_SECRET, body.encode(), hashlib.sha256).digest()[:18])


def encode(account_id: str, decoded: dict) -> str:
    """An encoded authorization message for `account_id` whose decoded form is `decoded` (the JSON
    document AWS documents: allowed, explicitDeny, matchedStatements, failures, context)."""
    body = _b64(zlib.compress(json.dumps({"account": account_id, "message": decoded}).encode()))
    return f"{PREFIX}{body}.{_mac(body)}"


def decode(account_id: str, encoded: str) -> dict | None:
    """The decoded document, or None when the message is not one this account may decode."""
    encoded = (encoded or "").strip()
    if not encoded.startswith(PREFIX):
        return None
    try:
        body, mac = encoded[len(PREFIX):].rsplit(".", 1)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(body)):
        return None
    try:
        document = json.loads(zlib.decompress(_unb64(body)))
    except (ValueError, zlib.error):
        return None
    if document.get("account") != account_id:
        return None
    return document.get("message")


def denial_context(*, account_id: str, principal_arn: str, action: str, resource: str,
                   explicit_deny: bool, statements: list[dict] | None = None,
                   conditions: dict | None = None) -> dict:
    """The decoded document for a refused request, shaped like AWS's."""
    return {
        "allowed": False,
        "explicitDeny": bool(explicit_deny),
        "matchedStatements": {"items": statements or []},
        "failures": {"items": []},
        "context": {
            "principal": {"id": principal_arn.rsplit(":", 1)[-1], "arn": principal_arn},
            "action": action,
            "resource": resource,
            "conditions": {"items": [{"key": k, "values": {"items": [{"value": str(v)}]}}
                                     for k, v in (conditions or {}).items()]},
        },
    }


def apply() -> None:
    from moto.sts.exceptions import STSClientError
    from moto.sts.responses import TokenResponse
    from moto.core.responses import ActionResult

    class InvalidAuthorizationMessage(STSClientError):
        def __init__(self) -> None:
            super().__init__(
                "InvalidAuthorizationMessageException",
                "The error message provided is not a valid encoded authorization message for this account.",
            )

    def decode_authorization_message(self) -> ActionResult:
        encoded = self._get_param("EncodedMessage") or ""
        decoded = decode(self.current_account, encoded)
        if decoded is None:
            raise InvalidAuthorizationMessage()
        return ActionResult({"DecodedMessage": json.dumps(decoded)})

    TokenResponse.decode_authorization_message = decode_authorization_message
    _answer_for_session_keys()


# The lab session's own keys are not moto's: the gateway verifies them and forwards only verified requests,
# so a key moto does not know *is* the session's. moto would answer `user/moto` with AWS's documentation
# key as UserId; AWS-run labs sign learners in as a session of an administrator role, and so do we (the
# role is not listed in the sandbox's IAM: it is the platform's way in, not part of the learner's work).
SESSION_ROLE = "LabAdministrator"
SESSION_NAME = "learner"


def session_identity(account_id: str, partition: str = "aws") -> tuple[str, str, str]:
    """(UserId, Arn, Account) of the lab session's own keys in `account_id`."""
    digest = hashlib.sha256(f"lab-session-role:{account_id}".encode()).digest()
    role_id = "AROA" + base64.b32encode(digest).decode()[:17]
    arn = f"arn:{partition}:sts::{account_id}:assumed-role/{SESSION_ROLE}/{SESSION_NAME}"
    return f"{role_id}:{SESSION_NAME}", arn, account_id


def _answer_for_session_keys() -> None:
    from moto.sts.models import STSBackend
    from moto.utilities.utils import get_partition

    original = STSBackend.get_caller_identity

    def get_caller_identity(self, access_key_id: str, region: str) -> tuple[str, str, str]:
        user_id, arn, account = original(self, access_key_id, region)
        if arn.endswith(":user/moto"):  # moto's default: a key it did not issue
            return session_identity(self.account_id, get_partition(region))
        return user_id, arn, account

    STSBackend.get_caller_identity = get_caller_identity
