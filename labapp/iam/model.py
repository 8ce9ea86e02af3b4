"""The engine's inputs and output: Policy, Principal, Request, Decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

USER, ROLE_SESSION, FEDERATED_USER, ROOT, ANONYMOUS, SERVICE, WEB_IDENTITY = (
    "user", "assumed-role", "federated-user", "root", "anonymous", "service", "web-identity")

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "allow", "explicit-deny", "implicit-deny"
# policy types, worded as AWS's messages word them
IDENTITY, RESOURCE, BOUNDARY, SESSION = "identity-based policy", "resource-based policy", \
    "permissions boundary", "session policy"


@dataclass(frozen=True, eq=False)
class Policy:
    """A policy document (dict, JSON text or bytes) and how the journal names it: a managed policy's ARN,
    `user/bob:inline-name`, `bucket-policy:b`... Compiled on first use and cached by document hash."""

    document: object
    id: str = "policy"

    @cached_property
    def compiled(self):
        from .compiler import compile_policy
        return compile_policy(self.document, self.id)


def as_policy(value, default_id: str) -> Policy:
    return value if isinstance(value, Policy) else Policy(value, default_id)


def _policies(values, prefix: str) -> tuple[Policy, ...]:
    if values is None:
        return ()
    if isinstance(values, (Policy, dict, str, bytes)):
        values = [values]
    return tuple(as_policy(v, f"{prefix}-{i}") for i, v in enumerate(values))


@dataclass(frozen=True, eq=False)
class Principal:
    """Who calls.

    arn: as AWS reports the caller: `arn:aws:iam::A:user/path/bob`, `arn:aws:sts::A:assumed-role/R/session`,
    `arn:aws:sts::A:federated-user/name`, `arn:aws:iam::A:root`; "anonymous"; or a service principal name.
    identity_policies: every policy that applies to the identity (the user's inline and managed policies and
    those of its groups; the role's). boundary: the permissions boundary, if any. session_policies: None when
    the session was created without any (AssumeRole without Policy/PolicyArns); otherwise the inline session
    policy and the managed ones (PolicyArns) - they only ever narrow. A federated user (GetFederationToken)
    always has session policies (none passed means no permissions).
    role_arn: for a role session, the role's ARN with its path (aws:PrincipalArn); derived (path `/`) if
    omitted. source_arn: for a federated user, the IAM user that called GetFederationToken.
    """

    arn: str
    type: str
    account: str = ""
    userid: str = ""
    tags: dict = field(default_factory=dict)
    identity_policies: tuple = ()
    boundary: Policy | None = None
    session_policies: tuple | None = None
    role_arn: str = ""
    source_arn: str = ""

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "identity_policies", _policies(self.identity_policies, "identity"))
        if self.boundary is not None:
            set_(self, "boundary", as_policy(self.boundary, "permissions-boundary"))
        if self.session_policies is not None:
            set_(self, "session_policies", _policies(self.session_policies, "session-policy"))
        elif self.type == FEDERATED_USER:
            set_(self, "session_policies", ())
        if self.type == ROLE_SESSION and not self.role_arn:
            parts = self.arn.split(":", 5)[-1].split("/")
            set_(self, "role_arn", f"arn:aws:iam::{self.account}:role/{parts[1]}")

    # --- constructors for the common shapes ---

    @classmethod
    def user(cls, account: str, name: str, *, path: str = "/", userid: str = "", **kw) -> "Principal":
        return cls(f"arn:aws:iam::{account}:user{path}{name}", USER, account, userid or f"AIDA{name.upper()}",
                   **kw)

    @classmethod
    def role_session(cls, account: str, role: str, session: str, *, path: str = "/", role_id: str = "",
                     **kw) -> "Principal":
        return cls(f"arn:aws:sts::{account}:assumed-role/{role}/{session}", ROLE_SESSION, account,
                   f"{role_id or 'AROA' + role.upper()}:{session}",
                   role_arn=f"arn:aws:iam::{account}:role{path}{role}", **kw)

    @classmethod
    def federated_user(cls, account: str, name: str, source_user: str, **kw) -> "Principal":
        return cls(f"arn:aws:sts::{account}:federated-user/{name}", FEDERATED_USER, account,
                   f"{account}:{name}", source_arn=f"arn:aws:iam::{account}:user/{source_user}", **kw)

    @classmethod
    def root(cls, account: str, **kw) -> "Principal":
        return cls(f"arn:aws:iam::{account}:root", ROOT, account, account, **kw)

    @classmethod
    def anonymous(cls) -> "Principal":
        return cls(ANONYMOUS, ANONYMOUS)

    @classmethod
    def service(cls, name: str) -> "Principal":
        return cls(name, SERVICE)

    @classmethod
    def web_identity(cls, provider: str) -> "Principal":
        """The caller of AssumeRoleWithWebIdentity / WithSAML: an identity provider (`cognito-identity.
        amazonaws.com`, an OIDC provider ARN); only a trust policy naming it as `Federated` lets it in."""
        return cls(provider, WEB_IDENTITY)

    # --- what policies see of it ---

    @cached_property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1] if "/" in self.arn else self.arn

    @cached_property
    def context_keys(self) -> dict:
        """The global condition keys AWS derives from the caller (lower-cased names)."""
        if self.type in (ANONYMOUS, SERVICE, WEB_IDENTITY):
            return {"aws:principalisawsservice": "true" if self.type == SERVICE else "false",
                    **({"aws:principalservicename": self.arn} if self.type == SERVICE else {})}
        arn = {ROLE_SESSION: self.role_arn, FEDERATED_USER: self.arn}.get(self.type, self.arn)
        kind = {USER: "User", ROLE_SESSION: "AssumedRole", FEDERATED_USER: "FederatedUser",
                ROOT: "Account"}[self.type]
        keys = {"aws:principalarn": arn, "aws:principalaccount": self.account, "aws:principaltype": kind,
                "aws:userid": self.userid or self.account, "aws:principalisawsservice": "false"}
        if self.type == USER:
            keys["aws:username"] = self.name
        for k, v in self.tags.items():
            keys[f"aws:principaltag/{k}".lower()] = v
        return keys


@dataclass(frozen=True, eq=False)
class Resource:
    """A resource of the request: its ARN, the account owning it (S3 ARNs name none), its resource-based
    policy, and whether that policy must allow (role trust policies, KMS key policies)."""

    arn: str = "*"
    account: str = ""
    policy: Policy | None = None
    policy_required: bool = False

    def __post_init__(self):
        if self.policy is not None:
            object.__setattr__(self, "policy", as_policy(self.policy, "resource-policy"))
        if not self.account and self.arn.startswith("arn:"):
            parts = self.arn.split(":", 5)
            if len(parts) == 6:
                object.__setattr__(self, "account", parts[4])


@dataclass(frozen=True, eq=False)
class Request:
    """An action on one or more resources (ARNs or Resource), with the request's condition keys."""

    action: str
    resources: tuple = ("*",)
    context: dict = field(default_factory=dict)

    def __post_init__(self):
        res = self.resources
        if isinstance(res, (str, Resource)):
            res = (res,)
        object.__setattr__(self, "resources",
                           tuple(r if isinstance(r, Resource) else Resource(str(r)) for r in res))


@dataclass(frozen=True)
class Match:
    """A statement that applied to the request: which policy, which statement (Sid and position)."""

    policy_id: str
    policy_type: str
    sid: str
    index: int
    effect: str

    def label(self) -> str:
        return f"{self.policy_id} statement {self.sid or '#' + str(self.index)} ({self.effect})"


@dataclass(frozen=True)
class Decision:
    """allowed; effect (ALLOW, EXPLICIT_DENY, IMPLICIT_DENY); policy_type: which kind of policy denied, or
    granted (IDENTITY / RESOURCE, or "root"); message: AWS's wording; matched: the statements that applied."""

    allowed: bool
    effect: str
    policy_type: str | None
    message: str
    action: str
    resource: str
    principal_arn: str
    matched: tuple = ()
    error: str | None = None
    context: dict = field(default_factory=dict, repr=False, compare=False)  # the keys it was decided on
    principal_id: str = ""

    @property
    def reason_kind(self) -> str:
        """`allow`, `explicit-deny:identity`, `implicit-deny:boundary`, `error`... (tests, journal)."""
        if self.error:
            return "error"
        if self.allowed:
            return ALLOW
        short = {IDENTITY: "identity", RESOURCE: "resource", BOUNDARY: "boundary", SESSION: "session"}
        return f"{self.effect}:{short.get(self.policy_type, self.policy_type)}"

    def __bool__(self):
        return self.allowed
