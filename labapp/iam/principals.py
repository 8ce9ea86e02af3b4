"""Principal and NotPrincipal elements of resource-based policies: whom a statement names.

What a Principal value names decides how far a same-account grant reaches ("Policy evaluation logic",
"Permissions boundaries", "Session policies" in the IAM User Guide). `level()` answers with:

- DIRECT: the caller itself - the IAM user's ARN, the role *session* ARN (`arn:aws:sts::A:assumed-role/R/s`),
  the federated-user ARN, a service principal, or everyone (`*`, `{"AWS": "*"}`). Within the account such an
  Allow suffices even with an implicit deny in identity policies, boundaries and session policies.
- IDENTITY: the role the session belongs to (`arn:aws:iam::A:role/R`), or the IAM user who created a
  federated-user session. The grant counts as the role's own permission: a boundary or session policy that
  does not allow still stops it.
- ACCOUNT: the caller's account (`A`, `arn:aws:iam::A:root`). It delegates to the account's identity
  policies: it grants nothing on its own within the account, and satisfies the resource side cross-account.

IAM names in ARNs are matched case-insensitively (IAM stores principals by unique id; names are
case-insensitive); the path of a role or user ARN is ignored. Wildcards other than a whole `*` are not
allowed in Principal, so they match literally.
"""

from __future__ import annotations

import re

from .conditions import PolicyError
from .model import ANONYMOUS, FEDERATED_USER, ROLE_SESSION, ROOT, SERVICE, USER, WEB_IDENTITY

NONE, ACCOUNT, IDENTITY_LEVEL, DIRECT = 0, 1, 2, 3

_ARN = re.compile(r"arn:[^:]+:(iam|sts)::(\d{12}):(.+)", re.DOTALL)


def _key(value: str):
    """A normalised key for one AWS principal value."""
    if re.fullmatch(r"\d{12}", value):
        return ("account", value)
    m = _ARN.fullmatch(value)
    if not m:
        return ("literal", value)
    service, account, rest = m.groups()
    if rest == "root":
        return ("account", account)
    parts = rest.split("/")
    if service == "iam" and parts[0] in ("user", "role") and len(parts) >= 2:
        return (parts[0], account, parts[-1].lower())
    if service == "sts" and parts[0] == "assumed-role" and len(parts) == 3:
        return ("session", account, parts[1].lower(), parts[2])
    if service == "sts" and parts[0] == "federated-user" and len(parts) == 2:
        return ("federated", account, parts[1])
    return ("literal", value)


def caller_keys(principal) -> dict:
    """key -> level for every way a Principal element could name this caller."""
    t, acct = principal.type, principal.account
    if t == SERVICE:
        return {("service", principal.arn.lower()): DIRECT}
    if t == ANONYMOUS:
        return {}
    if t == WEB_IDENTITY:
        return {("literal", principal.arn): DIRECT}
    keys = {("account", acct): ACCOUNT}
    if t == ROOT:
        keys[("account", acct)] = DIRECT
    elif t == USER:
        keys[_key(principal.arn)] = DIRECT
    elif t == ROLE_SESSION:
        keys[_key(principal.role_arn)] = IDENTITY_LEVEL
        keys[_key(principal.arn)] = DIRECT
    elif t == FEDERATED_USER:
        keys[_key(principal.arn)] = DIRECT
        if principal.source_arn:
            keys[_key(principal.source_arn)] = IDENTITY_LEVEL
    keys[("literal", principal.arn)] = DIRECT
    return keys


class PrincipalElement:
    """A compiled Principal / NotPrincipal element."""

    __slots__ = ("everyone", "keys")

    def __init__(self, element):
        self.everyone = False
        self.keys: set = set()
        if element == "*":
            self.everyone = True
            return
        if not isinstance(element, dict):
            raise PolicyError("Principal must be \"*\" or an object")
        for kind, values in element.items():
            for value in values if isinstance(values, list) else [values]:
                value = str(value)
                if kind == "AWS":
                    if value == "*":
                        self.everyone = True
                    else:
                        self.keys.add(_key(value))
                elif kind == "Service":
                    self.keys.add(("service", value.lower()))
                elif kind in ("Federated", "CanonicalUser"):
                    self.keys.add(("literal", value))
                else:
                    raise PolicyError(f"unknown principal type {kind!r}")

    def level(self, caller: dict) -> int:
        """How directly this element names the caller (0: not at all)."""
        if self.everyone:
            return DIRECT
        return max((lvl for key, lvl in caller.items() if key in self.keys), default=NONE)

    def lists_whole_chain(self, caller: dict) -> bool:
        """For NotPrincipal: the caller is exempt only when every identity of its chain (account, role,
        session; account, user) is listed, as the NotPrincipal page's examples require."""
        if self.everyone:
            return True
        chain = [k for k in caller if k[0] != "literal"]
        return bool(chain) and all(k in self.keys for k in chain)
