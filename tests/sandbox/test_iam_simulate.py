"""The IAM policy simulator (labapp/sandbox/extensions/iam_simulate.py) through the gateway with boto3: the
same engine that enforces IAM answers in AWS's response shapes."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from labapp.sandbox.extensions.iam_simulate import statement_positions
from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

READ_REPORTS = json.dumps({
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::reports",
         "Condition": {"StringLike": {"s3:prefix": "team/*"}}},
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"},
        {"Sid": "NoPayroll", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::reports/payroll/*"},
    ],
}, indent=2)


def by(results):
    return {(r["EvalActionName"], r["EvalResourceName"]): r for r in results["EvaluationResults"]}


@pytest.fixture
def iam(sandbox_stack):
    return make_sandbox(sandbox_stack.url).client("iam")


def test_a_users_and_its_groups_policies_decide_with_the_deciding_statements_located(iam):
    iam.create_user(UserName="bob")
    iam.create_group(GroupName="analysts")
    iam.add_user_to_group(GroupName="analysts", UserName="bob")
    iam.put_group_policy(GroupName="analysts", PolicyName="reports", PolicyDocument=READ_REPORTS)
    bob = iam.get_user(UserName="bob")["User"]["Arn"]
    found = by(iam.simulate_principal_policy(
        PolicySourceArn=bob, ActionNames=["s3:GetObject", "s3:DeleteObject"],
        ResourceArns=["arn:aws:s3:::reports/q1.csv", "arn:aws:s3:::reports/payroll/june.csv"]))
    read = found[("s3:GetObject", "arn:aws:s3:::reports/q1.csv")]
    assert read["EvalDecision"] == "allowed"
    [statement] = read["MatchedStatements"]
    assert statement["SourcePolicyId"] == "reports" and statement["SourcePolicyType"] == "group"
    # the "Read" statement of the indented document: line 15, from its `{` to just after its `}`
    assert statement["StartPosition"] == {"Line": 15, "Column": 5}
    assert statement["EndPosition"] == {"Line": 20, "Column": 6}
    assert found[("s3:DeleteObject", "arn:aws:s3:::reports/q1.csv")]["EvalDecision"] == "implicitDeny"
    assert found[("s3:DeleteObject", "arn:aws:s3:::reports/q1.csv")]["MatchedStatements"] == []
    payroll = found[("s3:GetObject", "arn:aws:s3:::reports/payroll/june.csv")]
    assert payroll["EvalDecision"] == "explicitDeny"
    assert [s["SourcePolicyId"] for s in payroll["MatchedStatements"]] == ["reports"]
    assert payroll["EvalDecisionDetails"] == {}  # same account, with a resource: present and empty


def test_context_entries_and_missing_context_values(iam):
    iam.create_user(UserName="carol")
    iam.put_user_policy(UserName="carol", PolicyName="reports", PolicyDocument=READ_REPORTS)
    carol = iam.get_user(UserName="carol")["User"]["Arn"]
    without = iam.simulate_principal_policy(PolicySourceArn=carol, ActionNames=["s3:ListBucket"],
                                            ResourceArns=["arn:aws:s3:::reports"])["EvaluationResults"][0]
    assert without["EvalDecision"] == "implicitDeny"
    assert without["MissingContextValues"] == ["s3:prefix"]
    with_prefix = iam.simulate_principal_policy(
        PolicySourceArn=carol, ActionNames=["s3:ListBucket"], ResourceArns=["arn:aws:s3:::reports"],
        ContextEntries=[{"ContextKeyName": "s3:prefix", "ContextKeyValues": ["team/a"], "ContextKeyType": "string"}],
    )["EvaluationResults"][0]
    assert with_prefix["EvalDecision"] == "allowed" and with_prefix["MissingContextValues"] == []
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=carol)["ContextKeyNames"]
    assert keys == ["s3:prefix"]


def test_custom_policies_with_a_boundary_and_a_resource_policy(iam):
    iam.create_user(UserName="dave")
    dave = iam.get_user(UserName="dave")["User"]["Arn"]
    account = dave.split(":")[4]
    allow_all_s3 = json.dumps({"Version": "2012-10-17",
                               "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})
    read_only = json.dumps({"Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]})
    result = by(iam.simulate_custom_policy(
        PolicyInputList=[allow_all_s3], PermissionsBoundaryPolicyInputList=[read_only],
        ActionNames=["s3:GetObject", "s3:PutObject"]))
    get, put = result[("s3:GetObject", "*")], result[("s3:PutObject", "*")]
    assert get["EvalDecision"] == "allowed"
    assert get["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": True}
    assert get["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    assert get["MatchedStatements"][0]["StartPosition"] == {"Line": 1, "Column": 40}
    assert "EvalDecisionDetails" not in get  # all resources: not returned
    assert put["EvalDecision"] == "implicitDeny"
    assert put["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    # A resource policy naming the caller grants without an identity policy; it needs a caller.
    bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": dave}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})
    with pytest.raises(ClientError) as raised:
        iam.simulate_custom_policy(PolicyInputList=[read_only], ResourcePolicy=bucket_policy,
                                   ActionNames=["s3:GetObject"], ResourceArns=["arn:aws:s3:::b/k"])
    assert raised.value.response["Error"]["Code"] == "InvalidInput"
    granted = iam.simulate_custom_policy(
        PolicyInputList=[json.dumps({"Version": "2012-10-17", "Statement": []})], ResourcePolicy=bucket_policy,
        CallerArn=dave, ResourceOwner=f"arn:aws:iam::{account}:root",
        ActionNames=["s3:GetObject"], ResourceArns=["arn:aws:s3:::b/k"])["EvaluationResults"][0]
    assert granted["EvalDecision"] == "allowed"
    assert granted["MatchedStatements"][0]["SourcePolicyId"] == "ResourcePolicy"
    assert granted["MatchedStatements"][0]["SourcePolicyType"] == "resource"
    # The gateway keeps a sandbox to its own account, ARNs of the simulation included.
    with pytest.raises(ClientError) as raised:
        iam.simulate_custom_policy(PolicyInputList=[read_only], ResourcePolicy=bucket_policy, CallerArn=dave,
                                   ResourceOwner="arn:aws:iam::999999999999:root", ActionNames=["s3:GetObject"],
                                   ResourceArns=["arn:aws:s3:::b/k"])
    assert raised.value.response["Error"]["Code"] == "AccessDenied"


def test_across_accounts_the_details_say_which_side_refused(monkeypatch):
    """(In the emulator's process: a session owning one account cannot name another through the gateway.)"""
    from types import SimpleNamespace

    from labapp.iam import Principal
    from labapp.sandbox.authorization import principals
    from labapp.sandbox.extensions.iam_simulate import simulate

    dave = SimpleNamespace(name="dave", path="/", id="AIDAEXAMPLEEXAMPLE1")
    iam = SimpleNamespace(account_id="111122223333", users={"dave": dave})
    monkeypatch.setattr(principals, "user_principal", lambda iam, user: Principal.user(iam.account_id, user.name))
    arn = "arn:aws:iam::111122223333:user/dave"
    bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})
    params = {"PolicyInputList": [json.dumps({"Version": "2012-10-17", "Statement": []})],
              "ResourcePolicy": bucket_policy, "CallerArn": arn, "ActionNames": ["s3:GetObject"],
              "ResourceArns": ["arn:aws:s3:::b/k"]}
    same = simulate(iam, {**params, "ResourceOwner": "arn:aws:iam::111122223333:root"})["EvaluationResults"][0]
    assert (same["EvalDecision"], same["EvalDecisionDetails"]) == ("allowed", {})
    other = simulate(iam, {**params, "ResourceOwner": "444455556666"})["EvaluationResults"][0]
    assert other["EvalDecision"] == "implicitDeny"
    assert other["EvalDecisionDetails"] == {"IAM Policy": "implicitDeny", "Resource Policy": "allowed"}


def test_a_role_with_its_attached_boundary_and_errors_as_aws_names_them(iam):
    boundary = iam.create_policy(PolicyName="only-sqs", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}))["Policy"]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="worker", AssumeRolePolicyDocument=trust,
                           PermissionsBoundary=boundary["Arn"])["Role"]
    iam.attach_role_policy(RoleName="worker", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    found = by(iam.simulate_principal_policy(PolicySourceArn=role["Arn"],
                                             ActionNames=["sqs:SendMessage", "s3:ListAllMyBuckets"]))
    send = found[("sqs:SendMessage", "*")]
    assert send["EvalDecision"] == "allowed"
    assert send["MatchedStatements"][0] == {
        **send["MatchedStatements"][0], "SourcePolicyId": "arn:aws:iam::aws:policy/AdministratorAccess",
        "SourcePolicyType": "aws-managed"}
    assert found[("s3:ListAllMyBuckets", "*")]["EvalDecision"] == "implicitDeny"
    assert found[("s3:ListAllMyBuckets", "*")]["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": False}
    with pytest.raises(ClientError) as raised:
        iam.simulate_principal_policy(PolicySourceArn=role["Arn"].replace("worker", "nobody"),
                                      ActionNames=["s3:GetObject"])
    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as raised:
        iam.simulate_custom_policy(PolicyInputList=["{not json"], ActionNames=["s3:GetObject"])
    assert raised.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {
            "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})])
    assert keys["ContextKeyNames"] == ["aws:MultiFactorAuthPresent", "aws:SourceIp"]


def test_statement_positions_follow_the_text():
    assert statement_positions('{"Statement":[{"a":1},\n  {"b":2}]}') == [((1, 15), (1, 22)), ((2, 3), (2, 10))]
    assert statement_positions('{"Version":"x","Statement":{"a":1}}') == [((1, 28), (1, 35))]
    assert statement_positions("not json") == []


def test_a_user_needs_iam_permission_to_simulate(sandbox_stack):
    import boto3

    from tests.sandbox.helpers import LEARNER_CONFIG

    box = make_sandbox(sandbox_stack.url)
    iam = box.client("iam")
    iam.create_user(UserName="erin")
    key = iam.create_access_key(UserName="erin")["AccessKey"]
    erin = boto3.client("iam", endpoint_url=box.gateway_url, region_name="us-east-1", config=LEARNER_CONFIG,
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    with pytest.raises(ClientError) as raised:
        erin.simulate_custom_policy(PolicyInputList=[READ_REPORTS], ActionNames=["s3:GetObject"])
    assert "is not authorized to perform: iam:SimulateCustomPolicy" in raised.value.response["Error"]["Message"]
    iam.put_user_policy(UserName="erin", PolicyName="simulate", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Simulate*", "Resource": "*"}]}))
    result = erin.simulate_custom_policy(PolicyInputList=[READ_REPORTS], ActionNames=["s3:GetObject"],
                                         ResourceArns=["arn:aws:s3:::reports/a"])["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"
