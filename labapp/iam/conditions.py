"""Condition operators, as the IAM User Guide documents them ("IAM JSON policy elements: Condition operators",
"Single-valued vs. multivalued context keys").

Compiled once per statement into `Test`s; `Test.holds(context)` answers for one request. `context` maps
lower-cased keys to a value or a list of values (a multivalued key). The rules:

- Several operators, several keys under one operator: all must hold (AND). Several values for one key: any
  may match (OR); for a negated operator (StringNotEquals, NotIpAddress, ArnNotLike...) none may (NOR).
- A key absent from the request: a positive operator is false, a negated one is true; `...IfExists` is true;
  `ForAllValues:` is true (also for an empty list); `ForAnyValue:` is false. `Null` tests presence itself.
- `ForAllValues:` every request value must satisfy the operator, `ForAnyValue:` at least one.
- Bool compares "true"/"false" case-insensitively, whether written as text or JSON booleans. Arn* compare the
  six colon-separated parts one by one, each with wildcards. Date* take ISO 8601 or epoch seconds.
- Policy variables may appear in values (not in keys); an unresolvable one matches nothing.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
from datetime import date, datetime, timezone

from .matching import Pattern
from .variables import Unresolved, has_variables, parse, substitute


class PolicyError(ValueError):
    """A policy AWS would have refused to store; evaluating it denies."""


def text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _number(value):
    if isinstance(value, bool):
        return None
    try:
        return float(text(value))
    except ValueError:
        return None


def _date(value):
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    number = _number(value)
    if number is not None:
        return datetime.fromtimestamp(number, tz=timezone.utc)
    try:
        parsed = datetime.fromisoformat(text(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _ip(value):
    return _parse_ip(text(value).strip())


@functools.lru_cache(maxsize=4096)  # one caller address is tested against every CIDR of every statement
def _parse_ip(value: str):
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


# --- one policy value, compiled; `matches(actual, context)` is the positive base operator ----------

class _Str:
    __slots__ = ("parts", "static", "fold")

    def __init__(self, value, variables, fold=False):
        self.parts = parse(text(value), variables)
        self.fold = fold
        self.static = None if has_variables(self.parts) else substitute(self.parts, {})
        if fold and self.static is not None:
            self.static = self.static.lower()

    def matches(self, actual, context):
        wanted = self.static
        if wanted is None:
            try:
                wanted = substitute(self.parts, context)
            except Unresolved:
                return False
            wanted = wanted.lower() if self.fold else wanted
        got = text(actual)
        return (got.lower() if self.fold else got) == wanted


class _Like:
    __slots__ = ("pattern",)

    def __init__(self, value, variables):
        self.pattern = Pattern(text(value), variables=variables)

    def matches(self, actual, context):
        return self.pattern.matches(text(actual), context)


class _Arn:
    __slots__ = ("parts",)

    def __init__(self, value, variables):
        pieces = text(value).split(":", 5)
        self.parts = [Pattern(p, variables=variables) for p in pieces] if len(pieces) == 6 else None

    def matches(self, actual, context):
        got = text(actual).split(":", 5)
        if self.parts is None or len(got) != 6:
            return False
        return all(p.matches(g, context) for p, g in zip(self.parts, got))


class _Ordered:
    __slots__ = ("wanted", "parse", "cmp")

    def __init__(self, value, parser, cmp, name):
        self.parse, self.cmp = parser, cmp
        self.wanted = parser(value)
        if self.wanted is None:
            raise PolicyError(f"{name}: {value!r} is not a valid value")

    def matches(self, actual, context):
        got = self.parse(actual)
        return got is not None and self.cmp(got, self.wanted)


class _Bool:
    __slots__ = ("wanted",)

    def __init__(self, value, variables):
        self.wanted = text(value).lower()

    def matches(self, actual, context):
        return text(actual).lower() == self.wanted


class _Binary:
    __slots__ = ("wanted",)

    def __init__(self, value, variables):
        self.wanted = text(value)

    def matches(self, actual, context):
        if isinstance(actual, (bytes, bytearray)):
            actual = base64.b64encode(bytes(actual)).decode()
        return text(actual) == self.wanted


class _Cidr:
    __slots__ = ("network",)

    def __init__(self, value, variables):
        try:
            self.network = ipaddress.ip_network(text(value).strip(), strict=False)
        except ValueError as e:
            raise PolicyError(f"IpAddress: {value!r} is not an address or CIDR block") from e

    def matches(self, actual, context):
        ip = _ip(actual)
        return ip is not None and ip.version == self.network.version and ip in self.network


def _eq(a, b):
    return a == b


_ORDERED = {"Equals": _eq, "LessThan": lambda a, b: a < b, "LessThanEquals": lambda a, b: a <= b,
            "GreaterThan": lambda a, b: a > b, "GreaterThanEquals": lambda a, b: a >= b}

# base operator -> (value factory(value, variables), negated)
_OPERATORS: dict[str, tuple] = {
    "StringEquals": (lambda v, var: _Str(v, var), False),
    "StringNotEquals": (lambda v, var: _Str(v, var), True),
    "StringEqualsIgnoreCase": (lambda v, var: _Str(v, var, fold=True), False),
    "StringNotEqualsIgnoreCase": (lambda v, var: _Str(v, var, fold=True), True),
    "StringLike": (_Like, False),
    "StringNotLike": (_Like, True),
    "Bool": (_Bool, False),
    "BinaryEquals": (_Binary, False),
    "IpAddress": (_Cidr, False),
    "NotIpAddress": (_Cidr, True),
    "ArnEquals": (_Arn, False),
    "ArnLike": (_Arn, False),
    "ArnNotEquals": (_Arn, True),
    "ArnNotLike": (_Arn, True),
}
for _name, _cmp in _ORDERED.items():
    _OPERATORS[f"Numeric{_name}"] = (
        lambda v, var, c=_cmp, n=_name: _Ordered(v, _number, c, f"Numeric{n}"), False)
    _OPERATORS[f"Date{_name}"] = (lambda v, var, c=_cmp, n=_name: _Ordered(v, _date, c, f"Date{n}"), False)
_OPERATORS["NumericNotEquals"] = (lambda v, var: _Ordered(v, _number, _eq, "NumericNotEquals"), True)
_OPERATORS["DateNotEquals"] = (lambda v, var: _Ordered(v, _date, _eq, "DateNotEquals"), True)
_BY_LOWER = {name.lower(): (name, spec) for name, spec in _OPERATORS.items()}

ALL, ANY = "ForAllValues", "ForAnyValue"


def _values(raw) -> list:
    return list(raw) if isinstance(raw, (list, tuple)) else [raw]


class Test:
    """One (operator, key, values) of a Condition block."""

    __slots__ = ("operator", "key", "written_key", "values", "negated", "if_exists", "qualifier", "null")

    def __init__(self, operator: str, key: str, raw_values, variables: bool):
        self.operator, self.key, self.written_key = operator, str(key).lower(), str(key)
        name = operator
        self.qualifier = None
        if ":" in name:
            prefix, name = name.split(":", 1)
            self.qualifier = {"forallvalues": ALL, "foranyvalue": ANY}.get(prefix.lower())
            if self.qualifier is None:
                raise PolicyError(f"unknown set operator {prefix!r}")
        self.if_exists = name.lower().endswith("ifexists")
        if self.if_exists:
            name = name[: -len("IfExists")]
        values = _values(raw_values)
        if not values:
            raise PolicyError(f"{operator}: no values for {key}")
        self.null = name.lower() == "null"
        if self.null:
            if self.if_exists:
                raise PolicyError("Null has no IfExists form")
            self.values = [text(v).lower() == "true" for v in values]
            self.negated = False
            return
        known = _BY_LOWER.get(name.lower())
        if known is None:
            raise PolicyError(f"unknown condition operator {operator!r}")
        factory, self.negated = known[1]
        self.values = [factory(v, variables) for v in values]

    def holds(self, context) -> bool:
        actual = context.get(self.key)
        present = actual is not None and actual != [] and actual != ()
        if self.null:
            return any(want_absent is not present for want_absent in self.values)
        if not present:
            if self.if_exists or self.qualifier == ALL:
                return True
            if self.qualifier == ANY:
                return False
            return self.negated
        many = actual if isinstance(actual, (list, tuple, set, frozenset)) else (actual,)
        if self.qualifier is None:
            hit = any(v.matches(a, context) for a in many for v in self.values)
            return hit is not self.negated
        per_value = [any(v.matches(a, context) for v in self.values) is not self.negated for a in many]
        return all(per_value) if self.qualifier == ALL else any(per_value)


def compile_conditions(block, variables: bool) -> tuple[Test, ...]:
    if block is None:
        return ()
    if not isinstance(block, dict):
        raise PolicyError("Condition must be an object")
    tests = []
    for operator, keys in block.items():
        if not isinstance(keys, dict):
            raise PolicyError(f"{operator} must map condition keys to values")
        tests += [Test(str(operator), key, values, variables) for key, values in keys.items()]
    return tuple(tests)
