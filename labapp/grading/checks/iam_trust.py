"""`iam.role_trust_decides`: would a role's trust policy let this principal assume it, with this context?

For cross-account roles, where the question is about a principal of *another* account (the session's main
account assuming a role of its partner account) and a condition such as sts:ExternalId decides. Several
such checks express "exactly who, under exactly which condition": allowed with the right ExternalId,
refused without it, refused with a wrong one, refused for an account outside the lab. The trust policy is
judged by what it does (Allow/Deny, wildcards, conditions), as `iam.role_trusts` does.
"""

from __future__ import annotations

from labapp.grading import policy as _policy

from . import Check, failed, passed, register, schema, string
from .iam import BASE_CONTEXT, ROLE, _doc, require_role


@register("iam.role_trust_decides")
class RoleTrustDecides(Check):
    description = (
        "The role's trust policy allows (allowed: true) or refuses (allowed: false) sts:AssumeRole by "
        "the principal, with the given condition keys (e.g. sts:ExternalId) besides TLS and region."
    )
    params_schema = schema(
        {
            "role": ROLE,
            "principal": string("who assumes: an account id, or an IAM user/role ARN (any account)"),
            "context": {
                "type": "object",
                "description": "condition keys of the AssumeRole request",
                "additionalProperties": {"type": "string"},
            },
            "allowed": {"type": "boolean", "description": "what the task requires"},
            "feedback": string("what to say when the decision is not the required one"),
        },
        ["role", "principal", "allowed"],
    )

    def run(self, ctx, *, role, principal, allowed, context=None, feedback=None):
        doc = _doc(require_role(ctx, role).get("AssumeRolePolicyDocument"))
        principal = f"arn:aws:iam::{principal}:root" if principal.isdigit() else principal
        decision = _policy.evaluate(
            doc, "sts:AssumeRole", None, principal, {**BASE_CONTEXT, **(context or {})}
        )
        given = ", ".join(f"{k}={v}" for k, v in (context or {}).items()) or "no extra condition keys"
        if (decision == _policy.ALLOW) == allowed:
            verb = "may" if allowed else "may not"
            return passed(f"{principal} {verb} assume {role} ({given})")
        if feedback:
            return failed(feedback)
        if allowed:
            return failed(f"the trust policy of {role} does not let {principal} assume it ({given})")
        return failed(f"the trust policy of {role} lets {principal} assume it ({given}); it must not")
