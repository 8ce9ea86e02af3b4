"""The IAM policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy, GetContextKeysForPrincipalPolicy and
GetContextKeysForCustomPolicy, answered by the engine that enforces IAM in the sandbox (labapp.iam).

As on AWS (IAM API Reference, SimulatePrincipalPolicy / SimulateCustomPolicy):
- SimulatePrincipalPolicy takes the policies of a user (with its groups'), a group or a role of the account,
  plus `PolicyInputList`; a user's or role's permissions boundary applies unless
  `PermissionsBoundaryPolicyInputList` replaces it. SimulateCustomPolicy takes only the given documents.
- Resource policies are never fetched: only `ResourcePolicy` is used, owned by `ResourceOwner` (an account id
  or `arn:aws:iam::<account>:root`; by default the caller's account). `CallerArn` (an IAM user) is who asks;
  it defaults to the PolicySourceArn user and is required with a ResourcePolicy otherwise.
- Only the keys in `ContextEntries` are in the request context (plus those the engine derives from the
  caller: aws:username, aws:userid, aws:PrincipalArn...); keys the policies use but the entries leave out are
  listed in MissingContextValues.
- One EvaluationResult per action and resource, with EvalDecision allowed / explicitDeny / implicitDeny,
  the statements that decided (MatchedStatements: SourcePolicyId, SourcePolicyType, StartPosition and
  EndPosition of the statement in the document, line and column from 1, the end just after its `}`),
  PermissionsBoundaryDecisionDetail when a boundary applies, EvalDecisionDetails ({"IAM Policy",
  "Resource Policy"} -> decision) across accounts, empty within the account, absent for `*`.

SourcePolicyId: the inline policy's name (SourcePolicyType user / group / role), a managed policy's ARN
(aws-managed / user-managed), `PolicyInputList.N`, `PermissionsBoundaryPolicyInputList.1`, `ResourcePolicy`.
A simulated caller with no CallerArn (a group's or custom policies) is the IAM user `SimulatedCaller`.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from labapp.iam import ALLOW, EXPLICIT_DENY, Policy, PolicyError, Principal, Request, Resource, evaluate
from labapp.iam.explain import context_keys

SIMULATED_CALLER = "SimulatedCaller"
_LIST_TYPES = ("stringList", "numericList", "booleanList", "ipList", "binaryList", "dateList")


def _error(code: str, message: str):
    """moto's own IAM exceptions, which it answers in the query protocol's error shape (NoSuchEntity: 404)."""
    from moto.iam import exceptions

    kind = {"NoSuchEntity": exceptions.NoSuchEntity, "InvalidInput": exceptions.InvalidInput,
            "MalformedPolicyDocument": exceptions.MalformedPolicyDocument}[code]
    return kind(message)


# --- where each statement is, in the text the learner wrote -------------------------------------------


def statement_positions(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) (line, column) of each statement of a policy document, in order; [] if unreadable."""
    decoder = json.JSONDecoder()
    try:
        i = _skip(text, 0)
        if text[i] != "{":
            return []
        i = _skip(text, i + 1)
        while text[i] != "}":
            key, i = json.decoder.scanstring(text, i + 1)
            i = _skip(text, _skip(text, i) + 1)  # past ':'
            start = i
            value, i = decoder.raw_decode(text, start)
            if key == "Statement":
                return _spans(text, start, value)
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
    except (ValueError, IndexError):
        return []
    return []


def _spans(text: str, start: int, value) -> list:
    decoder = json.JSONDecoder()
    if isinstance(value, dict):
        _obj, end = decoder.raw_decode(text, start)
        return [(_position(text, start), _position(text, end))]
    spans = []
    i = _skip(text, start + 1)
    while text[i] != "]":
        _obj, end = decoder.raw_decode(text, i)
        spans.append((_position(text, i), _position(text, end)))
        i = _skip(text, end)
        if text[i] == ",":
            i = _skip(text, i + 1)
    return spans


def _skip(text: str, i: int) -> int:
    while text[i] in " \t\r\n":
        i += 1
    return i


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


# --- the inputs -------------------------------------------------------------------------------------


class Source:
    """A policy as the simulator reports it: its id and type, and its text (for statement positions)."""

    def __init__(self, policy_id: str, source_type: str, text: str):
        self.policy_id, self.source_type, self.text = policy_id, source_type, text
        try:
            json.loads(text)
        except ValueError:
            raise _error("MalformedPolicyDocument", f"The policy {policy_id} is not valid JSON.") from None
        self.policy = Policy(text, policy_id)
        try:
            self.policy.compiled  # noqa: B018 - an invalid policy is the caller's error, as on AWS
        except PolicyError as exc:
            raise _error("MalformedPolicyDocument", f"{policy_id}: {exc}") from None
        self.positions = statement_positions(text)


def _text(document) -> str:
    from labapp.sandbox.authorization.principals import document as readable

    found = readable(document)
    return found if isinstance(found, str) else json.dumps(found)


def _managed(iam, arn: str) -> Source:
    from labapp.sandbox.authorization.principals import _managed_document

    kind = "aws-managed" if arn.startswith("arn:aws:iam::aws:") else "user-managed"
    return Source(arn, kind, _text(_managed_document(iam.managed_policies[arn])))


def _own(iam, owner, kind: str) -> list[Source]:
    found = [Source(name, kind, _text(doc)) for name, doc in owner.policies.items()]
    return found + [_managed(iam, arn) for arn in owner.managed_policies]


def _entity(iam, arn: str):
    """(kind, entity) for PolicySourceArn, or NoSuchEntity / InvalidInput."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        raise _error("InvalidInput", f"PolicySourceArn {arn} must be an IAM user, group or role ARN.")
    if parts[4] != iam.account_id:
        raise _error("NoSuchEntity", f"The entity {arn} cannot be found.")
    kind, _, _path = parts[5].partition("/")
    name = parts[5].rsplit("/", 1)[-1]
    if kind == "user" and name in iam.users:
        return kind, iam.users[name]
    if kind == "group" and name in iam.groups:
        return kind, iam.groups[name]
    if kind == "role":
        role = next((r for r in iam.roles.values() if r.name == name), None)
        if role is not None:
            return kind, role
    raise _error("NoSuchEntity", f"The entity {arn} cannot be found.")


def _caller(iam, caller_arn: str | None) -> object | None:
    if not caller_arn:
        return None
    parts = caller_arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("user/"):
        raise _error("InvalidInput", "CallerArn must be the ARN of an IAM user.")
    user = iam.users.get(parts[5].rsplit("/", 1)[-1]) if parts[4] == iam.account_id else None
    if user is None:
        raise _error("NoSuchEntity", f"The user {caller_arn} cannot be found.")
    return user


def _principal(iam, caller, entity_kind: str | None, entity, identity: list[Source], boundary: Source | None):
    from labapp.sandbox.authorization import principals

    policies = [s.policy for s in identity]
    bound = boundary.policy if boundary else None
    if entity_kind == "role" and caller is None:
        base = principals.role_session_principal(
            iam, SimpleNamespace(role_arn=entity.arn, session_name="simulated", policy=None)
        )
        return Principal.role_session(iam.account_id, entity.name, "simulated", path=entity.path,
                                      role_id=entity.id, tags=base.tags, identity_policies=policies, boundary=bound)
    user = caller or (entity if entity_kind == "user" else None)
    if user is None:
        return Principal.user(iam.account_id, SIMULATED_CALLER, identity_policies=policies, boundary=bound)
    base = principals.user_principal(iam, user)
    return Principal.user(iam.account_id, user.name, path=user.path, userid=user.id, tags=base.tags,
                          identity_policies=policies, boundary=bound)


def _context(entries) -> dict:
    context = {}
    for entry in entries or ():
        values = [str(v).lower() if isinstance(v, bool) else str(v) for v in entry.get("ContextKeyValues") or ()]
        kind = entry.get("ContextKeyType") or "string"
        if kind.startswith("boolean"):
            values = [v.lower() for v in values]
        context[entry["ContextKeyName"]] = values if kind in _LIST_TYPES else (values[0] if values else "")
    return context


def _owner(value: str | None, default: str) -> str:
    if not value:
        return default
    parts = value.split(":")
    account = parts[4] if len(parts) > 4 else value
    return account.split("-", 1)[0] if account[:12].isdigit() else default


# --- the simulation ---------------------------------------------------------------------------------------


def _statements(decision, sources: dict[str, Source]) -> list[dict]:
    decisive = [m for m in decision.matched if m.effect.lower() == "deny"] if decision.effect == EXPLICIT_DENY \
        else [m for m in decision.matched if m.effect.lower() == "allow"] if decision.allowed else []
    found = []
    for match in decisive:
        source = sources.get(match.policy_id)
        statement = {"SourcePolicyId": match.policy_id,
                     "SourcePolicyType": source.source_type if source else "none"}
        if source and match.index < len(source.positions):
            (sl, sc), (el, ec) = source.positions[match.index]
            statement["StartPosition"] = {"Line": sl, "Column": sc}
            statement["EndPosition"] = {"Line": el, "Column": ec}
        found.append(statement)
    return found


def _word(decision) -> str:
    return {ALLOW: "allowed", EXPLICIT_DENY: "explicitDeny"}.get(decision.effect, "implicitDeny")


def simulate(iam, params: dict, *, entity_kind=None, entity=None, identity=()) -> dict:
    account = iam.account_id
    identity = list(identity)
    for i, text in enumerate(params.get("PolicyInputList") or (), 1):
        identity.append(Source(f"PolicyInputList.{i}", "none", text))
    boundary = None
    given_boundaries = params.get("PermissionsBoundaryPolicyInputList") or ()
    if given_boundaries:
        boundary = Source("PermissionsBoundaryPolicyInputList.1", "none", given_boundaries[0])
    elif entity_kind in ("user", "role"):
        arn = (getattr(entity, "lab_permissions_boundary_arn", None) if entity_kind == "user"
               else entity.permissions_boundary_arn)
        if arn and arn in iam.managed_policies:
            boundary = _managed(iam, arn)
    caller = _caller(iam, params.get("CallerArn"))
    resource_policy = None
    if params.get("ResourcePolicy"):
        if caller is None and entity_kind != "user":
            raise _error("InvalidInput", "CallerArn is required with a ResourcePolicy unless PolicySourceArn is "
                         "an IAM user.")
        resource_policy = Source("ResourcePolicy", "resource", params["ResourcePolicy"])
    principal = _principal(iam, caller, entity_kind, entity, identity, boundary)
    owner = _owner(params.get("ResourceOwner"), account)
    context = _context(params.get("ContextEntries"))
    sources = {s.policy_id: s for s in [*identity, boundary, resource_policy] if s is not None}
    used = context_keys([s.policy for s in sources.values()])
    results = []
    for action in params.get("ActionNames") or ():
        for arn in params.get("ResourceArns") or ["*"]:
            resource = Resource(arn, owner if arn == "*" or not _account_in(arn) else _account_in(arn),
                                resource_policy.policy if resource_policy else None)
            decision = evaluate(principal, Request(action, (resource,), context))
            result = {
                "EvalActionName": action,
                "EvalResourceName": arn,
                "EvalDecision": _word(decision),
                "MatchedStatements": _statements(decision, sources),
                "MissingContextValues": _missing(used, decision.context),
            }
            if boundary is not None:
                only_boundary = Principal.user(account, SIMULATED_CALLER, identity_policies=[boundary.policy])
                allowed = evaluate(only_boundary, Request(action, (Resource(arn, resource.account),), context))
                result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": allowed.allowed}
            if arn != "*":
                result["EvalDecisionDetails"] = _cross_account(principal, action, resource, context)
            results.append(result)
    return {"EvaluationResults": results, "IsTruncated": False}


def _account_in(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4].isdigit() else ""


_DERIVED = ("aws:principal", "aws:userid", "aws:username", "aws:currenttime", "aws:epochtime")


def _missing(used: list[str], context: dict) -> list[str]:
    return [k for k in used if k.lower() not in context and not k.lower().startswith(_DERIVED)]


def _cross_account(principal, action, resource, context) -> dict:
    """Within the account: empty. Across accounts: how the caller's side and the resource policy decided."""
    if resource.account == principal.account:
        return {}
    caller_side = evaluate(principal, Request(action, (Resource(resource.arn, principal.account),), context))
    details = {"IAM Policy": _word(caller_side)}
    if resource.policy is not None:
        resource_side = evaluate(
            Principal.user(principal.account, principal.name, identity_policies=()),
            Request(action, (resource,), context),
        )
        details["Resource Policy"] = "explicitDeny" if resource_side.effect == EXPLICIT_DENY else (
            "allowed" if any(m.policy_id == "ResourcePolicy" and m.effect.lower() == "allow"
                             for m in resource_side.matched) else "implicitDeny")
    return details


# --- moto ----------------------------------------------------------------------------------------------


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.iam.responses import IamResponse

    if getattr(IamResponse, "_lab_simulator", False):
        return

    def simulate_principal_policy(self) -> ActionResult:
        params = self._get_params()
        kind, entity = _entity(self.backend, params["PolicySourceArn"])
        identity = _own(self.backend, entity, kind)
        if kind == "user":
            for group in self.backend.get_groups_for_user(entity.name):
                identity += _own(self.backend, group, "group")
        return ActionResult(simulate(self.backend, params, entity_kind=kind, entity=entity, identity=identity))

    def simulate_custom_policy(self) -> ActionResult:
        return ActionResult(simulate(self.backend, self._get_params()))

    def get_context_keys_for_principal_policy(self) -> ActionResult:
        params = self._get_params()
        kind, entity = _entity(self.backend, params["PolicySourceArn"])
        sources = _own(self.backend, entity, kind)
        if kind == "user":
            for group in self.backend.get_groups_for_user(entity.name):
                sources += _own(self.backend, group, "group")
        sources += [Source(f"PolicyInputList.{i}", "none", t)
                    for i, t in enumerate(params.get("PolicyInputList") or (), 1)]
        return ActionResult({"ContextKeyNames": context_keys([s.policy for s in sources])})

    def get_context_keys_for_custom_policy(self) -> ActionResult:
        sources = [Source(f"PolicyInputList.{i}", "none", t)
                   for i, t in enumerate(self._get_params().get("PolicyInputList") or (), 1)]
        return ActionResult({"ContextKeyNames": context_keys([s.policy for s in sources])})

    IamResponse.simulate_principal_policy = simulate_principal_policy
    IamResponse.simulate_custom_policy = simulate_custom_policy
    IamResponse.get_context_keys_for_principal_policy = get_context_keys_for_principal_policy
    IamResponse.get_context_keys_for_custom_policy = get_context_keys_for_custom_policy
    IamResponse._lab_simulator = True
