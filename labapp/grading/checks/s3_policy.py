"""Bucket-policy check kinds that grade what a policy *does*, not how it is written.

The emulator stores bucket policies but does not evaluate them for every caller, so these checks ask the policy
evaluator (labapp/grading/policy.py) about concrete requests ("probes"): this action, on this object or on the
bucket, by this caller, over HTTPS or not. Any correct wording passes (statements split or merged, `s3:*` or a
list, `Principal: "*"` or `{"AWS": "*"}`, NotAction, wildcards, JSON `false` or `"false"`), and a policy that
only looks right (a Deny whose condition never matches the request, a Principal that is everyone) fails.

Callers a lab file can name in `principals`:
  anyone            an unsigned request from the internet
  account           another user or role of the learner's own account (one the policy does not name)
  role:NAME         a session of the role NAME of the learner's account
  other-account     a principal of some other AWS account
  service:NAME      a service principal, e.g. service:cloudfront.amazonaws.com
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from labapp.grading import policy as iam_policy

from . import Check, CheckFailed, failed, passed, register, schema, string

OTHER_ACCOUNT = "111122223333"
PROBE_SESSION = "lab-grader-probe"
OBJECT_LEVEL = {"s3:abortmultipartupload", "s3:listmultipartuploadparts"}
EXPECTATIONS = {
    "allow": "allowed",
    "deny": "explicitly denied",
    "not-allowed": "not allowed (denied, or simply never allowed)",
}


def is_object_action(action: str) -> bool:
    """S3 actions on objects take an object ARN (bucket/key); the others take the bucket's ARN."""
    return "object" in action.lower() or action.lower() in OBJECT_LEVEL


class Probe:
    """One request to evaluate: `describe()` says it in the learner's terms."""

    def __init__(self, action: str, resource: str, caller: str, label: str, context: dict):
        self.action, self.resource, self.caller, self.label, self.context = action, resource, caller, label, context

    def describe(self) -> str:
        transport = ""
        secure = str(self.context.get("aws:SecureTransport", "")).lower()
        if secure == "false":
            transport = " over plain HTTP"
        elif secure == "true":
            transport = " over HTTPS"
        return f"{self.action} on {self.resource} by {self.label}{transport}"


def caller_for(name: str, account: str) -> tuple[str, str]:
    """(principal for the evaluator, how the feedback names it) of a lab file's caller name."""
    if name == "anyone":
        return iam_policy.ANONYMOUS, "anyone (an unsigned request)"
    if name == "account":
        return f"arn:aws:iam::{account}:user/{PROBE_SESSION}", "another user or role of your account"
    if name == "other-account":
        other = OTHER_ACCOUNT if account != OTHER_ACCOUNT else "444455556666"
        return f"arn:aws:iam::{other}:user/someone", "a principal of another AWS account"
    if name.startswith("role:"):
        role = name.split(":", 1)[1]
        return f"arn:aws:sts::{account}:assumed-role/{role}/{PROBE_SESSION}", f"the role {role}"
    if name.startswith("service:"):
        service = name.split(":", 1)[1]
        return service, f"the service {service}"
    raise ValueError(f"unknown caller {name!r} in a lab file")


def account_id(ctx) -> str:
    return ctx.client("sts").get_caller_identity()["Account"]


def bucket_policy(ctx, bucket: str) -> str:
    """The bucket's policy text; fails the check when there is none."""
    try:
        return ctx.client("s3").get_bucket_policy(Bucket=bucket)["Policy"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "NoSuchBucketPolicy":
            raise CheckFailed(f"{bucket} has no bucket policy yet") from None
        raise


def _conditions_of(statements: list[dict]) -> str:
    texts = sorted({json.dumps(s["Condition"], sort_keys=True) for s in statements if s.get("Condition")})
    return "; ".join(texts)


def explain(policy_text: str, probe: Probe, decision: str, expect: str) -> str:
    """Why the probe came out as `decision`, in the learner's terms."""
    doing = probe.describe()
    if decision == iam_policy.ALLOW:
        return f"your policy allows {doing}"
    if decision == iam_policy.DENY:
        return f"your policy explicitly denies {doing}"
    # Nothing applies: was there a statement that would, but for its condition?
    would = [s for s in iam_policy.applicable_statements(policy_text, probe.action, probe.resource, probe.caller,
                                                         probe.context, conditions=False)
             if str(s.get("Effect", "")).lower() == ("deny" if expect == "deny" else "allow")]
    why = "nothing in your policy applies to it"
    effect = "deny" if expect == "deny" else "allow"
    if not would and not is_object_action(probe.action) and any(
            str(s.get("Effect", "")).lower() == effect
            for s in iam_policy.applicable_statements(policy_text, probe.action, f"{probe.resource}/any-key",
                                                      probe.caller, probe.context, conditions=False)):
        why = (f"your statement names the bucket's objects ({probe.resource}/*) but not the bucket itself "
               f"({probe.resource}), which bucket actions need")
    elif would:
        why = (f"your {would[0].get('Effect')} statement for it has a condition that does not hold for this "
               f"request ({_conditions_of(would)})")
    verb = "denies" if expect == "deny" else "allows"
    return f"your policy never {verb} {doing} — {why}"


@register("s3.bucket_policy_decision")
class BucketPolicyDecision(Check):
    description = ("Evaluates the bucket policy for concrete requests (each action x key x caller, with the given "
                   "request context; HTTPS unless aws:SecureTransport is given) and requires each to be allowed, "
                   "explicitly denied, or not allowed. See the module docstring for the caller names.")
    params_schema = schema(
        {"bucket": string("bucket name (usually {{ bucket }})"),
         "expect": {"enum": sorted(EXPECTATIONS), "description": "what the policy must decide for every probe"},
         "actions": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^s3:[A-Za-z]+$"}},
         "keys": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1},
                  "description": "object keys that object actions are tried on (bucket actions use the bucket)"},
         "principals": {"type": "array", "minItems": 1,
                        "items": {"type": "string",
                                  "pattern": "^(anyone|account|other-account|role:.+|service:.+)$"}},
         "context": {"type": "object", "additionalProperties": {"type": ["string", "array"]},
                     "description": "request condition keys, e.g. {aws:SecureTransport: 'false'}"},
         "contexts": {"type": "array", "minItems": 1,
                      "items": {"type": "object", "additionalProperties": {"type": ["string", "array"]}},
                      "description": "several request contexts: every probe is tried in each"},
         "requirement": string("what the task asks, in the learner's words, for the feedback")},
        ["bucket", "expect", "actions", "principals", "requirement"],
    )

    def run(self, ctx, *, bucket, expect, actions, principals, requirement, keys=None, context=None, contexts=None):
        text = bucket_policy(ctx, bucket)
        account = account_id(ctx)
        for extra in contexts or [context or {}]:
            outcome = self._probe_all(text, account, bucket, expect, actions, principals, requirement, keys,
                                      {"aws:SecureTransport": "true", **extra})
            if outcome is not None:
                return outcome
        return passed(f"{requirement}: checked for {', '.join(actions)}")

    @staticmethod
    def _probe_all(text, account, bucket, expect, actions, principals, requirement, keys, request_context):
        """The failed outcome of the first probe that comes out wrong, or None when all are right."""
        for action in actions:
            if is_object_action(action):
                resources = [f"arn:aws:s3:::{bucket}/{key}" for key in (keys or ["any-object.txt"])]
            else:
                resources = [f"arn:aws:s3:::{bucket}"]
            for resource in resources:
                for name in principals:
                    caller, label = caller_for(name, account)
                    probe = Probe(action, resource, caller, label, request_context)
                    decision = iam_policy.evaluate(text, action, resource, caller, request_context)
                    ok = (decision == iam_policy.ALLOW if expect == "allow"
                          else decision == iam_policy.DENY if expect == "deny"
                          else decision != iam_policy.ALLOW)
                    if not ok:
                        return failed(f"not yet: {requirement} — {explain(text, probe, decision, expect)}")
        return None
