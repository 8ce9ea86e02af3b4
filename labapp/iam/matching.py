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


def _literal_regex(text: str, arn: bool, more: bool) -> str:
    """Regex for policy text with wildcards; `more`: another part (a variable's value, never ":" in
    practice) follows, so a final `*` does not end its segment."""
    out = []
    for i, c in enumerate(text):
        if c == "*":
            nxt = text[i + 1] if i + 1 < len(text) else (None if not more else "")
            out.append("[^:]*" if arn and nxt not in (None, ":") else ".*")
        elif c == "?":
            out.append("[^:]" if arn else ".")
        else:
            out.append(re.escape(c))
    return "".join(out)


def _prefix(text: str) -> str:
    """The literal text before the first wildcard: a cheap first test."""
    cut = min((i for i in (text.find("*"), text.find("?")) if i >= 0), default=len(text))
    return text[:cut]


class Pattern:
    """One pattern of a policy (an Action, a Resource, a StringLike value...)."""

    __slots__ = ("kind", "text", "parts", "arn", "ignore_case", "regex", "pieces", "prefix")

    def __init__(self, text: str, *, arn: bool = False, ignore_case: bool = False, variables: bool = False):
        self.text = str(text)
        self.arn, self.ignore_case = arn, ignore_case
        self.parts = parse(self.text, variables)
        self.regex = None
        self.pieces: tuple = ()
        first = self.parts[0]
        self.prefix = _prefix(first.text) if isinstance(first, Literal) else ""
        if ignore_case:
            self.prefix = ""
        if has_variables(self.parts):
            self.kind = DYNAMIC
            last = len(self.parts) - 1
            self.pieces = tuple(
                _literal_regex(p.text, arn, i < last) if isinstance(p, Literal)
                else re.escape(p.char) if isinstance(p, Escaped) else p
                for i, p in enumerate(self.parts))
        elif self.text == "*":
            self.kind = ANY
        elif "*" not in self.text and "?" not in self.text:
            self.kind = EXACT
            self.text = self.text.lower() if ignore_case else self.text
        else:
            self.kind = REGEX
            self.regex = _compile(_literal_regex(self.text, arn, False), ignore_case)

    def matches(self, value: str, context=None) -> bool:
        kind = self.kind
        if kind == ANY:
            return True
        if kind == EXACT:
            return (value.lower() if self.ignore_case else value) == self.text
        if not value.startswith(self.prefix):
            return False
        if kind == REGEX:
            return self.regex.fullmatch(value) is not None
        try:
            source = "".join(p if isinstance(p, str) else re.escape(value_of(p, context or {})) for p in self.pieces)
        except Unresolved:
            return False
        return _compile(source, self.ignore_case).fullmatch(value) is not None

    def __repr__(self):
        return f"Pattern({self.text!r})"
