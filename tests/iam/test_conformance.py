"""The conformance suite: decisions taken from the IAM User Guide's rules and examples, kept as data in
tests/iam/conformance/*.yaml and run against the engine.

A file has a `source` (the User Guide page its cases come from; a case may cite another), optional
`defaults` (principal, action, resource, context), named `policies`, and `cases`. A case gives the caller
(`principal` plus `identity`, `boundary`, `session` policies), the request (`action`, `resource` or
`resources`, `resource_account`, `context`), the `resource_policy` (and `policy_required` for trust and key
policies) and `expect`: `allow`, or `<explicit-deny|implicit-deny>:<identity|resource|boundary|session>`.
`checks` runs the same setup several times with different request fields, each its own decision.
A policy is a name from `policies`, a whole document, or statements (wrapped in a 2012-10-17 document).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from labapp.iam import Policy, Principal, Request, Resource, evaluate

HERE = Path(__file__).with_name("conformance")
DOCS = "https://docs.aws.amazon.com/"
ACCOUNT = "111122223333"


def _policy(spec, named: dict, pid: str) -> Policy:
    if isinstance(spec, str) and spec in named:
        return Policy(named[spec], spec)
    if isinstance(spec, dict) and "Statement" in spec:
        return Policy(spec, pid)
    statements = spec if isinstance(spec, list) else [spec]
    return Policy({"Version": "2012-10-17", "Statement": statements}, pid)


def _policies(specs, named, prefix):
    """A list of policies (each a name, a document, a statement or a list of statements), or just one."""
    if specs is None:
        return None
    specs = specs if isinstance(specs, list) else [specs]
    return [_policy(s, named, s if isinstance(s, str) else f"{prefix}-{i}") for i, s in enumerate(specs)]


def _principal(spec: dict, case: dict, named: dict) -> Principal:
    kind = spec.get("type", "user")
    account = str(spec.get("account", ACCOUNT))
    kw = {"tags": spec.get("tags", {}),
          "identity_policies": _policies(case.get("identity"), named, "identity") or (),
          "boundary": None if case.get("boundary") is None else _policy(case["boundary"], named, "boundary"),
          "session_policies": _policies(case.get("session"), named, "session")}
    if kind == "user":
        return Principal.user(account, spec.get("name", "bob"), path=spec.get("path", "/"), **kw)
    if kind == "role":
        return Principal.role_session(account, spec.get("role", "app"), spec.get("session", "s1"),
                                      path=spec.get("path", "/"), **kw)
    if kind == "federated":
        return Principal.federated_user(account, spec.get("name", "fed"), spec.get("source_user", "bob"),
                                        **kw)
    if kind == "root":
        return Principal.root(account, **kw)
    if kind == "anonymous":
        return Principal.anonymous()
    if kind == "service":
        return Principal.service(spec["name"])
    if kind == "web-identity":
        return Principal.web_identity(spec["name"])
    raise ValueError(f"unknown principal type {kind}")


def _cases():
    for path in sorted(HERE.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        named = data.get("policies", {})
        defaults = data.get("defaults", {})
        for n, case in enumerate(data["cases"]):
            base = {**defaults, **case}
            base["principal"] = {**defaults.get("principal", {}), **case.get("principal", {})}
            base.setdefault("source", data.get("source"))
            checks = case.get("checks") or [{}]
            for i, check in enumerate(checks):
                merged = {**base, **check}
                merged["context"] = {**base.get("context", {}), **check.get("context", {})}
                label = f"{path.stem}:{case.get('name', n)}" + (f"[{i}]" if len(checks) > 1 else "")
                yield pytest.param(merged, named, id=label)


CASES = list(_cases())


def test_the_suite_has_at_least_200_decisions_each_citing_the_user_guide():
    assert len(CASES) >= 200
    for param in CASES:
        case = param.values[0]
        assert str(case.get("source", "")).startswith(DOCS), param.id
        assert "expect" in case, param.id


@pytest.mark.parametrize("case,named", CASES)
def test_decision(case, named):
    principal = _principal(case["principal"], case, named)
    arns = case.get("resources") or [case.get("resource", "*")]
    policy = case.get("resource_policy")
    resources = tuple(Resource(arn, str(case.get("resource_account", "")),
                               _policy(policy, named, "resource-policy") if policy is not None else None,
                               bool(case.get("policy_required", False))) for arn in arns)
    decision = evaluate(principal, Request(case["action"], resources, case.get("context", {})))
    assert decision.reason_kind == case["expect"], (case.get("why") or case.get("name"), decision.message,
                                                    decision.matched, decision.error)


def test_every_requested_action_is_a_real_iam_action():
    """A typo in a case would test nothing: the Service Authorization Reference must know each action."""
    from labapp.iam import catalog

    unknown = sorted({p.values[0]["action"] for p in CASES if not catalog.is_action(p.values[0]["action"])})
    assert unknown == []
