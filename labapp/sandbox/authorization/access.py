""""May this principal do this action on this resource?", asked by graders (the `iam.access` check kind).

The answer is the one enforcement would give for the same call, because it is reached the same way: the
principal is built from moto's IAM state by `principals.py` (an IAM user with its groups, inline and managed
policies, tags and boundary; a role as a session of it named "lab-check", with the role's policies, boundary
and tags), the resource policy is loaded by `resource_policies.py` (bucket, queue, topic, key, trust) with
the resource's tags, and `labapp.iam.evaluate` decides. Only the asked account is read: the emulator's
admin route runs this under that account's lock and the account guard.
"""

from __future__ import annotations

from types import SimpleNamespace

from labapp.iam import Principal, Request, Resource, evaluate

from . import actions, principals, resource_policies

CHECK_SESSION = "lab-check"


class UnknownPrincipal(LookupError):
    """The ARN names no user or role of the account (or another account)."""


def principal_for(account_id: str, arn: str) -> tuple[Principal, dict]:
    """The principal an ARN names in this account, with the condition keys its credentials would carry."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["aws"]
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[4] != account_id:
        raise UnknownPrincipal(f"{arn} is not a user or role of this sandbox's account ({account_id})")
    service, resource = parts[2], parts[5]
    if service == "iam" and resource.startswith("user/"):
        name = resource.rsplit("/", 1)[-1]
        user = iam.users.get(name)
        if user is None:
            raise UnknownPrincipal(f"there is no IAM user {name} in this sandbox")
        return principals.user_principal(iam, user), {}  # long-term keys: no MFA key at all
    if service == "iam" and resource.startswith("role/"):
        role_name, session = resource.rsplit("/", 1)[-1], CHECK_SESSION
    elif service == "sts" and resource.startswith("assumed-role/") and resource.count("/") == 2:
        _, role_name, session = resource.split("/")
    else:
        raise UnknownPrincipal(f"{arn} is not an IAM user or role ARN")
    # Role names are unique in an account: a lab's role/<name> finds the role a learner created with --path,
    # evaluated with its real ARN (role/apps/<name>), as users are found by name.
    try:
        role_arn = iam.get_role(role_name).arn
    except Exception as exc:
        raise UnknownPrincipal(f"there is no IAM role {role_name} in this sandbox") from exc
    assumed = SimpleNamespace(role_arn=role_arn, session_name=session, policy=None)
    return principals.role_session_principal(iam, assumed), {"aws:MultiFactorAuthPresent": "false"}


def region_of(arn: str, default: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else default


def _with_path(account_id: str, arn: str) -> str:
    """A lab's path-less user/<name> or role/<name> as the existing entity's real ARN (with its path)."""
    from moto.iam.models import iam_backends

    kind, _, name = arn.split(":", 5)[-1].partition("/")
    if kind not in ("user", "role") or not name or "/" in name or "*" in name:
        return arn
    iam = iam_backends[account_id]["aws"]
    try:
        entity = iam.users.get(name) if kind == "user" else iam.get_role(name)
    except Exception:
        entity = None
    return getattr(entity, "arn", None) or arn


def resource_for(account_id: str, action: str, arn: str, region: str) -> Resource:
    """The resource with the policy enforcement would read for it."""
    if arn == "*" or not arn.startswith("arn:"):
        return Resource(arn or "*", account_id)
    service = arn.split(":")[2]
    if service == "iam":
        arn = _with_path(account_id, arn)
    if service == "s3":
        return resource_policies.s3_resource(account_id, arn)
    if service == "sqs":
        return resource_policies.sqs_resource(account_id, region, arn)
    if service == "sns":
        return resource_policies.sns_resource(account_id, region, arn)
    if service == "kms":
        return resource_policies.kms_resource(account_id, region, arn)
    if service == "iam" and action.lower().startswith("sts:assumerole") and ":role/" in arn:
        return resource_policies.role_trust_resource(account_id, arn)
    found = resource_policies.for_arn(account_id, region, arn)  # Lambda, Secrets Manager, ECR policies
    return found if isinstance(found, Resource) else Resource(arn, account_id)


def decide(account_id: str, principal_arn: str, action: str, resource: str = "*", context: dict | None = None,
           region: str = "us-east-1") -> dict:
    """The decision as JSON: allowed, decision (allowed / explicitDeny / implicitDeny), reason_kind, message
    (AWS's refusal wording, or what allowed), matched statements. Raises UnknownPrincipal."""
    principal, caller_context = principal_for(account_id, principal_arn)
    region = region_of(resource, region)
    target = resource_for(account_id, action, resource, region)
    # The keys enforcement sends for a direct call over HTTPS (the same builders), then the check's own.
    keys = {
        **actions.base_context(region, secure_transport=True),
        **caller_context,
        **resource_policies.resource_tags(account_id, region, target.arn),
        **actions.direct_call_context(action, account_id),
        **{str(k): v for k, v in (context or {}).items()},
    }
    keys = actions.context_for_resource(action, target.arn, keys)
    decision = evaluate(principal, Request(action, (target,), keys))
    matched = [
        {"policy": m.policy_id, "type": m.policy_type, "sid": m.sid, "effect": m.effect} for m in decision.matched
    ]
    if decision.allowed:
        granted = ", ".join(sorted({m["policy"] for m in matched if m["effect"].lower() == "allow"}))
        message = (
            f"{principal.arn} is allowed to perform: {decision.action} on resource: {decision.resource}"
            + (f" (allowed by {granted})" if granted else "")
        )
    else:
        message = decision.message
    return {
        "allowed": decision.allowed,
        "decision": {"allow": "allowed", "explicit-deny": "explicitDeny"}.get(decision.effect, "implicitDeny"),
        "reason_kind": decision.reason_kind,
        "message": message,
        "principal": principal.arn,
        "action": decision.action,
        "resource": decision.resource,
        "matched": matched,
    }
