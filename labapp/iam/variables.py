"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, the `${*}` `${?}` `${$}` escapes.

A text with variables is parsed once into parts (`Template`); a request then resolves it. Only policies with
`"Version": "2012-10-17"` have variables: in older (or version-less) policies `${aws:username}` is literal
text, as the IAM User Guide says ("IAM JSON policy elements: Version").

A variable whose key is absent from the request (or is multivalued: AWS does not substitute lists) has no
value: the part it sits in then matches nothing, unless the variable gives a default (`${key, 'text'}`;
`''` inside the quotes is one quote). Substitution happens once: a value that itself looks like `${...}` stays
text. Keys are case-insensitive, defaults are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VARIABLE = re.compile(r"\$\{\s*([^},'\s]+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class Unresolved(Exception):
    """A variable with no value and no default: the element it is in cannot match."""


@dataclass(frozen=True, slots=True)
class Literal:
    text: str          # policy text, wildcards (`*`, `?`) still meaningful


@dataclass(frozen=True, slots=True)
class Escaped:
    char: str          # `${*}` etc.: a character that is never a wildcard


@dataclass(frozen=True, slots=True)
class Variable:
    key: str           # lower-cased context key
    default: str | None


Part = Literal | Escaped | Variable


def parse(text: str, variables: bool = True) -> tuple[Part, ...]:
    """The parts of a policy string. Without `variables` (old policy versions) it is one literal."""
    if not variables or "${" not in text:
        return (Literal(text),)
    parts: list[Part] = []
    pos = 0
    for m in _VARIABLE.finditer(text):
        if m.start() > pos:
            parts.append(Literal(text[pos:m.start()]))
        key, default = m.group(1), m.group(2)
        if key in _ESCAPES and default is None:
            parts.append(Escaped(_ESCAPES[key]))
        else:
            parts.append(Variable(key.lower(), None if default is None else default.replace("''", "'")))
        pos = m.end()
    if pos < len(text):
        parts.append(Literal(text[pos:]))
    return tuple(parts)


def has_variables(parts: tuple[Part, ...]) -> bool:
    return any(not isinstance(p, Literal) for p in parts)


def value_of(variable: Variable, context) -> str:
    """The text a variable stands for in this request, or Unresolved."""
    value = context.get(variable.key)
    if isinstance(value, (list, tuple, set, frozenset)):
        value = None  # multivalued keys are not substituted
    if value is None:
        if variable.default is None:
            raise Unresolved(variable.key)
        return variable.default
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def substitute(parts: tuple[Part, ...], context) -> str:
    """Plain text (for exact comparisons): escapes become their character, variables their value."""
    out = []
    for p in parts:
        if isinstance(p, Literal):
            out.append(p.text)
        elif isinstance(p, Escaped):
            out.append(p.char)
        else:
            out.append(value_of(p, context))
    return "".join(out)
