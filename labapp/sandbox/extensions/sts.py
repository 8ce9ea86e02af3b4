"""STS DecodeAuthorizationMessage, which moto 5.2.5 lacks (it answers NotImplemented, then 500),
GetCallerIdentity for the lab session's own keys (see `SESSION_ROLE`), and temporary credentials that
carry what IAM evaluates: AssumeRole keeps its `PolicyArns`, session tags and MFA; GetSessionToken and
GetFederationToken issue real keys (moto answers AWS's documentation example key, which nothing accepts)
tied to the IAM user who asked, with MFA or not, and (federation) the session policies.

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
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

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
    from moto.core.responses import ActionResult
    from moto.sts.exceptions import STSClientError
    from moto.sts.responses import TokenResponse

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
    _temporary_credentials_that_remember()


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


# --- temporary credentials with what IAM evaluates ---------------------------------------------------

@dataclass
class SessionToken:
    """Credentials from GetSessionToken (federated_name None) or GetFederationToken, issued to an IAM user."""

    access_key_id: str
    user_name: str
    expiration: float  # Unix time
    mfa: bool = False
    federated_name: str | None = None
    policy: str | None = None
    policy_arns: tuple = ()


_tokens: dict[str, dict[str, SessionToken]] = {}  # account -> key id -> token (dropped with the account)


def session_token(account_id: str, access_key_id: str) -> SessionToken | None:
    """The live token of this key in this account, or None (unknown or expired)."""
    token = _tokens.get(account_id, {}).get(access_key_id)
    if token is None or time.time() >= token.expiration:
        return None
    return token


def forget_account(account_id: str) -> None:
    _tokens.pop(account_id, None)


def _arns(value) -> tuple:
    return tuple(item.get("arn") if isinstance(item, dict) else str(item) for item in value or () if item)


def _mfa_given(response, user) -> bool:
    """A SerialNumber of one of the caller's MFA devices with a six-digit TokenCode (no clock to check the
    code against: the lab's MFA devices are virtual)."""
    serial = response._get_param("SerialNumber")
    code = str(response._get_param("TokenCode") or "")
    devices = getattr(user, "mfa_devices", {}) if user is not None else {}
    return bool(serial) and len(code) == 6 and code.isdigit() and (user is None or serial in devices)


def _role_account(role_arn, own_account: str) -> str:
    """The account of a role ARN when it is another account of the caller's lab session, else the caller's
    own (moto then reaches for it unopened, and the account guard refuses it as before)."""
    from labapp.sandbox import account_guard

    parts = str(role_arn or "").split(":")
    account = parts[4] if len(parts) > 5 and parts[2] == "iam" else ""
    return account if account and account_guard.may_reach(account) else own_account


def _temporary_credentials_that_remember() -> None:
    from moto.core.responses import ActionResult
    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSClientError
    from moto.sts.models import STSBackend, sts_backends
    from moto.sts.responses import TokenResponse

    from labapp.sandbox import account_guard
    from labapp.sandbox.authorization import enforce

    original_assume_role = TokenResponse.assume_role

    def assume_role(self):
        # A role of another account of the learner's lab session (a partner account): moto issues the
        # temporary key in the role's account and keeps the session there, as AWS does; the account guard
        # opens that account for this call only, and refuses any account outside the session.
        role_account = _role_account(self._get_param("RoleArn"), self.current_account)
        with account_guard.reaching(role_account):
            result = original_assume_role(self)
            backend = sts_backends[role_account]["aws"]
            role = backend.assumed_roles[-1] if backend.assumed_roles else None
            if role is not None:
                role.lab_policy_arns = _arns(self._get_param("PolicyArns"))
                role.lab_session_tags = {t["Key"]: t["Value"] for t in self._get_param("Tags") or ()
                                         if isinstance(t, dict) and "Key" in t}
                role.lab_mfa = _mfa_given(self, None)
        return result

    def _caller_user(self):
        key = enforce.current_access_key()
        if not key:
            return None, None
        iam = iam_backends[self.current_account]["aws"]
        return iam, iam.get_user_from_access_key_id(key)

    def _issue(self, user, duration: int, **fields) -> tuple[object, float]:
        iam = iam_backends[self.current_account]["aws"]
        key = iam.create_temp_access_key()
        expiration = time.time() + duration
        _tokens.setdefault(self.current_account, {})[key.access_key_id] = SessionToken(
            key.access_key_id, user.name, expiration, **fields)
        return key, expiration

    def _credentials(key, expiration: float) -> dict:
        return {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key,
                "SessionToken": "lab" + secrets.token_urlsafe(96),
                "Expiration": datetime.fromtimestamp(expiration, tz=UTC)}

    original_get_session_token = TokenResponse.get_session_token
    original_get_federation_token = TokenResponse.get_federation_token

    def refuse_session_credentials(operation: str):
        raise STSClientError("AccessDenied", f"Cannot call {operation} with session credentials")

    def get_session_token(self):
        _iam, user = _caller_user(self)
        if user is None and enforce.current_access_key():  # temporary credentials, as on AWS
            refuse_session_credentials("GetSessionToken")
        if user is None:  # the lab session's own keys (the gateway refuses them this call anyway)
            return original_get_session_token(self)
        duration = self._get_int_param("DurationSeconds", 43200)
        key, expiration = _issue(self, user, duration, mfa=_mfa_given(self, user))
        return ActionResult({"Credentials": _credentials(key, expiration)})

    def get_federation_token(self):
        _iam, user = _caller_user(self)
        if user is None and enforce.current_access_key():
            refuse_session_credentials("GetFederationToken")
        if user is None:
            return original_get_federation_token(self)
        name = self._get_param("Name")
        duration = self._get_int_param("DurationSeconds", 43200)
        key, expiration = _issue(self, user, duration, federated_name=name, policy=self._get_param("Policy"),
                                 policy_arns=_arns(self._get_param("PolicyArns")))
        return ActionResult({
            "Credentials": _credentials(key, expiration),
            "FederatedUser": {
                "FederatedUserId": f"{self.current_account}:{name}",
                "Arn": f"arn:{self.partition}:sts::{self.current_account}:federated-user/{name}",
            },
            "PackedPolicySize": 6,
        })

    TokenResponse.assume_role = assume_role
    TokenResponse.get_session_token = get_session_token
    TokenResponse.get_federation_token = get_federation_token

    answer = STSBackend.get_caller_identity

    def get_caller_identity(self, access_key_id: str, region: str) -> tuple[str, str, str]:
        token = session_token(self.account_id, access_key_id)
        if token is not None:
            iam = iam_backends[self.account_id]["aws"]
            try:
                user = iam.get_user(token.user_name)
            except Exception:
                user = None
            if token.federated_name is not None:
                arn = f"arn:aws:sts::{self.account_id}:federated-user/{token.federated_name}"
                return f"{self.account_id}:{token.federated_name}", arn, self.account_id
            if user is not None:
                return user.id, user.arn, self.account_id
        return answer(self, access_key_id, region)

    STSBackend.get_caller_identity = get_caller_identity
