"""`{{ name }}` placeholders in lab files, replaced by the session's parameter values.

Deliberately tiny: a placeholder is a parameter name in double braces, nothing else (no filters, no
expressions), so a lab file can be validated statically: every name used must be a declared parameter
(the course loader rejects any other).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class TemplateError(KeyError):
    """A placeholder names a parameter that has no value."""

    def __str__(self) -> str:
        return f"no value for parameter {{{{ {self.args[0]} }}}}"


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def render(text: str, params: dict[str, Any], *, escape: Callable[[str], str] | None = None) -> str:
    """Replace every placeholder with str(value) (passed through `escape` if given).

    An unknown name raises TemplateError (a KeyError): an authoring error the loader rejects up front.
    """

    def sub(match: re.Match) -> str:
        name = match.group(1)
        if name not in params:
            raise TemplateError(name)
        value = str(params[name])
        return escape(value) if escape else value

    return PLACEHOLDER.sub(sub, text)


def render_data(value: Any, params: dict[str, Any]) -> Any:
    """`render` applied to every string inside nested dicts and lists (setup args, check params).

    A string that is exactly one placeholder keeps the parameter's type (an int stays an int).
    Dict keys are left alone.
    """
    if isinstance(value, str):
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            if whole.group(1) not in params:
                raise TemplateError(whole.group(1))
            return params[whole.group(1)]
        return render(value, params)
    if isinstance(value, dict):
        return {key: render_data(item, params) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render_data(item, params) for item in value]
    return value


def names_in(value: Any) -> set[str]:
    """Every placeholder name used anywhere in a (nested) value."""
    if isinstance(value, str):
        return placeholders(value)
    out: set[str] = set()
    if isinstance(value, dict):
        for item in value.values():
            out |= names_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            out |= names_in(item)
    return out
