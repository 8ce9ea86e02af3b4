"""`iam.access`: may a principal do an action on a resource, as the sandbox's own IAM would decide it?

    - kind: iam.access
      principal: "arn:aws:iam::{{ account_id }}:user/bob"   # a user, or a role (a session "lab-check" of it)
      action: s3:GetObject
      resource: "arn:aws:s3:::{{ bucket }}/reports/q1.csv" # or "*" (the default)
      context: {aws:MultiFactorAuthPresent: "true"}        # optional extra condition keys
      allowed: true                                        # what the task requires
      feedback: "bob must be able to read reports/ objects" # optional

The question is answered inside the emulator by the engine, principals and resource policies enforcement
uses (labapp/sandbox/authorization/access.py), in the session's own account only: the account is the one
the session's credentials belong to (STS GetCallerIdentity through the gateway), never one a lab file
names. Several checks in one task express least privilege: allowed here, refused there.
"""

from __future__ import annotations

from . import Check, CheckContext, CheckFailed, CheckOutcome, failed, passed, register, schema, string

_VALUE = {"type": ["string", "boolean", "number"]}


def session_account(ctx: CheckContext) -> str:
    """The account the session's credentials are in (asked once per grading)."""
    account = ctx.__dict__.get("_iam_account")
    if account is None:
        account = ctx.__dict__["_iam_account"] = ctx.client("sts").get_caller_identity()["Account"]
    return account


def _ask(ctx: CheckContext, **question) -> dict:
    ask = getattr(ctx, "iam_access", None)  # tests may answer themselves
    if ask is None:
        from labapp.sandbox.client import iam_access as ask
    return ask(session_account(ctx), **question)


def _text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _context(raw: dict | None) -> dict:
    """YAML's `true` or `5` as the strings IAM compares; lists stay lists (multivalued keys)."""
    return {
        str(key): [_text(v) for v in value] if isinstance(value, list) else _text(value)
        for key, value in (raw or {}).items()
    }


def _who(arn: str) -> str:
    return arn.rsplit("/", 1)[-1] if "/" in arn else arn


@register("iam.access")
class Access(Check):
    description = (
        "IAM (the sandbox's own evaluation, resource policies included) allows, or refuses, a principal an "
        "action on a resource."
    )
    params_schema = schema(
        {
            "principal": string("ARN of an IAM user or role in the sandbox (a role is evaluated as a session)"),
            "action": string("the IAM action, e.g. s3:GetObject"),
            "resource": string("the resource ARN, or *"),
            "context": {
                "type": "object",
                "description": "extra condition keys: a string (or true/false/number) or a list of them",
                "additionalProperties": {"anyOf": [_VALUE, {"type": "array", "items": _VALUE}]},
            },
            "allowed": {"type": "boolean", "description": "whether the task requires the action to be allowed"},
            "feedback": string("what to tell the learner when IAM decides otherwise"),
        },
        ["principal", "action", "allowed"],
    )

    def run(self, ctx, *, principal, action, allowed, resource="*", context=None, feedback=None) -> CheckOutcome:
        try:
            answer = _ask(ctx, principal=principal, action=action, resource=resource, context=_context(context))
        except LookupError as err:
            raise CheckFailed(f"{err}: create it first") from None
        name, target = _who(principal), answer.get("resource") or resource
        if answer["allowed"]:
            said = f"{name} is allowed {action} on {target}"
            granted = sorted({m["policy"] for m in answer.get("matched", ()) if m["effect"].lower() == "allow"})
            if granted:
                said += f" (by {', '.join(granted)})"
        else:
            said = answer["message"]
        if answer["allowed"] == allowed:
            return passed(said)
        if feedback:
            return failed(feedback)
        if allowed:
            return failed(f"{name} must be allowed {action} on {target}, but IAM refuses: {said}")
        return failed(f"{name} must not be allowed {action} on {target}, but IAM allows it: {said}")
