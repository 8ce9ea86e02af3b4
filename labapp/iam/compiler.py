"""Policy documents compiled for evaluation, cached by document hash.

A document is compiled once: its statements' Action patterns, Resource patterns, Principal element and
Condition tests. For each action seen, the compiled policy remembers which of its statements name it
(`for_action`), so a request only looks at the statements that can apply. A new or edited policy has a new
hash, so cached entries never go stale; the cache is bounded (LRU).
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from threading import Lock

from .conditions import PolicyError, compile_conditions
from .matching import Pattern
from .principals import PrincipalElement

CURRENT_VERSION = "2012-10-17"
_CACHE_SIZE = 4096
_ACTION_INDEX_SIZE = 1024


def _list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class Statement:
    __slots__ = ("sid", "index", "allow", "actions", "not_action", "resources", "not_resource",
                 "principal", "not_principal", "conditions")

    def __init__(self, raw: dict, index: int, variables: bool):
        if not isinstance(raw, dict):
            raise PolicyError(f"statement {index} is not an object")
        self.sid = str(raw.get("Sid", ""))
        self.index = index
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise PolicyError(f"statement {index}: Effect must be Allow or Deny, not {effect!r}")
        self.allow = effect == "Allow"
        if ("Action" in raw) == ("NotAction" in raw):
            raise PolicyError(f"statement {index}: exactly one of Action and NotAction")
        self.not_action = "NotAction" in raw
        actions = _list(raw.get("NotAction", raw.get("Action")))
        self.actions = tuple(Pattern(str(a), ignore_case=True) for a in actions)
        if "Resource" in raw and "NotResource" in raw:
            raise PolicyError(f"statement {index}: both Resource and NotResource")
        self.not_resource = "NotResource" in raw
        res = raw.get("NotResource", raw.get("Resource"))
        # No Resource at all (trust policies): any resource.
        self.resources = None if res is None else tuple(
            Pattern(str(r), arn=True, variables=variables) for r in _list(res))
        if "Principal" in raw and "NotPrincipal" in raw:
            raise PolicyError(f"statement {index}: both Principal and NotPrincipal")
        self.not_principal = "NotPrincipal" in raw
        element = raw.get("NotPrincipal", raw.get("Principal"))
        self.principal = None if element is None else PrincipalElement(element)
        self.conditions = compile_conditions(raw.get("Condition"), variables)

    def action_matches(self, action: str) -> bool:
        hit = any(p.matches(action) for p in self.actions)
        return hit is not self.not_action

    def resource_matches(self, resource: str, context) -> bool:
        if self.resources is None:
            return True
        hit = any(p.matches(resource, context) for p in self.resources)
        return hit is not self.not_resource

    def conditions_hold(self, context) -> bool:
        for test in self.conditions:
            if not test.holds(context):
                return False
        return True


class CompiledPolicy:
    __slots__ = ("version", "statements", "_by_action", "_lock")

    def __init__(self, document: dict):
        if not isinstance(document, dict):
            raise PolicyError("a policy is a JSON object")
        if "Statement" not in document:
            raise PolicyError("a policy needs a Statement")
        self.version = str(document.get("Version", "2008-10-17"))
        variables = self.version == CURRENT_VERSION
        raw = _list(document["Statement"])
        self.statements = tuple(Statement(s, i, variables) for i, s in enumerate(raw))
        self._by_action: OrderedDict = OrderedDict()
        self._lock = Lock()

    def for_action(self, action: str) -> tuple:
        """The statements whose Action/NotAction covers `action` (lower-cased), memoised."""
        found = self._by_action.get(action)
        if found is None:
            found = tuple(s for s in self.statements if s.action_matches(action))
            with self._lock:
                self._by_action[action] = found
                if len(self._by_action) > _ACTION_INDEX_SIZE:
                    self._by_action.popitem(last=False)
        return found


_cache: OrderedDict = OrderedDict()
_cache_lock = Lock()


def _digest(document) -> str:
    if isinstance(document, (bytes, bytearray)):
        return hashlib.sha256(bytes(document)).hexdigest()
    if isinstance(document, str):
        return hashlib.sha256(document.encode()).hexdigest()
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def _parse(document):
    if isinstance(document, (bytes, bytearray)):
        document = bytes(document).decode("utf-8")
    if isinstance(document, str):
        try:
            return json.loads(document)
        except ValueError as e:
            raise PolicyError(f"not JSON: {e}") from e
    return document


def compile_policy(document, policy_id: str = "") -> CompiledPolicy:
    """The compiled form of a document (dict, JSON text or bytes); PolicyError if AWS would refuse it."""
    digest = _digest(document)
    with _cache_lock:
        hit = _cache.get(digest)
        if hit is not None:
            _cache.move_to_end(digest)
            return hit
    compiled = CompiledPolicy(_parse(document))
    with _cache_lock:
        _cache[digest] = compiled
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def cache_info() -> int:
    """How many compiled documents are cached."""
    return len(_cache)


def cache_clear() -> None:
    with _cache_lock:
        _cache.clear()
