"""AWS's policy evaluation logic for one request, as the IAM User Guide documents it ("Policy evaluation
logic", "Policy evaluation for requests within a single account", "Cross-account policy evaluation logic",
"Permissions boundaries for IAM entities", "Session policies").

    evaluate(principal, request, resource_policies=None) -> Decision

1. Every policy that applies is read: the caller's identity-based policies, its permissions boundary, its
   session policies, and the resource-based policy of each resource. A statement applies when its
   Action/NotAction covers the action, its Resource/NotResource the resource, (resource policies) its
   Principal/NotPrincipal names the caller, and all its conditions hold.
2. An applicable Deny anywhere: explicit deny.
3. Otherwise, within the resource's account, an Allow in the resource policy that names the caller itself
   (user ARN, role-session ARN, `*`) suffices; one that names the caller's role (or the IAM user behind a
   federated session) still needs the boundary and the session policies to allow; one that names the account
   delegates to identity policies. Without such a grant, identity policies must allow, and the boundary and
   the session policies (when there are any) too. Trust policies and KMS key policies (`policy_required`)
   must allow in any case.
4. Across accounts both sides must allow: the caller's (identity, boundary, session) and the resource policy
   (naming the caller, its role or its account).
5. Otherwise: implicit deny. The account root is allowed everything that no Deny refuses (within its own
   account, and where a required policy such as a key policy lets the account in). Anonymous callers,
   services and web identity providers are allowed only by a resource (trust) policy.

A NotPrincipal with Deny exempts the caller only when it lists the whole chain (account, role and session;
account and user), and never exempts a caller that has a permissions boundary (both from the NotPrincipal and
permissions boundary pages). Anything unexpected while evaluating is a deny (`reason_kind == "error"`), never
an allow. Organizations SCPs and RCPs, VPC endpoint policies and ACLs are out of scope.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from .messages import refusal
from .model import (ALLOW, ANONYMOUS, BOUNDARY, EXPLICIT_DENY, IDENTITY, IMPLICIT_DENY, RESOURCE, ROOT,
                    SERVICE, SESSION, WEB_IDENTITY, Decision, Match, Policy, Principal, Request, Resource,
                    as_policy)
from .principals import ACCOUNT, DIRECT, IDENTITY_LEVEL, NONE, caller_keys

_DENY_ORDER = (IDENTITY, RESOURCE, BOUNDARY, SESSION)


def request_context(principal: Principal, request: Request) -> dict:
    """The request's condition keys (lower-cased), with those AWS derives from the caller and the clock."""
    ctx = dict(principal.context_keys)
    for key, value in request.context.items():
        ctx[key.lower()] = value
    if "aws:currenttime" not in ctx or "aws:epochtime" not in ctx:
        now = time.time()
        ctx.setdefault("aws:epochtime", str(int(now)))
        ctx.setdefault("aws:currenttime",
                       datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return ctx


def _caller(principal: Principal) -> dict:
    keys = principal.__dict__.get("_caller_keys")
    if keys is None:
        keys = caller_keys(principal)
        principal.__dict__["_caller_keys"] = keys
    return keys


def _scan(principal, policies, ptype, action, resource, ctx, caller, matched, denies, allows):
    for policy in policies:
        for st in policy.compiled.for_action(action):
            if not st.resource_matches(resource, ctx):
                continue
            level = DIRECT
            if ptype == RESOURCE:
                if st.principal is None:
                    continue  # a resource policy statement names someone, or grants nothing
                if st.not_principal:
                    exempt = st.principal.lists_whole_chain(caller)
                    if not st.allow and principal.boundary is not None:
                        exempt = False
                    level = NONE if exempt else DIRECT
                else:
                    level = st.principal.level(caller)
                if level == NONE:
                    continue
            if not st.conditions_hold(ctx):
                continue
            matched.append(Match(policy.id, ptype, st.sid, st.index, "Allow" if st.allow else "Deny"))
            if st.allow:
                allows[ptype] = max(allows.get(ptype, NONE), level)
            else:
                denies.add(ptype)


def _decide(principal: Principal, action: str, resource: Resource, ctx: dict) -> Decision:
    caller = _caller(principal)
    al = action.lower()
    matched: list = []
    denies: set = set()
    allows: dict = {}
    found = (matched, denies, allows)
    _scan(principal, principal.identity_policies, IDENTITY, al, resource.arn, ctx, caller, *found)
    if principal.boundary is not None:
        _scan(principal, (principal.boundary,), BOUNDARY, al, resource.arn, ctx, caller, *found)
    if principal.session_policies:
        _scan(principal, principal.session_policies, SESSION, al, resource.arn, ctx, caller, *found)
    if resource.policy is not None:
        _scan(principal, (resource.policy,), RESOURCE, al, resource.arn, ctx, caller, *found)

    def result(effect, ptype):
        allowed = effect == ALLOW
        message = "" if allowed else refusal(principal.arn, action, resource.arn, effect, ptype)
        return Decision(allowed, effect, ptype, message, action, resource.arn, principal.arn, tuple(matched),
                        context=ctx, principal_id=principal.userid)

    for ptype in _DENY_ORDER:
        if ptype in denies:
            return result(EXPLICIT_DENY, ptype)

    res_level = allows.get(RESOURCE, NONE)
    if principal.type in (ANONYMOUS, SERVICE, WEB_IDENTITY):
        return result(ALLOW, RESOURCE) if res_level else result(IMPLICIT_DENY, RESOURCE)

    root = principal.type == ROOT
    identity_ok = root or IDENTITY in allows
    boundary_ok = principal.boundary is None or BOUNDARY in allows
    session_ok = principal.session_policies is None or SESSION in allows

    def requester_side():
        """The caller's own permissions: identity, then boundary, then session policies."""
        if not identity_ok:
            return IDENTITY
        if not boundary_ok:
            return BOUNDARY
        if not session_ok:
            return SESSION
        return None

    same_account = not resource.account or resource.account == principal.account
    if not same_account:
        missing = requester_side()
        if missing:
            return result(IMPLICIT_DENY, missing)
        if res_level < ACCOUNT:
            return result(IMPLICIT_DENY, RESOURCE)
        return result(ALLOW, RESOURCE)

    if resource.policy_required and res_level == NONE:  # even the root user (a key policy locks it out)
        return result(IMPLICIT_DENY, RESOURCE)
    if res_level == DIRECT:
        return result(ALLOW, RESOURCE)
    if res_level == IDENTITY_LEVEL:
        if not boundary_ok:
            return result(IMPLICIT_DENY, BOUNDARY)
        if not session_ok:
            return result(IMPLICIT_DENY, SESSION)
        return result(ALLOW, RESOURCE)
    missing = requester_side()
    if missing:
        return result(IMPLICIT_DENY, missing)
    return result(ALLOW, "root" if root and IDENTITY not in allows else IDENTITY)


def _error(principal: Principal, request: Request, exc: Exception) -> Decision:
    resource = request.resources[0].arn if request.resources else "*"
    message = (f"User: {principal.arn} is not authorized to perform: {request.action} because a policy "
               f"could not be evaluated ({exc})")
    return Decision(False, IMPLICIT_DENY, None, message, request.action, resource, principal.arn, (),
                    str(exc))


def evaluate(principal: Principal, request: Request, resource_policies=None) -> Decision:
    """The decision for `request` by `principal`. `resource_policies`: one Policy (or document) for every
    resource of the request, or a mapping ARN -> Policy; a Resource's own `policy` wins. With several
    resources, each must be allowed: the first refusal is returned."""
    try:
        ctx = request_context(principal, request)
        first = None
        for resource in request.resources:
            if resource.policy is None and resource_policies is not None:
                policy = (resource_policies.get(resource.arn) if isinstance(resource_policies, dict)
                          and "Statement" not in resource_policies else resource_policies)
                if policy is not None:
                    resource = Resource(resource.arn, resource.account, as_policy(policy, "resource-policy"),
                                        resource.policy_required)
            decision = _decide(principal, request.action, resource, ctx)
            if not decision.allowed:
                return decision
            first = first or decision
        if first is None:
            raise ValueError("a request needs at least one resource")
        return first
    except Exception as exc:  # noqa: BLE001 - whatever goes wrong, the answer is no
        return _error(principal, request, exc)


def is_allowed(principal: Principal, action: str, resource: str = "*", context: dict | None = None,
               resource_policy: Policy | dict | None = None, **resource_fields) -> bool:
    """Shorthand for graders: may `principal` do `action` on `resource` (with `context`)?"""
    res = Resource(resource, policy=resource_policy, **resource_fields)
    return evaluate(principal, Request(action, (res,), context or {})).allowed
