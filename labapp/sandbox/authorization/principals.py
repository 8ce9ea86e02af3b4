"""The caller behind a moto-issued key, read from moto's IAM and STS state in the request's account.

- an IAM user's access key: the user, its inline and attached policies and its groups' (customer and the
  AWS managed policies the sandbox has), its tags, its permissions boundary (see `iam_patches`);
- STS credentials from AssumeRole* (role chaining included): the role session, the role's policies and
  boundary and tags, the session policies (`Policy` and `PolicyArns`), the session tags, and whether the
  session was obtained with MFA;
- credentials from GetSessionToken / GetFederationToken (issued by `extensions/sts.py`): the IAM user
  (with MFA or not) or the federated user with its session policies.

Built principals are cached per account and key, and the cache of an account is dropped on every IAM write
in it (`invalidate`), so a detached policy stops allowing on the very next call. Policy documents compile
once per content hash in labapp.iam.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote

from labapp.iam import Policy, Principal

_lock = threading.Lock()
_cache: dict[str, dict[str, Resolved]] = {}  # account -> access key -> resolved caller


@dataclass(frozen=True)
class Resolved:
    principal: Principal
    context: dict = field(default_factory=dict)  # condition keys that come with the credentials
    mfa_at: float | None = None  # when the MFA code was given (Unix time): temporary credentials with MFA

    def request_context(self) -> dict:
        """The credentials' condition keys at this moment: aws:MultiFactorAuthAge counts the seconds since
        the MFA authentication (IAM User Guide, "AWS global condition context keys"); absent without MFA."""
        if self.mfa_at is None:
            return self.context
        age = max(0, int(time.time() - self.mfa_at))
        return {**self.context, "aws:MultiFactorAuthAge": str(age)}


def invalidate(account_id: str) -> None:
    with _lock:
        _cache.pop(account_id, None)


def resolve(account_id: str, access_key_id: str) -> Resolved | None:
    """The caller, or None when the key is not one moto issued in this account (then nothing is allowed)."""
    with _lock:
        hit = _cache.get(account_id, {}).get(access_key_id)
    if hit is not None:
        return hit
    found = _build(account_id, access_key_id)
    if found is not None:
        with _lock:
            per_account = _cache.setdefault(account_id, {})
            if len(per_account) > 1000:
                per_account.clear()
            per_account[access_key_id] = found
    return found


def document(text) -> dict | str:
    """A policy document as moto stores it (JSON text, sometimes still URL-encoded), as text the engine
    compiles once per content (labapp.iam.compiler caches by digest: no parsing on the request's path)."""
    if isinstance(text, dict):
        return text
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = (text or "").strip()
    return text if text.startswith("{") else unquote(text)


def _managed_document(policy) -> object:
    for version in getattr(policy, "versions", ()):
        if version.is_default:
            return document(version.document)
    return document(getattr(policy, "document", "") or "{}")


def managed_policy(iam, arn: str) -> Policy | None:
    policy = iam.managed_policies.get(arn) if arn else None
    if policy is None:
        return None
    return Policy(_managed_document(policy), arn)


def _policies_of(owner, label: str) -> list[Policy]:
    found = [Policy(document(doc), f"{label}:{name}") for name, doc in owner.policies.items()]
    found += [Policy(_managed_document(p), arn) for arn, p in owner.managed_policies.items()]
    return found


def _tags(raw) -> dict:
    if isinstance(raw, dict):
        raw = raw.values()
    return {t["Key"]: t["Value"] for t in raw or () if isinstance(t, dict) and "Key" in t}


def _backends(account_id: str):
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    return iam_backends[account_id]["aws"], sts_backends[account_id]["aws"]


def user_principal(iam, user, **extra) -> Principal:
    policies = _policies_of(user, f"user/{user.name}")
    for group in iam.get_groups_for_user(user.name):
        policies += _policies_of(group, f"group/{group.name}")
    boundary_arn = getattr(user, "lab_permissions_boundary_arn", None)
    boundary = managed_policy(iam, boundary_arn) if boundary_arn else None
    if boundary_arn and boundary is None:
        boundary = Policy({"Version": "2012-10-17", "Statement": []}, boundary_arn)  # gone: allows nothing
    tags = _tags(iam.tagger.list_tags_for_resource(user.arn).get("Tags"))
    return Principal.user(
        iam.account_id,
        user.name,
        path=user.path,
        userid=user.id,
        tags=tags,
        identity_policies=policies,
        boundary=boundary,
        **extra,
    )


def role_session_principal(iam, assumed) -> Principal:
    account = iam.account_id
    role_name = assumed.role_arn.split("/")[-1]
    try:
        role = iam.get_role_by_arn(assumed.role_arn)
    except Exception:
        role = None
    if role is None:  # the role was deleted: its sessions keep no permissions
        return Principal.role_session(account, role_name, assumed.session_name, identity_policies=())
    boundary = managed_policy(iam, role.permissions_boundary_arn) if role.permissions_boundary_arn else None
    if role.permissions_boundary_arn and boundary is None:
        boundary = Policy({"Version": "2012-10-17", "Statement": []}, role.permissions_boundary_arn)
    session: list[Policy] = []
    if assumed.policy:
        session.append(Policy(document(assumed.policy), f"session-policy:{assumed.session_name}"))
    for arn in getattr(assumed, "lab_policy_arns", ()):
        session.append(managed_policy(iam, arn) or Policy({"Version": "2012-10-17", "Statement": []}, arn))
    has_session_policies = bool(assumed.policy) or bool(getattr(assumed, "lab_policy_arns", ()))
    tags = {**_tags(role.tags), **getattr(assumed, "lab_session_tags", {})}
    return Principal.role_session(
        account,
        role.name,
        assumed.session_name,
        path=role.path,
        role_id=role.id,
        identity_policies=_policies_of(role, f"role/{role.name}"),
        boundary=boundary,
        session_policies=session if has_session_policies else None,
        tags=tags,
    )


def _build(account_id: str, access_key_id: str) -> Resolved | None:
    from labapp.sandbox.extensions import sts as sts_extension

    iam, sts = _backends(account_id)
    key = iam.access_keys.get(access_key_id)
    if key is None or key.status != "Active":  # deleted or deactivated: the gateway may still cache it
        return None
    assumed = sts.get_assumed_role_from_access_key(access_key_id)
    if assumed is not None:
        mfa = bool(getattr(assumed, "lab_mfa", False))
        return Resolved(
            role_session_principal(iam, assumed), _temporary_context(mfa), _issued_at(key) if mfa else None
        )
    token = sts_extension.session_token(account_id, access_key_id)
    if token is not None:
        found = _from_session_token(iam, token)
        if found is not None and token.mfa and token.federated_name is None:
            found = Resolved(found.principal, found.context, _issued_at(key))
        return found
    user = iam.get_user_from_access_key_id(access_key_id)
    if user is None:
        return None
    # Long-term keys: aws:MultiFactorAuthPresent is absent (IAM User Guide, "AWS global condition keys").
    return Resolved(user_principal(iam, user))


def _issued_at(key) -> float:
    """When temporary credentials were issued, which is when their MFA code was checked."""
    from datetime import UTC

    created = getattr(key, "create_date", None)
    if created is None:
        return time.time()
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created.timestamp()


def _temporary_context(mfa: bool) -> dict:
    return {"aws:MultiFactorAuthPresent": "true" if mfa else "false"}


def _from_session_token(iam, token) -> Resolved | None:
    try:
        user = iam.get_user(token.user_name) if token.user_name else None
    except Exception:
        user = None
    if token.federated_name is not None:
        if user is None:
            return None
        base = user_principal(iam, user)
        session = (
            [Policy(document(token.policy), f"session-policy:{token.federated_name}")] if token.policy else []
        )
        session += [
            managed_policy(iam, arn) or Policy({"Version": "2012-10-17", "Statement": []}, arn)
            for arn in token.policy_arns
        ]
        principal = Principal.federated_user(
            iam.account_id,
            token.federated_name,
            user.name,
            identity_policies=base.identity_policies,
            boundary=base.boundary,
            session_policies=session,
        )
        return Resolved(principal, _temporary_context(False))
    if user is None:
        return None
    return Resolved(user_principal(iam, user), _temporary_context(token.mfa))
