"""A small IAM policy evaluator for graders.

A check that wants to know what a policy document *does* (not how it is written) asks this module, one
document set at a time; enforcement in the sandbox uses the full engine in labapp/iam/ (identity, boundary,
session and resource policies together), which the `iam.access` check asks. This module answers one request
at a time:

    evaluate(policy_documents, action, resource, principal=None, context=None) -> "allow" | "deny" | "implicit-deny"

- `policy_documents`: one policy or a list of them; each a dict, JSON text or bytes (several documents are
  evaluated together, as AWS does for all the policies that apply to one request). Unparseable documents and
  statements that are not objects are ignored.
- `action`: e.g. "s3:GetObject". Matched against Action/NotAction case-insensitively, with `*` and `?`.
- `resource`: an ARN, e.g. "arn:aws:s3:::bucket/key". Matched against Resource/NotResource case-sensitively
  with `*` and `?`, after substituting policy variables (`${aws:username}`, ...) from `context`. `None` means
  "no resource" (trust policies): the Resource element is then ignored. A statement with neither Resource nor
  NotResource (a trust policy's) matches any resource.
- `principal`: who is calling. `None` ignores Principal/NotPrincipal (identity policies). Otherwise one of:
  an IAM ARN (`arn:aws:iam::123456789012:role/name`, `...:user/name`, `...:root`, or a session
  `arn:aws:sts::123456789012:assumed-role/name/session`), a bare account id, a service principal
  (`cloudfront.amazonaws.com`), or "anonymous" for an unsigned request. A statement's Principal matches it when:
    * it is "*" or {"AWS": "*"}: everyone, anonymous callers and services included;
    * it names the account (`123456789012` or `arn:aws:iam::123456789012:root`): every identity of that account
      (for a Deny this is exactly AWS; for an Allow, AWS also needs the identity's own policy: a grader that
      cares should probe another identity of the account, which an account principal also matches);
    * it names the role (or the session itself) the caller's session belongs to, or the same user; IAM names
      are compared case-insensitively, as IAM treats them;
    * it names the same service principal (case-insensitively), federated provider or canonical user.
  When the caller is an IAM ARN, `aws:PrincipalArn` and `aws:PrincipalAccount` are added to the context unless
  given.
- `context`: condition keys of the request, e.g. {"aws:SecureTransport": "true", "aws:SourceArn": "arn:..."}.
  Keys are case-insensitive; a value may be a list (multi-valued key). Supported operators: String*
  (Equals, NotEquals, EqualsIgnoreCase, NotEqualsIgnoreCase, Like, NotLike), Numeric*, Date*, Bool,
  BinaryEquals, IpAddress/NotIpAddress, Arn* (Equals, Like, NotEquals, NotLike; component-wise), Null, each with
  `...IfExists` and the `ForAnyValue:`/`ForAllValues:` set qualifiers. A missing key makes a positive operator
  false and a negated one true (as AWS documents). An operator this module does not know makes its statement
  not apply.

Decision, as AWS makes it within these documents: any applicable Deny -> "deny"; otherwise any applicable Allow ->
"allow"; otherwise "implicit-deny". (Permission boundaries, SCPs and session policies are out of scope.)

`applicable_statements(...)` returns the statements that apply to a request (same arguments), and with
`conditions=False` those that would apply if every condition held: a check can tell the learner "your Deny only
applies when aws:SecureTransport is false".
"""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import datetime, timezone
from functools import lru_cache

ALLOW = "allow"
DENY = "deny"
IMPLICIT_DENY = "implicit-deny"
ANONYMOUS = "anonymous"

__all__ = ["ALLOW", "ANONYMOUS", "DENY", "IMPLICIT_DENY", "applicable_statements", "evaluate", "statements",
           "wildcard_match"]


# --- documents ------------------------------------------------------------------------------------

def _listify(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def statements(policy_documents) -> list[dict]:
    """Every statement (a dict) of one policy document or a list of them (dicts, JSON text or bytes)."""
    docs = policy_documents if isinstance(policy_documents, (list, tuple)) else [policy_documents]
    out: list[dict] = []
    for doc in docs:
        if isinstance(doc, bytes):
            doc = doc.decode("utf-8", "replace")
        if isinstance(doc, str):
            try:
                doc = json.loads(doc)
            except ValueError:
                continue
        if isinstance(doc, dict):
            out += [s for s in _listify(doc.get("Statement")) if isinstance(s, dict)]
    return out


# --- wildcards ------------------------------------------------------------------------------------

@lru_cache(maxsize=2048)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def wildcard_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcard matching: `*` any run of characters (also `/` and `:`), `?` one character."""
    return _wildcard_regex(str(pattern), ignore_case).fullmatch(str(value)) is not None


# --- principals -----------------------------------------------------------------------------------

_IAM_ARN = re.compile(r"arn:[^:]+:(iam|sts)::(\d{12}):(.+)")


class _Caller:
    """The calling principal, parsed once.

    kind: "AWS" (an IAM identity or account), "Service", "anonymous" or "Other" (federated, canonical user).
    iam_arn: for an IAM identity, the user/role/root ARN policies name it by (a session's role, not the session).
    """

    def __init__(self, principal: str):
        self.raw = str(principal)
        self.kind = "Other"
        self.account = ""
        self.iam_arn = ""
        if self.raw.lower() in (ANONYMOUS, "*"):
            self.kind = ANONYMOUS
        elif re.fullmatch(r"\d{12}", self.raw):
            self.kind, self.account = "AWS", self.raw
            self.iam_arn = f"arn:aws:iam::{self.raw}:root"
        elif m := _IAM_ARN.fullmatch(self.raw):
            service, self.account, rest = m.groups()
            self.kind = "AWS"
            self.iam_arn = self.raw
            if service == "sts" and rest.startswith("assumed-role/"):
                self.iam_arn = f"arn:aws:iam::{self.account}:role/{rest.split('/')[1]}"
        elif self.raw.endswith((".amazonaws.com", ".amazonaws.com.cn")):
            self.kind = "Service"


def _iam_name_key(arn: str) -> tuple[str, str, str] | None:
    """(account, type, name) of an IAM role/user ARN, ignoring its path: `role/a/b/name` names role `name`."""
    m = _IAM_ARN.fullmatch(arn)
    if not m or m.group(1) != "iam":
        return None
    parts = m.group(3).split("/")
    if parts[0] not in ("role", "user") or len(parts) < 2:
        return None
    return m.group(2), parts[0], parts[-1].lower()


def _names_caller(value: str, caller: _Caller) -> bool:
    """Whether one value of a Principal's AWS list names the caller."""
    value = str(value)
    if value == "*":
        return True
    if caller.kind != "AWS":
        return False
    account = re.fullmatch(r"(\d{12})|arn:[^:]+:iam::(\d{12}):root", value)
    if account:  # an account principal: every identity of that account
        return (account.group(1) or account.group(2)) == caller.account
    if value.lower() == caller.raw.lower():  # e.g. the very session ARN
        return True
    wanted = _iam_name_key(value)
    return wanted is not None and wanted == _iam_name_key(caller.iam_arn)


def _principal_matches(element, caller: _Caller) -> bool:
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    for kind, values in element.items():
        for value in _listify(values):
            if kind == "AWS" and _names_caller(value, caller):
                return True
            if kind == "Service" and caller.kind == "Service" and str(value).lower() == caller.raw.lower():
                return True
            if kind in ("Federated", "CanonicalUser") and caller.kind == "Other" and str(value) == caller.raw:
                return True
    return False


# --- conditions -----------------------------------------------------------------------------------

def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _arn_match(pattern: str, value: str) -> bool:
    """Arn* operators: each of the six colon-separated parts is matched on its own."""
    p, v = str(pattern).split(":", 5), str(value).split(":", 5)
    return len(p) == 6 and len(v) == 6 and all(wildcard_match(a, b) for a, b in zip(p, v))


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _date(value) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = _text(value)
    number = _number(text)
    if number is not None:
        return datetime.fromtimestamp(number, tz=timezone.utc)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _ip(value, network) -> bool:
    try:
        return ipaddress.ip_address(_text(value)) in ipaddress.ip_network(_text(network), strict=False)
    except ValueError:
        return False


def _compare(op: str, actual, wanted) -> bool | None:
    """One context value against one policy value with a positive base operator; None if unknown."""
    if op == "StringEquals":
        return _text(actual) == _text(wanted)
    if op == "StringEqualsIgnoreCase":
        return _text(actual).lower() == _text(wanted).lower()
    if op == "StringLike":
        return wildcard_match(_text(wanted), _text(actual))
    if op in ("ArnEquals", "ArnLike"):
        return _arn_match(_text(wanted), _text(actual))
    if op == "Bool":
        return _text(actual).lower() == _text(wanted).lower()
    if op == "BinaryEquals":
        return _text(actual) == _text(wanted)
    if op == "IpAddress":
        return _ip(actual, wanted)
    if op.startswith("Numeric"):
        a, w = _number(actual), _number(wanted)
        if a is None or w is None:
            return False
        return {"NumericEquals": a == w, "NumericLessThan": a < w, "NumericLessThanEquals": a <= w,
                "NumericGreaterThan": a > w, "NumericGreaterThanEquals": a >= w}.get(op)
    if op.startswith("Date"):
        a, w = _date(actual), _date(wanted)
        if a is None or w is None:
            return False
        return {"DateEquals": a == w, "DateLessThan": a < w, "DateLessThanEquals": a <= w,
                "DateGreaterThan": a > w, "DateGreaterThanEquals": a >= w}.get(op)
    return None


# A negated operator is the positive one, inverted: true when the value matches none of the policy's values.
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
            "NumericNotEquals": "NumericEquals", "DateNotEquals": "DateEquals", "NotIpAddress": "IpAddress"}


class _Unknown(Exception):
    pass


def _one_value_matches(base: str, negated: bool, actual, wanted_values: list) -> bool:
    results = [_compare(base, actual, w) for w in wanted_values]
    if any(r is None for r in results):
        raise _Unknown(base)
    hit = any(results)
    return not hit if negated else hit


def _condition_holds(operator: str, key: str, wanted, context: dict) -> bool:
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    present = key.lower() in context
    actual_values = _listify(context.get(key.lower()))
    wanted_values = _listify(wanted)
    if operator == "Null":
        # {"Null": {"key": "true"}}: the key is absent.
        want_absent = _text(wanted_values[0] if wanted_values else "").lower() == "true"
        return (not present) == want_absent
    negated = operator in _NEGATED
    base = _NEGATED.get(operator, operator)
    if not present or (not actual_values and qualifier != "ForAllValues"):
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True  # AWS: ForAllValues is true when the key is missing or empty
        if _compare(base, "", "") is None:
            raise _Unknown(base)
        return negated
    if qualifier.lower() == "forallvalues":
        return all(_one_value_matches(base, negated, a, wanted_values) for a in actual_values)
    # ForAnyValue, and single-valued keys (a list given for one is treated as "any of").
    return any(_one_value_matches(base, negated, a, wanted_values) for a in actual_values)


def _conditions_hold(condition, context: dict) -> bool:
    if not condition:
        return True
    if not isinstance(condition, dict):
        return False
    try:
        for operator, block in condition.items():
            if not isinstance(block, dict):
                return False
            for key, wanted in block.items():
                if not _condition_holds(str(operator), str(key), wanted, context):
                    return False
    except _Unknown:
        return False
    return True


# --- statements -----------------------------------------------------------------------------------

_RESOURCE_TOKEN = re.compile(r"\$\{([^}]*)\}|\*|\?|[^$*?]+|\$")


def _resource_regex(pattern: str, context: dict) -> re.Pattern | None:
    """A Resource pattern as a regex, its policy variables (`${aws:username}`, `${key, 'default'}`) taken from
    the context; ${*}, ${?} and ${$} stand for the literal characters. None when a variable cannot be
    resolved: the statement then does not apply to that resource, as in AWS."""
    parts = []
    for m in _RESOURCE_TOKEN.finditer(pattern):
        token, variable = m.group(0), m.group(1)
        if variable is not None:
            if variable in ("*", "?", "$"):
                parts.append(re.escape(variable))
                continue
            name, _, default = variable.partition(",")
            value = context.get(name.strip().lower())
            if value is None:
                default = default.strip().strip("'\"")
                if not default:
                    return None
                value = default
            parts.append(re.escape(_text(_listify(value)[0])))
        elif token == "*":
            parts.append(".*")
        elif token == "?":
            parts.append(".")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts), re.DOTALL)


def _resource_matches(patterns: list, resource: str, context: dict) -> bool:
    for pattern in patterns:
        regex = _resource_regex(str(pattern), context)
        if regex is not None and regex.fullmatch(resource):
            return True
    return False


def _statement_applies(st: dict, action: str, resource: str | None, caller: _Caller | None, context: dict,
                       conditions: bool) -> bool:
    if "Action" in st:
        if not any(wildcard_match(a, action, ignore_case=True) for a in _listify(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(wildcard_match(a, action, ignore_case=True) for a in _listify(st["NotAction"])):
            return False
    else:
        return False
    if resource is not None:
        if "Resource" in st:
            if not _resource_matches(_listify(st["Resource"]), resource, context):
                return False
        elif "NotResource" in st:
            if _resource_matches(_listify(st["NotResource"]), resource, context):
                return False
    if caller is not None:
        if "Principal" in st:
            if not _principal_matches(st["Principal"], caller):
                return False
        elif "NotPrincipal" in st:
            if _principal_matches(st["NotPrincipal"], caller):
                return False
    if conditions and not _conditions_hold(st.get("Condition"), context):
        return False
    return True


def _context(context: dict | None, caller: _Caller | None) -> dict:
    out = {str(k).lower(): v for k, v in (context or {}).items()}
    if caller is not None and caller.kind == "AWS":
        out.setdefault("aws:principalarn", caller.iam_arn)
        out.setdefault("aws:principalaccount", caller.account)
    return out


def applicable_statements(policy_documents, action: str, resource: str | None, principal: str | None = None,
                          context: dict | None = None, *, conditions: bool = True) -> list[dict]:
    """The statements that apply to this request (see the module docstring); `conditions=False` ignores
    every Condition (what would apply if all conditions held)."""
    caller = _Caller(principal) if principal is not None else None
    ctx = _context(context, caller)
    return [st for st in statements(policy_documents)
            if _statement_applies(st, action, resource, caller, ctx, conditions)]


def evaluate(policy_documents, action: str, resource: str | None, principal: str | None = None,
             context: dict | None = None) -> str:
    """"allow", "deny" (an explicit Deny applies) or "implicit-deny" (nothing allows it)."""
    effects = {str(st.get("Effect", "")).lower()
               for st in applicable_statements(policy_documents, action, resource, principal, context)}
    if "deny" in effects:
        return DENY
    if "allow" in effects:
        return ALLOW
    return IMPLICIT_DENY
