"""`{{ name }}` placeholders in lab files, replaced by the session's parameter values."""

import re
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def render(text: str, params: dict[str, Any]) -> str:
    """Replace every placeholder; an unknown name is an authoring error (the loader rejects it)."""
    return PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), text)


def render_data(value: Any, params: dict[str, Any]) -> Any:
    """`render` applied to every string inside nested dicts and lists (setup args, check params)."""
    if isinstance(value, str):
        return render(value, params)
    if isinstance(value, dict):
        return {key: render_data(item, params) for key, item in value.items()}
    if isinstance(value, list):
        return [render_data(item, params) for item in value]
    return value
