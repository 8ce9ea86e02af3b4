"""IAM role, instance profile and STS check kinds."""

import json

from labapp.grading.grader import run_check


def check(sb, kind, journal=None, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx(journal=journal))


def trust(principal):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})


def test_role_trusts(sandbox):
    iam = sandbox.client("iam")
    assert "does not exist" in check(sandbox, "iam.role_trusts", role="r", service="ec2.amazonaws.com").feedback
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust({"Service": "lambda.amazonaws.com"}))
    out = check(sandbox, "iam.role_trusts", role="r", service="ec2.amazonaws.com")
    assert not out.passed and "Service lambda.amazonaws.com" in out.feedback
    iam.update_assume_role_policy(RoleName="r", PolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    assert check(sandbox, "iam.role_trusts", role="r", service="ec2.amazonaws.com").passed
    assert not check(sandbox, "iam.role_trusts", role="r", same_account=True).passed
    iam.update_assume_role_policy(RoleName="r", PolicyDocument=trust({"AWS": f"arn:aws:iam::{sandbox.account_id}:root"}))
    assert check(sandbox, "iam.role_trusts", role="r", same_account=True).passed


def test_role_allows(sandbox):
    iam = sandbox.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    assert "no permission policies" in check(sandbox, "iam.role_allows", role="r", action="s3:GetObject").feedback
    iam.put_role_policy(RoleName="r", PolicyName="all", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    assert check(sandbox, "iam.role_allows", role="r", action="s3:GetObject").passed
    out = check(sandbox, "iam.role_allows", role="r", action="s3:GetObject", no_wildcard=True)
    assert not out.passed and "least privilege" in out.feedback
    iam.delete_role_policy(RoleName="r", PolicyName="all")
    arn = iam.create_policy(PolicyName="read", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}]}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="r", PolicyArn=arn)
    assert check(sandbox, "iam.role_allows", role="r", action="s3:GetObject", resource="arn:aws:s3:::b/x", no_wildcard=True).passed
    out = check(sandbox, "iam.role_allows", role="r", action="s3:GetObject", resource="arn:aws:s3:::other/x")
    assert not out.passed and "on arn:aws:s3:::other/x" in out.feedback


def test_instance_profile_and_instance(sandbox):
    iam, ec2 = sandbox.client("iam"), sandbox.client("ec2")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    assert "does not exist" in check(sandbox, "iam.instance_profile", profile="p", role="r").feedback
    iam.create_instance_profile(InstanceProfileName="p")
    out = check(sandbox, "iam.instance_profile", profile="p", role="r")
    assert not out.passed and "no role" in out.feedback
    iam.add_role_to_instance_profile(InstanceProfileName="p", RoleName="r")
    assert check(sandbox, "iam.instance_profile", profile="p", role="r").passed

    assert "no instance named app" in check(sandbox, "iam.instance_uses_role", role="r", name_tag="app").feedback
    image = ec2.describe_images()["Images"]
    ami = image[0]["ImageId"] if image else "ami-12c6146b"
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "app"}]}]
    ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, TagSpecifications=tags)
    out = check(sandbox, "iam.instance_uses_role", role="r", name_tag="app")
    assert not out.passed and "has no instance profile" in out.feedback
    ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, TagSpecifications=tags, IamInstanceProfile={"Name": "p"})
    assert check(sandbox, "iam.instance_uses_role", role="r", name_tag="app").passed


def test_role_assumed_and_used(sandbox):
    iam, sts = sandbox.client("iam"), sandbox.client("sts")
    arn = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=trust({"AWS": sandbox.account_id}))["Role"]["Arn"]
    assert "has not been assumed" in check(sandbox, "sts.role_assumed", journal=[], role="deployer").feedback
    rows = [{"action": "AssumeRole", "service": "sts", "source": "learner", "status": 200,
             "params": {"RoleArn": arn, "RoleSessionName": "s1"}}]
    assert check(sandbox, "sts.role_assumed", journal=rows, role="deployer").passed
    assert check(sandbox, "sts.role_assumed", journal=rows, role_arn=arn, session_name="s1").passed
    out = check(sandbox, "sts.role_assumed", journal=rows, role="deployer", session_name="s2")
    assert not out.passed and "session name s1, not s2" in out.feedback
    out = check(sandbox, "sts.role_assumed", journal=[dict(rows[0], status=403, error_code="AccessDenied")], role="deployer")
    assert not out.passed and "refused" in out.feedback

    out = check(sandbox, "iam.role_used", role="deployer")
    assert not out.passed and "no request has been made" in out.feedback
    creds = sts.assume_role(RoleArn=arn, RoleSessionName="s1")["Credentials"]
    import boto3
    from botocore.config import Config
    temp = boto3.client("sts", region_name="us-east-1", endpoint_url=sandbox.endpoint,
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"], config=Config(retries={"max_attempts": 1}))
    account = sandbox.account_id
    temp.meta.events.register("before-send", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
    assert "assumed-role/deployer/s1" in temp.get_caller_identity()["Arn"]
    assert check(sandbox, "iam.role_used", role="deployer").passed


def test_decode_check():
    from labapp.grading.checks import CheckContext

    kind = "sts.authorization_message_decoded"
    assert not run_check({"kind": kind}, {}, CheckContext(journal=[])).passed
    bad = [{"action": "DecodeAuthorizationMessage", "source": "learner", "status": 400}]
    assert "pass the whole encoded message" in run_check({"kind": kind}, {}, CheckContext(journal=bad)).feedback
    good = [dict(bad[0], status=200)]
    assert run_check({"kind": kind}, {}, CheckContext(journal=good)).passed


# --- trust and permissions judged by meaning (labapp.grading.policy) ------------------------------

def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume(principal, **extra):
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


def test_role_trusts_refuses_a_role_anyone_can_assume(sandbox):
    iam = sandbox.client("iam")
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=doc(assume({"AWS": "*"})))
    out = check(sandbox, "iam.role_trusts", role="deployer", same_account=True)
    assert not out.passed and "anyone in any AWS account" in out.feedback
    # Root of the account and "*" side by side: the "*" still opens it to everyone.
    iam.update_assume_role_policy(RoleName="deployer", PolicyDocument=doc(
        assume({"AWS": f"arn:aws:iam::{sandbox.account_id}:root"}), assume("*")))
    assert not check(sandbox, "iam.role_trusts", role="deployer", same_account=True).passed
    # Another account instead of your own.
    iam.update_assume_role_policy(RoleName="deployer", PolicyDocument=doc(assume({"AWS": "arn:aws:iam::999999999999:root"})))
    out = check(sandbox, "iam.role_trusts", role="deployer", same_account=True)
    assert not out.passed and "does not trust your account" in out.feedback


def test_role_trusts_accepts_equivalent_ways_of_naming_your_account(sandbox):
    iam = sandbox.client("iam")
    me = sandbox.account_id
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=doc(assume({"AWS": me})))
    assert check(sandbox, "iam.role_trusts", role="deployer", same_account=True).passed  # bare account id
    # "*" limited to your account by a condition, the action as a list.
    iam.update_assume_role_policy(RoleName="deployer", PolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["sts:AssumeRole"],
         "Condition": {"StringEquals": {"aws:PrincipalAccount": me}}}))
    assert check(sandbox, "iam.role_trusts", role="deployer", same_account=True).passed
    # Your own identity, by ARN.
    arn = sandbox.client("sts").get_caller_identity()["Arn"]
    iam.update_assume_role_policy(RoleName="deployer", PolicyDocument=doc(assume({"AWS": [arn]})))
    assert check(sandbox, "iam.role_trusts", role="deployer", same_account=True).passed


def test_role_trusts_deny_and_conditions_that_never_hold(sandbox):
    iam = sandbox.client("iam")
    me = f"arn:aws:iam::{sandbox.account_id}:root"
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=doc(
        assume({"AWS": me}), {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:*"}))
    out = check(sandbox, "iam.role_trusts", role="deployer", same_account=True)
    assert not out.passed and "Deny" in out.feedback
    iam.update_assume_role_policy(RoleName="deployer", PolicyDocument=doc(
        assume({"AWS": me}, Condition={"Bool": {"aws:SecureTransport": "false"}})))
    out = check(sandbox, "iam.role_trusts", role="deployer", same_account=True)
    assert not out.passed and "Condition does not hold" in out.feedback


def test_service_trust_with_confused_deputy_conditions(sandbox):
    iam = sandbox.client("iam")
    iam.create_role(RoleName="rep", AssumeRolePolicyDocument=doc(assume(
        {"Service": "s3.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": sandbox.account_id},
                                                     "ArnLike": {"aws:SourceArn": "arn:aws:s3:::orders"}})))
    assert check(sandbox, "iam.role_trusts", role="rep", service="s3.amazonaws.com", source_arn="arn:aws:s3:::orders").passed
    out = check(sandbox, "iam.role_trusts", role="rep", service="s3.amazonaws.com", source_arn="arn:aws:s3:::other")
    assert not out.passed and "Condition" in out.feedback
    # A service role that anyone may assume as well.
    iam.update_assume_role_policy(RoleName="rep", PolicyDocument=doc(assume({"Service": "s3.amazonaws.com"}), assume("*")))
    out = check(sandbox, "iam.role_trusts", role="rep", service="s3.amazonaws.com")
    assert not out.passed and "anyone" in out.feedback


LEAST = [{"action": "s3:PutObject", "resource": "arn:aws:s3:::releases/app.zip"},
         {"action": "s3:DeleteBucket", "resource": "arn:aws:s3:::releases"},
         {"action": "s3:ListBucket", "resource": "arn:aws:s3:::other-team"},
         {"action": "iam:CreateAccessKey", "resource": "arn:aws:iam::ACCOUNT_ID:user/admin"}]


def test_role_denies_catches_broad_managed_policies(sandbox):
    iam = sandbox.client("iam")
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=doc(assume({"AWS": sandbox.account_id})))
    full = iam.create_policy(PolicyName="S3Full", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="deployer", PolicyArn=full)
    assert check(sandbox, "iam.role_allows", role="deployer", action="s3:ListBucket", resource="arn:aws:s3:::releases").passed
    out = check(sandbox, "iam.role_denies", role="deployer", requests=LEAST, asked="listing releases")
    assert not out.passed and "may also s3:PutObject on arn:aws:s3:::releases/app.zip (through S3Full)" in out.feedback
    # Deny wins: the same managed policy with writes and other buckets denied is limited enough.
    iam.put_role_policy(RoleName="deployer", PolicyName="guard", PolicyDocument=doc(
        {"Effect": "Deny", "Action": ["s3:Put*", "s3:Delete*"], "Resource": "*"},
        {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": ["arn:aws:s3:::releases", "arn:aws:s3:::releases/*"]}))
    assert check(sandbox, "iam.role_denies", role="deployer", requests=LEAST).passed
    assert check(sandbox, "iam.role_allows", role="deployer", action="s3:ListBucket", resource="arn:aws:s3:::releases").passed
    out = check(sandbox, "iam.role_allows", role="deployer", action="s3:PutObject", resource="arn:aws:s3:::releases/a")
    assert not out.passed and "explicit Deny" in out.feedback


def test_role_allows_split_statements_and_read_wildcards(sandbox):
    iam = sandbox.client("iam")
    iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=doc(assume({"AWS": sandbox.account_id})))
    iam.put_role_policy(RoleName="deployer", PolicyName="list", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": ["arn:aws:s3:::releases"]}))
    iam.put_role_policy(RoleName="deployer", PolicyName="read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["s3:GetObject*"], "Resource": "arn:aws:s3:::releases/*"}))
    assert check(sandbox, "iam.role_allows", role="deployer", action="S3:listbucket", resource="arn:aws:s3:::releases").passed
    assert check(sandbox, "iam.role_denies", role="deployer", requests=LEAST).passed
    out = check(sandbox, "iam.role_allows", role="deployer", action="s3:GetObject", resource="arn:aws:s3:::releases/a",
                no_wildcard=True)
    assert not out.passed and "only through a wildcard in read (inline)" in out.feedback
    # A permissions boundary that leaves out ListBucket takes it away.
    boundary = iam.create_policy(PolicyName="objects-only", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))["Policy"]["Arn"]
    iam.put_role_permissions_boundary(RoleName="deployer", PermissionsBoundary=boundary)
    out = check(sandbox, "iam.role_allows", role="deployer", action="s3:ListBucket", resource="arn:aws:s3:::releases")
    assert not out.passed and "permissions boundary objects-only" in out.feedback


def test_role_assumed_finds_a_role_with_a_path(sandbox):
    iam = sandbox.client("iam")
    arn = iam.create_role(RoleName="deployer", Path="/ci/", AssumeRolePolicyDocument=trust({"AWS": sandbox.account_id}))["Role"]["Arn"]
    assert ":role/ci/deployer" in arn
    rows = [{"action": "AssumeRole", "service": "sts", "source": "learner", "status": 200,
             "params": {"RoleArn": arn, "RoleSessionName": "s1"}}]
    assert check(sandbox, "sts.role_assumed", journal=rows, role="deployer", session_name="s1").passed
    assert "does not exist" in check(sandbox, "sts.role_assumed", journal=rows, role="nobody").feedback


def test_instance_profile_associated_after_launch(sandbox):
    iam, ec2 = sandbox.client("iam"), sandbox.client("ec2")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    iam.create_instance_profile(InstanceProfileName="p")
    iam.add_role_to_instance_profile(InstanceProfileName="p", RoleName="r")
    image = ec2.describe_images()["Images"]
    ami = image[0]["ImageId"] if image else "ami-12c6146b"
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "app"}]}]
    instance = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, TagSpecifications=tags)["Instances"][0]["InstanceId"]
    assert not check(sandbox, "iam.instance_uses_role", role="r", name_tag="app").passed
    ec2.associate_iam_instance_profile(InstanceId=instance, IamInstanceProfile={"Name": "p"})
    assert check(sandbox, "iam.instance_uses_role", role="r", name_tag="app").passed


def test_ec2_role_with_extra_read_access_is_not_least_privilege(sandbox):
    iam = sandbox.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=trust({"Service": "ec2.amazonaws.com"}))
    iam.put_role_policy(RoleName="r", PolicyName="read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::cfg/*"}))
    probes = [{"action": "s3:GetObject", "resource": "arn:aws:s3:::other/secret"},
              {"action": "s3:PutObject", "resource": "arn:aws:s3:::cfg/config.json"}]
    assert check(sandbox, "iam.role_allows", role="r", action="s3:GetObject", resource="arn:aws:s3:::cfg/config.json",
                 no_wildcard=True).passed
    assert check(sandbox, "iam.role_denies", role="r", requests=probes).passed
    iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    out = check(sandbox, "iam.role_denies", role="r", requests=probes)
    assert not out.passed and "may also s3:GetObject on arn:aws:s3:::other/secret (through ReadOnlyAccess)" in out.feedback


def test_role_trusts_refuses_a_second_principal_beside_the_one_asked_for(sandbox):
    """"X and nobody else": a copied Lambda trust beside EC2, EC2 beside your account, or your account
    beside a service each let someone else become the role."""
    iam = sandbox.client("iam")
    me = f"arn:aws:iam::{sandbox.account_id}:root"
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=doc(
        assume({"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]})))
    out = check(sandbox, "iam.role_trusts", role="app", service="ec2.amazonaws.com")
    assert not out.passed and "also lets the service lambda.amazonaws.com assume it" in out.feedback
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=doc(
        assume({"Service": "ec2.amazonaws.com"}), assume({"AWS": me})))
    out = check(sandbox, "iam.role_trusts", role="app", service="ec2.amazonaws.com")
    assert not out.passed and "the IAM users and roles of your account" in out.feedback
    out = check(sandbox, "iam.role_trusts", role="app", same_account=True)
    assert not out.passed and "also lets the service ec2.amazonaws.com" in out.feedback
    # The service in a list, and again in a second statement: still EC2 only.
    iam.update_assume_role_policy(RoleName="app", PolicyDocument=doc(
        assume({"Service": ["ec2.amazonaws.com"]}), {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": ["sts:AssumeRole"]}))
    assert check(sandbox, "iam.role_trusts", role="app", service="ec2.amazonaws.com").passed
