"""`iam.access`: a grader asks the sandbox's own IAM whether a principal may do an action on a resource.

The unit tests answer the question themselves (what the check makes of an answer); the stack tests ask
the real emulator through the platform's route, with the bucket policy, groups, boundaries and trust
policies enforcement would use, in the session's own account only."""

from __future__ import annotations

import json
import uuid

import pytest

from labapp.grading.checks import CheckContext, get_check
from labapp.grading.grader import run_check

BOB = "arn:aws:iam::111122223333:user/bob"


class FakeSts:
    def get_caller_identity(self):
        return {"Account": "111122223333"}


def ctx_answering(answer: dict, asked: list | None = None) -> CheckContext:
    ctx = CheckContext(params={"account_id": "111122223333"}, client=lambda service: FakeSts())

    def iam_access(account, **question):
        if asked is not None:
            asked.append((account, question))
        if isinstance(answer, Exception):
            raise answer
        return answer

    ctx.iam_access = iam_access
    return ctx


REFUSED = {
    "allowed": False,
    "decision": "implicitDeny",
    "message": 'User: arn:aws:iam::111122223333:user/bob is not authorized to perform: s3:DeleteObject on '
    'resource: "arn:aws:s3:::b/k" because no identity-based policy allows the s3:DeleteObject action',
    "resource": "arn:aws:s3:::b/k",
    "matched": [],
}
ALLOWED = {
    "allowed": True,
    "decision": "allowed",
    "message": "",
    "resource": "arn:aws:s3:::b/k",
    "matched": [{"policy": "arn:aws:iam::111122223333:policy/read", "type": "identity-based policy", "sid": "",
                 "effect": "Allow"}],
}


def check(**args):
    return {"kind": "iam.access", "principal": "arn:aws:iam::{{ account_id }}:user/bob", **args}


def test_a_refusal_the_task_wants_passes_with_awss_reason():
    asked = []
    outcome = run_check(check(action="s3:DeleteObject", resource="arn:aws:s3:::b/k", allowed=False),
                        {"account_id": "111122223333"}, ctx_answering(REFUSED, asked))
    assert outcome.passed
    assert "because no identity-based policy allows the s3:DeleteObject action" in outcome.feedback
    assert asked == [("111122223333", {"principal": BOB, "action": "s3:DeleteObject",
                                        "resource": "arn:aws:s3:::b/k", "context": {}})]


def test_an_unwanted_allow_fails_naming_what_allowed_it():
    outcome = get_check("iam.access").run(ctx_answering(ALLOWED), principal=BOB, action="s3:DeleteObject",
                                          resource="arn:aws:s3:::b/k", allowed=False)
    assert not outcome.passed
    assert "bob must not be allowed s3:DeleteObject" in outcome.feedback
    assert "policy/read" in outcome.feedback


def test_a_missing_permission_fails_with_the_refusal_or_the_tasks_own_feedback():
    run = get_check("iam.access").run
    outcome = run(ctx_answering(REFUSED), principal=BOB, action="s3:DeleteObject", resource="arn:aws:s3:::b/k",
                  allowed=True)
    assert not outcome.passed and "IAM refuses" in outcome.feedback and "no identity-based policy" in outcome.feedback
    outcome = run(ctx_answering(REFUSED), principal=BOB, action="s3:DeleteObject", allowed=True,
                  feedback="bob must be able to tidy up")
    assert (outcome.passed, outcome.feedback) == (False, "bob must be able to tidy up")


def test_context_values_reach_iam_as_strings_and_lists():
    asked = []
    get_check("iam.access").run(ctx_answering(ALLOWED, asked), principal=BOB, action="s3:GetObject",
                                context={"aws:MultiFactorAuthPresent": True, "aws:MultiFactorAuthAge": 30,
                                         "aws:TagKeys": ["team", "env"]}, allowed=True)
    assert asked[0][1]["context"] == {"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "30",
                                      "aws:TagKeys": ["team", "env"]}


def test_an_unknown_principal_fails_the_check():
    outcome = run_check(check(action="s3:GetObject", allowed=True), {"account_id": "111122223333"},
                        ctx_answering(LookupError("there is no IAM user bob in this sandbox")))
    assert not outcome.passed and "no IAM user bob" in outcome.feedback


def test_the_schema_accepts_the_documented_form():
    from jsonschema import Draft202012Validator

    schema = get_check("iam.access").params_schema
    Draft202012Validator(schema).validate({"principal": BOB, "action": "s3:GetObject", "resource": "*",
                                           "context": {"aws:MultiFactorAuthPresent": "true"}, "allowed": True,
                                           "feedback": "x"})
    assert list(Draft202012Validator(schema).iter_errors({"principal": BOB, "action": "s3:GetObject"}))


def test_every_session_has_its_account_id_as_a_parameter():
    from labapp.grading.parameters import generate_params

    definition = {"parameters": {"account_id": {"generate": "fixed", "value": "999999999999"}}}
    assert generate_params(definition, user_id=1, account_id="123412341234") == {"account_id": "123412341234"}


# --- through the real emulator -------------------------------------------------------------------------


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.mark.django_db(transaction=True)
def test_the_emulator_decides_with_groups_bucket_policies_boundaries_and_trust(sandbox_stack):
    from labapp.sandbox import client as sandbox
    from tests.sandbox.helpers import make_sandbox

    box = make_sandbox(sandbox_stack.url)
    session, account = box.session, box.account_id
    iam, s3 = sandbox.client(session, "iam", source="setup"), sandbox.client(session, "s3", source="setup")
    bucket = f"reports-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/reports/*"}))
    iam.create_user(UserName="bob")
    iam.add_user_to_group(GroupName="readers", UserName="bob")
    iam.create_user(UserName="carol")  # no policy: only the bucket policy names her
    s3.put_bucket_policy(Bucket=bucket, Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/carol"}, "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/inbox/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/reports/secret*"}))
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/bob"}, "Action": "sts:AssumeRole"}))
    iam.put_role_policy(RoleName="app", PolicyName="mfa-read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}))

    ctx = CheckContext(params={"account_id": account}, client=lambda service: sandbox.client(session, service))
    params = {"account_id": account, "bucket": bucket}
    user = "arn:aws:iam::{{ account_id }}:user/"

    def outcome(**args):
        return run_check({"kind": "iam.access", **args}, params, ctx)

    read = outcome(principal=user + "bob", action="s3:GetObject", resource="arn:aws:s3:::{{ bucket }}/reports/q1.csv",
                   allowed=True)
    assert read.passed, read.feedback
    assert "group/readers" in read.feedback
    delete = outcome(principal=user + "bob", action="s3:DeleteObject",
                     resource="arn:aws:s3:::{{ bucket }}/reports/q1.csv", allowed=True)
    assert not delete.passed
    assert f"User: arn:aws:iam::{account}:user/bob is not authorized to perform: s3:DeleteObject" in delete.feedback
    assert "because no identity-based policy allows the s3:DeleteObject action" in delete.feedback
    secret = outcome(principal=user + "bob", action="s3:GetObject",
                     resource="arn:aws:s3:::{{ bucket }}/reports/secret.csv", allowed=False)
    assert secret.passed and "explicit deny in a resource-based policy" in secret.feedback
    assert outcome(principal=user + "carol", action="s3:PutObject", resource="arn:aws:s3:::{{ bucket }}/inbox/a",
                   allowed=True).passed
    assert outcome(principal=user + "carol", action="s3:PutObject", resource="arn:aws:s3:::{{ bucket }}/other",
                   allowed=False).passed
    role = "arn:aws:iam::{{ account_id }}:role/app"
    assert outcome(principal=role, action="s3:ListBucket", resource="arn:aws:s3:::{{ bucket }}", allowed=False).passed
    assert outcome(principal=role, action="s3:ListBucket", resource="arn:aws:s3:::{{ bucket }}",
                   context={"aws:MultiFactorAuthPresent": "true"}, allowed=True).passed
    # the trust policy is read for sts:AssumeRole, as enforcement reads it
    assert outcome(principal=user + "carol", action="sts:AssumeRole", resource=role, allowed=False).passed
    missing = outcome(principal=user + "dave", action="s3:GetObject", allowed=True)
    assert not missing.passed and "no IAM user dave" in missing.feedback
    # A principal of another account is never looked up: the question stays in the session's account.
    other = run_check({"kind": "iam.access", "principal": "arn:aws:iam::999999999999:user/bob",
                       "action": "s3:GetObject", "allowed": True}, params, ctx)
    assert not other.passed and "not a user or role of this sandbox's account" in other.feedback
    # A detached permission stops allowing at once (principals are rebuilt after every IAM write).
    iam.remove_user_from_group(GroupName="readers", UserName="bob")
    assert not outcome(principal=user + "bob", action="s3:GetObject",
                       resource="arn:aws:s3:::{{ bucket }}/reports/q1.csv", allowed=True).passed
