"""Wildcard patterns of policies: actions, resources (ARNs), StringLike/ArnLike values.

`*` is any run of characters and `?` one character. In ARNs (Resource, NotResource, Arn* operators) the IAM
User Guide ("IAM JSON policy elements: Resource") has a `*` stay inside its colon-separated segment, except
a `*` that ends a segment, which may expand past the colons: `arn:aws:s3:::bkt*` covers every object of
`bkt`, `arn:aws:iam::*:role/x` any account. Resources and values are case-sensitive, actions are not.
A `Pattern` is compiled once per policy; one with variables builds its matcher per request (matchers are
cached). Patterns with many `*` never run on a backtracking regex (see `_Automaton`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .variables import Escaped, Literal, Unresolved, has_variables, parse, value_of

ANY, EXACT, REGEX, DYNAMIC = range(4)
# Above this many `*`, a backtracking regex can take exponential time on a crafted policy (a learner's policy
# is evaluated on every call): such patterns run on a linear-per-character automaton instead.
_MAX_REGEX_STARS = 2


class _Automaton:
    """Wildcard matching by simulating the pattern's NFA: O(len(value) x len(pattern)), never worse."""

    __slots__ = ("tokens", "fold")

    def __init__(self, tokens: tuple, fold: bool):
        self.tokens, self.fold = tokens, fold

    def _closure(self, states: set) -> set:
        tokens, todo = self.tokens, list(states)
        while todo:
            i = todo.pop()
            if i < len(tokens) and tokens[i][0] == "*" and i + 1 not in states:
                states.add(i + 1)
                todo.append(i + 1)
        return states

    def fullmatch(self, value: str):
        tokens = self.tokens
        if self.fold:
            value = value.lower()
        states = self._closure({0})
        for ch in value:
            nxt = set()
            for i in states:
                if i == len(tokens):
                    continue
                kind, data = tokens[i]
                if kind == "L":
                    if data == ch:
                        nxt.add(i + 1)
                elif data or ch != ":":  # data: the wildcard may be, or cross, ":"
                    nxt.add(i if kind == "*" else i + 1)
            if not nxt:
                return None
            states = self._closure(nxt)
        return True if len(tokens) in states else None


@lru_cache(maxsize=8192)
def _build(tokens: tuple, ignore_case: bool):
    """A compiled matcher (`.fullmatch(value)`) for a token tuple."""
    if sum(1 for kind, _ in tokens if kind == "*") > _MAX_REGEX_STARS:
        if ignore_case:
            tokens = tuple((k, d.lower() if k == "L" else d) for k, d in tokens)
        return _Automaton(tokens, ignore_case)
    source = "".join(re.escape(d) if k == "L" else (".*" if d else "[^:]*") if k == "*"
                     else ("." if d else "[^:]") for k, d in tokens)
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _literal_tokens(text: str, arn: bool, more: bool) -> list:
    """Tokens for policy text with wildcards: ("L", char), ("?", may_be_colon), ("*", may_cross_colons).
    `more`: another part (a variable's value) follows, so a final `*` does not end its segment."""
    out = []
    for i, c in enumerate(text):
        if c == "*":
            nxt = text[i + 1] if i + 1 < len(text) else (None if not more else "")
            span = not arn or nxt in (None, ":")
            if out and out[-1][0] == "*":
                out[-1] = ("*", span or out[-1][1])  # `**` is one `*`, as wide as the wider
                continue
            out.append(("*", span))
        elif c == "?":
            out.append(("?", not arn))
        else:
            out.append(("L", c))
    return out


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
                tuple(_literal_tokens(p.text, arn, i < last)) if isinstance(p, Literal)
                else (("L", p.char),) if isinstance(p, Escaped) else p
                for i, p in enumerate(self.parts))
        elif self.text == "*":
            self.kind = ANY
        elif "*" not in self.text and "?" not in self.text:
            self.kind = EXACT
            self.text = self.text.lower() if ignore_case else self.text
        else:
            self.kind = REGEX
            self.regex = _build(tuple(_literal_tokens(self.text, arn, False)), ignore_case)

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
        tokens = []
        try:
            for piece in self.pieces:
                if isinstance(piece, tuple):
                    tokens += piece
                else:
                    tokens += [("L", c) for c in value_of(piece, context or {})]
        except Unresolved:
            return False
        return _build(tuple(tokens), self.ignore_case).fullmatch(value) is not None

    def __repr__(self):
        return f"Pattern({self.text!r})"
