"""Wildcard patterns of policies: actions, resources (ARNs), StringLike/ArnLike values.

`*` is any run of characters and `?` one character. In ARNs (Resource, NotResource, Arn* operators) the IAM
User Guide ("IAM JSON policy elements: Resource") has a `*` stay inside its colon-separated segment, except
a `*` that ends a segment, which may expand past the colons: `arn:aws:s3:::bkt*` covers every object of
`bkt`, `arn:aws:iam::*:role/x` any account. Resources and values are case-sensitive, actions are not.
A `Pattern` is compiled once per policy; one with variables builds its regex per request (regexes are
cached by their text).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .variables import Escaped, Literal, Unresolved, has_variables, parse, value_of

ANY, EXACT, REGEX, DYNAMIC = range(4)


@lru_cache(maxsize=8192)
def _compile(source: str, ignore_case: bool) -> re.Pattern:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _tokens(parts, context):
    """(char, is_wildcard_capable) pairs; variable values and escapes are never wildcards."""
    out = []
    for p in parts:
        if isinstance(p, Literal):
            out += [(c, True) for c in p.text]
        elif isinstance(p, Escaped):
            out.append((p.char, False))
        else:
            out += [(c, False) for c in value_of(p, context)]
    return out


def _regex_source(tokens, arn: bool) -> str:
    body = []
    for i, (c, wild) in enumerate(tokens):
        if wild and c == "*":
            if arn and i + 1 < len(tokens) and tokens[i + 1][0] != ":":
                body.append("[^:]*")
            else:
                body.append(".*")
        elif wild and c == "?":
            body.append("[^:]" if arn else ".")
        else:
            body.append(re.escape(c))
    return "".join(body)


class Pattern:
    """One pattern of a policy (an Action, a Resource, a StringLike value...)."""

    __slots__ = ("kind", "text", "parts", "arn", "ignore_case", "regex")

    def __init__(self, text: str, *, arn: bool = False, ignore_case: bool = False, variables: bool = False):
        self.text = str(text)
        self.arn, self.ignore_case = arn, ignore_case
        self.parts = parse(self.text, variables)
        self.regex = None
        if has_variables(self.parts):
            self.kind = DYNAMIC
        elif self.text == "*":
            self.kind = ANY
        elif "*" not in self.text and "?" not in self.text:
            self.kind = EXACT
            self.text = self.text.lower() if ignore_case else self.text
        else:
            self.kind = REGEX
            self.regex = _compile(_regex_source(_tokens(self.parts, {}), arn), ignore_case)

    def matches(self, value: str, context=None) -> bool:
        kind = self.kind
        if kind == ANY:
            return True
        if kind == EXACT:
            return (value.lower() if self.ignore_case else value) == self.text
        if kind == REGEX:
            return self.regex.fullmatch(value) is not None
        try:
            tokens = _tokens(self.parts, context or {})
        except Unresolved:
            return False
        return _compile(_regex_source(tokens, self.arn), self.ignore_case).fullmatch(value) is not None

    def __repr__(self):
        return f"Pattern({self.text!r})"
