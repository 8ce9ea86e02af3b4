"""A decision in the shapes AWS's own tools show it, for the enforcement step to serve.

- `authorization_message(decision)`: the JSON that `sts decode-authorization-message` returns for an EC2
  refusal (allowed, explicitDeny, matchedStatements, failures, context with principal, action, resource and
  the request's condition keys), as in the STS API reference's example.
- `simulation_result(decision, policies)`: one `EvaluationResults` entry of `iam simulate-principal-policy` /
  `simulate-custom-policy` (EvalActionName, EvalResourceName, EvalDecision, MatchedStatements,
  MissingContextValues).
- `context_keys(policies)`: the condition keys a set of policies uses, as `iam get-context-keys-for-*-policy`
  lists them.
"""

from __future__ import annotations

from .model import ALLOW, EXPLICIT_DENY, IDENTITY, RESOURCE, Decision, as_policy

_EVAL = {ALLOW: "allowed", EXPLICIT_DENY: "explicitDeny"}
_SOURCE_TYPE = {IDENTITY: "IAM Policy", RESOURCE: "resource", "permissions boundary": "IAM Policy",
                "session policy": "IAM Policy"}
# Keys the engine derives for itself; not "missing" when a simulation's context leaves them out.
_DERIVED = ("aws:principal", "aws:userid", "aws:username", "aws:currenttime", "aws:epochtime")


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


def simulation_result(decision: Decision, policies=()) -> dict:
    """`policies`: those evaluated, to list the condition keys they use that the request did not carry."""
    used = context_keys(list(policies)) if policies else []
    missing = [k for k in used if k.lower() not in decision.context and not k.lower().startswith(_DERIVED)]
    return {
        "EvalActionName": decision.action,
        "EvalResourceName": decision.resource,
        "EvalDecision": _EVAL.get(decision.effect, "implicitDeny"),
        "MatchedStatements": [{"SourcePolicyId": m.policy_id,
                               "SourcePolicyType": _SOURCE_TYPE.get(m.policy_type, "IAM Policy")}
                              for m in decision.matched],
        "MissingContextValues": missing,
    }


__all__ = ["authorization_message", "context_keys", "simulation_result"]
