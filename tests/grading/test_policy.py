"""The graders' policy evaluator (labapp/grading/policy.py): what a policy does, however it is written."""

import json

import pytest

from labapp.grading.policy import ALLOW, DENY, IMPLICIT_DENY, applicable_statements, evaluate

ACCT = "123456789012"
OTHER = "210987654321"
ROLE = f"arn:aws:iam::{ACCT}:role/report-reader"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/report-reader/job-42"
USER = f"arn:aws:iam::{ACCT}:user/alice"
OBJ = "arn:aws:s3:::bkt/reports/q3.csv"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def st(effect="Allow", **fields):
    return {"Effect": effect, **fields}


def test_explicit_deny_wins_and_nothing_matching_is_implicit():
    policy = doc(st(Action="s3:*", Resource="*"), st("Deny", Action="s3:DeleteObject", Resource="arn:aws:s3:::bkt/*"))
    assert evaluate(policy, "s3:GetObject", OBJ) == ALLOW
    assert evaluate(policy, "s3:DeleteObject", OBJ) == DENY
    assert evaluate(policy, "ec2:RunInstances", "*") == IMPLICIT_DENY
    assert evaluate([], "s3:GetObject", OBJ) == IMPLICIT_DENY


def test_documents_may_be_json_text_bytes_lists_or_a_single_statement_object():
    one = json.dumps({"Statement": st(Action="s3:GetObject", Resource=OBJ)})
    two = json.dumps(doc(st("Deny", Action="s3:GetObject", Resource=OBJ))).encode()
    assert evaluate(one, "s3:GetObject", OBJ) == ALLOW
    assert evaluate([one, two], "s3:GetObject", OBJ) == DENY
    assert evaluate(["not json", one], "s3:GetObject", OBJ) == ALLOW


@pytest.mark.parametrize("pattern,action,hit", [
    ("s3:GetObject", "s3:getobject", True),      # action names are case-insensitive
    ("S3:Get*", "s3:GetObjectTagging", True),
    ("s3:*", "s3:DeleteObject", True),
    ("*", "kms:Decrypt", True),
    ("s3:Get?bject", "s3:GetObject", True),
    ("s3:Delete*", "s3:PutObject", False),
    ("s3:GetObject", "s3:GetObjectAcl", False),   # no implicit prefix match
])
def test_action_wildcards_and_case(pattern, action, hit):
    assert (evaluate(doc(st(Action=pattern, Resource="*")), action, OBJ) == ALLOW) is hit


def test_not_action_and_not_resource():
    policy = doc(st("Deny", NotAction=["s3:GetObject", "s3:ListBucket"], Resource="arn:aws:s3:::bkt/*"))
    assert evaluate(policy, "s3:DeleteObject", OBJ) == DENY
    assert evaluate(policy, "s3:getobject", OBJ) == IMPLICIT_DENY
    policy = doc(st(Action="s3:*", NotResource="arn:aws:s3:::bkt/secret/*"))
    assert evaluate(policy, "s3:GetObject", OBJ) == ALLOW
    assert evaluate(policy, "s3:GetObject", "arn:aws:s3:::bkt/secret/k") == IMPLICIT_DENY


def test_resources_are_case_sensitive_wildcards_and_need_the_object_arn():
    policy = doc(st(Action="s3:GetObject", Resource=["arn:aws:s3:::bkt/reports/*"]))
    assert evaluate(policy, "s3:GetObject", OBJ) == ALLOW
    assert evaluate(policy, "s3:GetObject", "arn:aws:s3:::bkt/Reports/q3.csv") == IMPLICIT_DENY
    assert evaluate(policy, "s3:GetObject", "arn:aws:s3:::bkt/other/x") == IMPLICIT_DENY
    # The bucket ARN does not cover its objects, and `*` crosses slashes.
    assert evaluate(doc(st(Action="s3:*", Resource="arn:aws:s3:::bkt")), "s3:GetObject", OBJ) == IMPLICIT_DENY
    assert evaluate(doc(st(Action="s3:*", Resource="arn:aws:s3:::bkt*")), "s3:GetObject", OBJ) == ALLOW


def test_policy_variables_in_resources():
    policy = doc(st(Action="s3:*", Resource="arn:aws:s3:::bkt/home/${aws:username}/*"))
    assert evaluate(policy, "s3:PutObject", "arn:aws:s3:::bkt/home/bob/a", context={"aws:username": "bob"}) == ALLOW
    assert evaluate(policy, "s3:PutObject", "arn:aws:s3:::bkt/home/eve/a", context={"aws:username": "bob"}) == IMPLICIT_DENY
    assert evaluate(policy, "s3:PutObject", "arn:aws:s3:::bkt/home/bob/a") == IMPLICIT_DENY  # unresolved
    literal = doc(st(Action="s3:*", Resource="arn:aws:s3:::bkt/${*}"))
    assert evaluate(literal, "s3:GetObject", "arn:aws:s3:::bkt/*") == ALLOW
    assert evaluate(literal, "s3:GetObject", OBJ) == IMPLICIT_DENY


@pytest.mark.parametrize("principal,caller,hit", [
    ("*", "anonymous", True),
    ({"AWS": "*"}, "anonymous", True),
    ({"AWS": "*"}, "cloudfront.amazonaws.com", True),
    ({"AWS": ROLE}, ROLE, True),
    ({"AWS": ROLE}, SESSION, True),                                   # sessions of the role
    ({"AWS": [USER, ROLE.replace("report-reader", "Report-Reader")]}, SESSION, True),  # IAM names: any case
    ({"AWS": f"arn:aws:iam::{ACCT}:role/team/report-reader"}, ROLE, True),  # a path still names the role
    ({"AWS": ROLE}, USER, False),
    ({"AWS": ROLE}, "anonymous", False),
    ({"AWS": ROLE}, f"arn:aws:iam::{OTHER}:role/report-reader", False),
    ({"AWS": ACCT}, USER, True),                                      # an account principal: all of it
    ({"AWS": f"arn:aws:iam::{ACCT}:root"}, SESSION, True),
    ({"AWS": f"arn:aws:iam::{ACCT}:root"}, f"arn:aws:iam::{OTHER}:user/x", False),
    ({"AWS": f"arn:aws:iam::{ACCT}:root"}, "anonymous", False),
    ({"Service": "cloudfront.amazonaws.com"}, "CloudFront.amazonaws.com", True),
    ({"Service": ["s3.amazonaws.com"]}, "cloudfront.amazonaws.com", False),
    ({"Service": "cloudfront.amazonaws.com"}, USER, False),
    ({"Federated": "cognito-identity.amazonaws.com"}, USER, False),
])
def test_principals(principal, caller, hit):
    policy = doc(st(Principal=principal, Action="s3:GetObject", Resource=OBJ))
    assert (evaluate(policy, "s3:GetObject", OBJ, principal=caller) == ALLOW) is hit


def test_principal_ignored_without_a_caller_and_not_principal():
    policy = doc(st(Principal={"AWS": ROLE}, Action="s3:GetObject", Resource=OBJ))
    assert evaluate(policy, "s3:GetObject", OBJ) == ALLOW
    policy = doc(st("Deny", NotPrincipal={"AWS": ROLE}, Action="s3:*", Resource="*"))
    assert evaluate(policy, "s3:GetObject", OBJ, principal=SESSION) == IMPLICIT_DENY
    assert evaluate(policy, "s3:GetObject", OBJ, principal=USER) == DENY


def test_trust_policy_without_resource():
    trust = doc(st(Principal={"Service": "ec2.amazonaws.com"}, Action="sts:AssumeRole"))
    assert evaluate(trust, "sts:AssumeRole", None, principal="ec2.amazonaws.com") == ALLOW
    assert evaluate(trust, "sts:AssumeRole", None, principal=USER) == IMPLICIT_DENY


TLS_DENY = st("Deny", Principal="*", Action="s3:*", Resource=["arn:aws:s3:::bkt", "arn:aws:s3:::bkt/*"],
              Condition={"Bool": {"aws:SecureTransport": "false"}})


@pytest.mark.parametrize("value", ["false", False, "FALSE", ["false"]])
def test_bool_condition_written_as_text_or_json_boolean(value):
    policy = doc({**TLS_DENY, "Condition": {"Bool": {"AWS:SecureTransport": value}}})
    assert evaluate(policy, "s3:DeleteObject", OBJ, "anonymous", {"aws:SecureTransport": "false"}) == DENY
    assert evaluate(policy, "s3:DeleteObject", OBJ, "anonymous", {"aws:securetransport": True}) == IMPLICIT_DENY
    # Without the key in the request, a positive operator does not hold.
    assert evaluate(policy, "s3:DeleteObject", OBJ, "anonymous") == IMPLICIT_DENY


def test_string_and_arn_operators():
    dist = f"arn:aws:cloudfront::{ACCT}:distribution/E2ABC"
    policy = doc(st(Principal={"Service": "cloudfront.amazonaws.com"}, Action="s3:GetObject", Resource="arn:aws:s3:::bkt/*",
                    Condition={"StringEquals": {"AWS:SourceArn": dist}}))
    cf = "cloudfront.amazonaws.com"
    assert evaluate(policy, "s3:GetObject", OBJ, cf, {"aws:SourceArn": dist}) == ALLOW
    assert evaluate(policy, "s3:GetObject", OBJ, cf, {"aws:SourceArn": dist.lower()}) == IMPLICIT_DENY
    assert evaluate(policy, "s3:GetObject", OBJ, cf) == IMPLICIT_DENY
    like = doc(st(Action="s3:GetObject", Resource="*", Condition={"ArnLike": {"aws:SourceArn": f"arn:aws:cloudfront::{ACCT}:*"}}))
    assert evaluate(like, "s3:GetObject", OBJ, context={"aws:SourceArn": dist}) == ALLOW
    # Arn* match component by component: a `*` in the account part does not swallow the resource part.
    parts = doc(st(Action="s3:GetObject", Resource="*", Condition={"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::*"}}))
    assert evaluate(parts, "s3:GetObject", OBJ, context={"aws:SourceArn": dist}) == IMPLICIT_DENY
    ignore = doc(st(Action="s3:GetObject", Resource="*", Condition={"StringEqualsIgnoreCase": {"s3:prefix": "Home/"}}))
    assert evaluate(ignore, "s3:GetObject", OBJ, context={"s3:prefix": "home/"}) == ALLOW


def test_negated_operators_and_missing_keys():
    policy = doc(st("Deny", Action="s3:PutObject", Resource="*",
                    Condition={"StringNotEquals": {"s3:x-amz-server-side-encryption": ["aws:kms", "aws:kms:dsse"]}}))
    assert evaluate(policy, "s3:PutObject", OBJ, context={"s3:x-amz-server-side-encryption": "AES256"}) == DENY
    assert evaluate(policy, "s3:PutObject", OBJ, context={"s3:x-amz-server-side-encryption": "aws:kms"}) == IMPLICIT_DENY
    assert evaluate(policy, "s3:PutObject", OBJ) == DENY  # key missing: a negated operator holds
    if_exists = doc(st("Deny", Action="s3:PutObject", Resource="*",
                       Condition={"StringEqualsIfExists": {"s3:x-amz-server-side-encryption": "AES256"}}))
    assert evaluate(if_exists, "s3:PutObject", OBJ) == DENY
    null = doc(st("Deny", Action="s3:PutObject", Resource="*", Condition={"Null": {"s3:x-amz-server-side-encryption": "true"}}))
    assert evaluate(null, "s3:PutObject", OBJ) == DENY
    assert evaluate(null, "s3:PutObject", OBJ, context={"s3:x-amz-server-side-encryption": "aws:kms"}) == IMPLICIT_DENY


def test_set_operators_numbers_ips_and_several_conditions_all_hold():
    any_value = doc(st(Action="*", Resource="*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "env"]}}))
    assert evaluate(any_value, "s3:PutObject", OBJ, context={"aws:TagKeys": ["x", "env"]}) == ALLOW
    all_values = doc(st(Action="*", Resource="*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}}))
    assert evaluate(all_values, "s3:PutObject", OBJ, context={"aws:TagKeys": ["x", "env"]}) == IMPLICIT_DENY
    assert evaluate(all_values, "s3:PutObject", OBJ, context={"aws:TagKeys": ["team"]}) == ALLOW
    both = doc(st(Action="*", Resource="*", Condition={"NumericLessThanEquals": {"s3:max-keys": "10"},
                                                        "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    assert evaluate(both, "s3:ListBucket", "*", context={"s3:max-keys": 5, "aws:SourceIp": "203.0.113.9"}) == ALLOW
    assert evaluate(both, "s3:ListBucket", "*", context={"s3:max-keys": 50, "aws:SourceIp": "203.0.113.9"}) == IMPLICIT_DENY
    assert evaluate(both, "s3:ListBucket", "*", context={"s3:max-keys": 5, "aws:SourceIp": "198.51.100.1"}) == IMPLICIT_DENY


def test_unknown_operator_makes_the_statement_not_apply():
    policy = doc(st("Deny", Action="*", Resource="*", Condition={"StringSoundsLike": {"aws:username": "bob"}}))
    assert evaluate(policy, "s3:GetObject", OBJ, context={"aws:username": "bob"}) == IMPLICIT_DENY


def test_principal_keys_come_from_the_caller():
    policy = doc(st("Deny", Principal="*", Action="s3:*", Resource="*",
                    Condition={"StringNotEquals": {"aws:PrincipalAccount": ACCT}}))
    assert evaluate(policy, "s3:GetObject", OBJ, principal=SESSION) == IMPLICIT_DENY
    assert evaluate(policy, "s3:GetObject", OBJ, principal=f"arn:aws:iam::{OTHER}:user/x") == DENY
    policy = doc(st(Principal="*", Action="s3:*", Resource="*", Condition={"ArnEquals": {"aws:PrincipalArn": ROLE}}))
    assert evaluate(policy, "s3:GetObject", OBJ, principal=SESSION) == ALLOW


def test_applicable_statements_can_ignore_conditions():
    policy = doc(TLS_DENY)
    https = {"aws:SecureTransport": "true"}
    assert applicable_statements(policy, "s3:DeleteObject", OBJ, "anonymous", https) == []
    assert applicable_statements(policy, "s3:DeleteObject", OBJ, "anonymous", https, conditions=False) == [TLS_DENY]
