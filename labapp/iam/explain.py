"""A decision in the shapes AWS's own tools show it, for the enforcement step to serve.

- `authorization_message(decision)`: the JSON that `sts decode-authorization-message` returns for an EC2
  refusal (allowed, explicitDeny, matchedStatements, failures, context with principal, action, resource and
  the request's condition keys), as in the STS API reference's example.
- `context_keys(policies)`: the condition keys a set of policies uses, as `iam get-context-keys-for-*-policy`
  lists them.
"""

from __future__ import annotations

from .model import EXPLICIT_DENY, Decision, as_policy


def _items(values) -> dict:
    return {"items": values}


def authorization_message(decision: Decision) -> dict:
    conditions = []
    for key, value in sorted(decision.context.items()):
        values = value if isinstance(value, (list, tuple)) else [value]
        text = ["true" if v is True else "false" if v is False else str(v) for v in values]
        conditions.append({"key": key, "values": _items([{"value": v} for v in text])})
    return {
        "allowed": decision.allowed,
        "explicitDeny": decision.effect == EXPLICIT_DENY,
        "matchedStatements": _items([{"statementId": m.sid, "effect": m.effect.upper(), "source": m.policy_id}
                                     for m in decision.matched]),
        "failures": _items([]),
        "context": {
            "principal": {"id": decision.principal_id, "arn": decision.principal_arn},
            "action": decision.action,
            "resource": decision.resource,
            "conditions": _items(conditions),
        },
    }


def context_keys(policies) -> list[str]:
    """Every condition key used by these policies (documents or Policy objects), sorted, without
    duplicates (compared case-insensitively; the first spelling wins)."""
    seen: dict[str, str] = {}
    for i, policy in enumerate(policies if isinstance(policies, (list, tuple)) else [policies]):
        for statement in as_policy(policy, f"policy-{i}").compiled.statements:
            for test in statement.conditions:
                seen.setdefault(test.key, test.written_key)
    return sorted(seen.values(), key=str.lower)


__all__ = ["authorization_message", "context_keys"]
