"""The check-kind registry.

A check is data in a lab file (`{kind: s3.bucket_versioning, bucket: "{{ bucket }}", status: Enabled}`);
the kind names a small class registered here. Each class declares a JSON schema for its parameters
(`params_schema`, used by the course loader) and implements `run(ctx, **params) -> CheckOutcome`.

Checks are read-only: they describe the sandbox through `ctx.client(service)` (a boto3 client bound to
the learner's sandbox) and may read `ctx.journal` (the API calls that passed the gateway). Feedback is
written for the learner: what is wrong and what to do, or what was found when the check passes.

A check may `raise CheckFailed("...")` anywhere to fail with that feedback; the grader also turns common
"not found" client errors into failed checks (see grader.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

# Keys of a check entry in a lab file that belong to the grader, not to the check kind.
RESERVED_KEYS = frozenset({"kind", "weight", "account"})


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    feedback: str


class CheckFailed(Exception):
    """Raised inside a check to fail it with learner-facing feedback."""

    def __init__(self, feedback: str):
        super().__init__(feedback)
        self.feedback = feedback


class CheckContext:
    """What a check may look at.

    params: the session's lab parameters (already substituted into the check's own arguments).
    client: service name -> boto3 client bound to the sandbox (through the gateway, source "platform");
        pass the factory as `client=` (or `client_factory=`); `ctx.client("s3")` returns a cached client.
    journal: the session's API calls, oldest first, as dicts
        {action, service, params, status, at, source} (source: "learner" | "setup" | "platform").
    """

    def __init__(self, params: dict | None = None, client: Callable[[str], Any] | None = None,
                 journal: list[dict] | None = None, *, client_factory: Callable[[str], Any] | None = None):
        self.params = dict(params or {})
        self.client_factory = client or client_factory
        self.journal = list(journal or [])
        self._clients: dict[str, Any] = {}
        # name -> CheckContext of that extra account of the session (a check with `account: <name>`)
        self.accounts: dict[str, CheckContext] = {}

    def client(self, service: str):
        if service not in self._clients:
            if self.client_factory is None:
                raise RuntimeError("this CheckContext has no client factory")
            self._clients[service] = self.client_factory(service)
        return self._clients[service]

    def __repr__(self) -> str:
        return f"CheckContext(params={self.params!r}, journal=<{len(self.journal)} rows>)"


class Check:
    """Base class of a check kind. Subclasses set `params_schema` and implement `run`."""

    kind: ClassVar[str] = ""
    # JSON schema (Draft 2020-12) of the check's parameters, not counting `kind` and `weight`.
    params_schema: ClassVar[dict] = {"type": "object", "additionalProperties": False, "properties": {}}
    # One line for authors (shown by `loadcourses --kinds`).
    description: ClassVar[str] = ""

    def run(self, ctx: CheckContext, **params) -> CheckOutcome:  # pragma: no cover - abstract
        raise NotImplementedError


_REGISTRY: dict[str, type[Check]] = {}


def register(kind: str):
    """Class decorator: `@register("s3.bucket_versioning")`."""

    def deco(cls: type[Check]) -> type[Check]:
        if kind in _REGISTRY and _REGISTRY[kind] is not cls:
            raise ValueError(f"check kind {kind!r} registered twice")
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls

    return deco


def get_check(kind: str) -> Check:
    """An instance of the check kind; KeyError if there is none."""
    return _REGISTRY[kind]()


def all_kinds() -> dict[str, type[Check]]:
    return dict(sorted(_REGISTRY.items()))


def passed(feedback: str) -> CheckOutcome:
    return CheckOutcome(True, feedback)


def failed(feedback: str) -> CheckOutcome:
    return CheckOutcome(False, feedback)


def schema(properties: dict, required: list[str]) -> dict:
    """A params schema: an object with exactly these properties."""
    return {"type": "object", "additionalProperties": False, "properties": properties, "required": required}


def string(description: str, **extra) -> dict:
    return {"type": "string", "minLength": 1, "description": description, **extra}


def _import_check_modules() -> None:
    """Every module of this package (one per service) registers its kinds on import: adding a
    service is adding a file."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_check_modules()


def _load_extra_check_modules() -> None:
    """Course authors' own check kinds: modules named in LAB_EXTRA_CHECK_MODULES register on import."""
    import importlib

    from django.conf import settings

    for module in getattr(settings, "LAB_EXTRA_CHECK_MODULES", []):
        importlib.import_module(module)


_load_extra_check_modules()
