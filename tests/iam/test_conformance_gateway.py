"""The conformance suite (tests/iam/conformance/*.yaml) through the real gateway: for every case that maps onto
real principals, resources and requests, a fresh sandbox gets the case's IAM user or role (name, path,
tags, inline policies, permissions boundary), its bucket, queue, role, KMS key, EC2 instance or DynamoDB
table with the case's resource policy (bucket, queue, trust or key policy), and the principal's own keys then make the real SDK call. The decision (and, when refused, which
kind of policy refused, read from AWS's message) must be the one the case expects.

Which cases map is an explicit rule (`unmappable` says why a case does not), not a list:
- the caller is an IAM user without session policies, or a role session (AssumeRole with the case's
  session policies when it has any, as `Policy` and `PolicyArns`), in the sandbox's own account; no policy names another account;
- one concrete resource of the sandbox's account (no resource account of its own), for an action in
  OPERATIONS (a real call that needs just that permission);
- its identity, boundary and session policies are 2012-10-17 documents (IAM stores no other);
- every condition key the case gives is one a real request can carry with that value (s3:prefix,
  s3:delimiter, s3:max-keys on ListObjectsV2; aws:RequestedRegion of a lab region; aws:SecureTransport
  "false": the test gateway speaks http; sts:ExternalId on AssumeRole; aws:TagKeys of CreateTags); and no policy uses (in a condition or
  a variable) a key the real request sets but the case leaves out (aws:SourceIp, aws:CurrentTime, aws:userid,
  ...), since the two would then be decided on different contexts.
The suite asserts that at least a third of all cases map.
"""

from __future__ import annotations

import json
import re
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from labapp.iam.explain import context_keys
from tests.iam.test_conformance import ACCOUNT, CASES, _policies, _policy

LAB_REGIONS = ("us-east-1", "us-west-2")  # the test stack's (settings.LAB_REGIONS default)

# action -> the kind of resource it needs ("*" for none)
OPERATIONS = {
    "s3:getobject": "object", "s3:putobject": "object", "s3:deleteobject": "object",
    "s3:getobjectacl": "object", "s3:getobjecttagging": "object",
    "s3:listbucket": "bucket", "s3:deletebucket": "bucket",
    "s3:listallmybuckets": "*",
    "sqs:sendmessage": "queue",
    "iam:createuser": "user", "iam:getuser": "user", "iam:listusers": "*", "iam:listroles": "*",
    "sts:assumerole": "role",
    "kms:decrypt": "key",
    "ec2:createtags": "instance",
    "dynamodb:getitem": "table", "dynamodb:putitem": "table",
}
# keys a real request of these tests sets whatever the case says (so a policy using them, when the case
# leaves them out, would be decided on another context)
SET_BY_THE_REQUEST = ("aws:sourceip", "aws:securetransport", "aws:requestedregion", "aws:currenttime",
                      "aws:epochtime", "aws:userid", "aws:multifactorauthpresent", "aws:multifactorauthage",
                      "aws:tokenissuetime", "aws:resourcetag/", "s3:authtype", "s3:signatureversion",
                      "s3:resourceaccount", "s3:x-amz-", "aws:principalisawsservice", "aws:calledvia",
                      "aws:sourcearn", "aws:sourceaccount", "aws:viaawsservice", "aws:sourcevpc",
                      "aws:principalorgid", "aws:principalserviceName".lower(), "aws:federatedprovider",
                      "aws:sourceidentity", "aws:ec2instancesourcevpc", "aws:requesttag/", "aws:tagkeys",
                      "ec2:resourcetag/", "kms:", "dynamodb:")
LIST_KEYS = ("s3:prefix", "s3:delimiter", "s3:max-keys")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")


def _documents(case: dict, named: dict) -> list:
    found = []
    for field, single in (("identity", False), ("session", False), ("boundary", True), ("resource_policy", True)):
        spec = case.get(field)
        if spec is None:
            continue
        policies = [_policy(spec, named, field)] if single else _policies(spec, named, field)
        found += [p.document for p in policies]
    return found


def _keys_used(documents: list) -> set[str]:
    keys = {k.lower() for k in context_keys(documents)} if documents else set()
    for document in documents:
        for name in _VARIABLE.findall(json.dumps(document)):
            keys.add(name.split(",", 1)[0].strip().lower())
    return keys - {"*", "?", "$"}


def _producible(key: str, value, action: str) -> bool:
    key = key.lower()
    if isinstance(value, list) or not isinstance(value, str):
        return False
    if key in LIST_KEYS:
        return action == "s3:listbucket" and (key != "s3:max-keys" or value.isdigit())
    if key == "aws:requestedregion":
        return value in LAB_REGIONS
    if key == "aws:securetransport":
        return value == "false"
    if key == "sts:externalid":
        return action == "sts:assumerole" and bool(value)
    return False


def _producible_list(key: str, value, action: str) -> bool:
    """aws:TagKeys of a CreateTags call: the keys of its Tags (at least one: EC2 requires it)."""
    return key.lower() == "aws:tagkeys" and action == "ec2:createtags" and isinstance(value, list) and \
        bool(value) and all(isinstance(v, str) and v for v in value) and len(set(value)) == len(value)


def _resource_ok(kind: str, arn: str, account: str) -> bool:
    if kind == "*":
        return arn == "*"
    if "*" in arn or "?" in arn or "$" in arn:
        return False
    if kind in ("object", "bucket"):
        match = re.fullmatch(r"arn:aws:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/(.+))?", arn)
        return bool(match) and (kind == "object") == bool(match.group(3))
    if kind in ("queue", "key", "instance", "table"):
        parts = arn.split(":")
        service = {"queue": "sqs", "key": "kms", "instance": "ec2", "table": "dynamodb"}[kind]
        prefix = {"queue": "", "key": "key/", "instance": "instance/", "table": "table/"}[kind]
        return (len(parts) == 6 and parts[2] == service and parts[3] in LAB_REGIONS and parts[4] == account
                and parts[5].startswith(prefix) and "/" not in parts[5][len(prefix):])
    if kind in ("user", "role"):
        return re.fullmatch(rf"arn:aws:iam::{account}:{kind}/([\w+=,.@-]+/)*[\w+=,.@-]+", arn) is not None
    return False


def unmappable(case: dict, named: dict) -> str | None:
    """Why a case cannot be replayed with real principals and a real call, or None when it can."""
    spec = case["principal"]
    kind = spec.get("type", "user")
    if kind not in ("user", "role"):
        return f"the caller is a {kind} principal"
    if str(spec.get("account", ACCOUNT)) != ACCOUNT:
        return "the caller is in another account"
    if kind == "user" and case.get("session") is not None:
        return "a user with session policies (a federated session)"
    if kind == "role" and case.get("session") is not None and not case["session"]:
        return "an empty list of session policies"
    action = case["action"].lower()
    resource_kind = OPERATIONS.get(action)
    if resource_kind is None:
        return f"no single real call for {case['action']}"
    if case.get("resources") or str(case.get("resource_account", "") or ACCOUNT) != ACCOUNT:
        return "several resources, or a resource in another account"
    if not _resource_ok(resource_kind, case.get("resource", "*"), ACCOUNT):
        return f"no real {resource_kind} for {case.get('resource')}"
    if bool(case.get("policy_required")) != (action in ("sts:assumerole", "kms:decrypt")):
        return "a required resource policy other than a role's trust policy or a key policy"
    if case.get("resource_policy") is not None and resource_kind not in ("object", "bucket", "queue", "role", "key"):
        return "a resource policy on a resource without one"
    if resource_kind == "key" and case.get("resource_policy") is None:
        return "a KMS key without a key policy (a real key always has one)"
    if resource_kind == "instance" and not (case.get("context") or {}).get("aws:TagKeys"):
        return "ec2:CreateTags without tag keys (EC2 requires a tag)"
    documents = _documents(case, named)
    if any(isinstance(d, dict) and d.get("Version") != "2012-10-17" for d in _documents({**case, "resource_policy": None}, named)):
        return "an identity policy without Version 2012-10-17 (the emulator's IAM, like AWS's, stores none)"
    accounts = set(_ACCOUNT_ID.findall(json.dumps(documents))) - {ACCOUNT}
    if accounts:
        return "a policy names another account"
    context = case.get("context") or {}
    for key, value in context.items():
        if not (_producible(key, value, action) or _producible_list(key, value, action)):
            return f"the context key {key} = {value!r} cannot be set by a real request"
    given = {k.lower() for k in context}
    for key in _keys_used(documents):
        if key not in given and key.startswith(SET_BY_THE_REQUEST):
            return f"a policy uses {key}, which the real request sets and the case leaves out"
    if kind == "role" and "aws:username" in _keys_used(documents):
        return "aws:username for a role session"
    return None


SELECTED = [p for p in CASES if unmappable(*p.values) is None]


def test_a_representative_third_of_the_suite_runs_through_the_gateway():
    reasons: dict[str, int] = {}
    for p in CASES:
        why = unmappable(*p.values)
        if why is not None:
            reasons[why] = reasons.get(why, 0) + 1
    print(f"\n{len(SELECTED)} of {len(CASES)} conformance decisions through the gateway; the others:")
    for why, count in sorted(reasons.items(), key=lambda item: -item[1]):
        print(f"  {count:4d}  {why}")
    assert 3 * len(SELECTED) >= len(CASES)
    files = {p.id.split(":", 1)[0] for p in SELECTED}
    assert len(files) >= 6, files  # every part of the evaluation logic, not one file's worth


# --- replaying a case ---------------------------------------------------------------------------------------


REASONS = (
    ("because no identity-based policy allows", "implicit-deny:identity"),
    ("because no resource-based policy allows", "implicit-deny:resource"),
    ("because no permissions boundary allows", "implicit-deny:boundary"),
    ("because no session policy allows", "implicit-deny:session"),
    ("with an explicit deny in an identity-based policy", "explicit-deny:identity"),
    ("with an explicit deny in a resource-based policy", "explicit-deny:resource"),
    ("with an explicit deny in a permissions boundary", "explicit-deny:boundary"),
    ("with an explicit deny in a session policy", "explicit-deny:session"),
)


def reason_of(message: str) -> str:
    return next((kind for text, kind in REASONS if text in message), f"unrecognised refusal: {message}")


class Replay:
    def __init__(self, box, case: dict, named: dict):
        self.box, self.case, self.named = box, case, named
        self.account = box.account_id
        self.admin = {s: box.client(s, region=self.region) for s in ("iam", "s3", "sqs", "sts", "kms", "ec2",
                                                                      "dynamodb")}
        self.renamed: dict[str, str] = {}  # the case's resource ids -> the real ones (KMS keys, instances)
        self.cleanup = []

    @property
    def region(self) -> str:
        return (self.case.get("context") or {}).get("aws:RequestedRegion") or next(
            (v for k, v in (self.case.get("context") or {}).items() if k.lower() == "aws:requestedregion"),
            "us-east-1")

    def text(self, value) -> str:
        """A document or ARN of the case, in the sandbox's account."""
        text = (value if isinstance(value, str) else json.dumps(value)).replace(ACCOUNT, self.account)
        for old, new in self.renamed.items():
            text = text.replace(old, new)
        return text

    def docs(self, field: str) -> list[str]:
        spec = self.case.get(field)
        if spec is None:
            return []
        policies = [_policy(spec, self.named, field)] if field in ("boundary", "resource_policy") else \
            _policies(spec, self.named, field)
        return [self.text(p.document) for p in policies]

    def managed(self, document: str) -> str:
        return self.admin["iam"].create_policy(PolicyName=f"p-{uuid.uuid4().hex[:10]}",
                                               PolicyDocument=document)["Policy"]["Arn"]

    # the caller

    def caller(self) -> dict:
        spec, iam = self.case["principal"], self.admin["iam"]
        tags = [{"Key": k, "Value": v} for k, v in (spec.get("tags") or {}).items()]
        boundary = [self.managed(d) for d in self.docs("boundary")]
        extra = {"PermissionsBoundary": boundary[0]} if boundary else {}
        if tags:
            extra["Tags"] = tags
        if spec.get("type", "user") == "user":
            name = spec.get("name", "bob")
            iam.create_user(UserName=name, Path=spec.get("path", "/"), **extra)
            for i, document in enumerate(self.docs("identity")):
                iam.put_user_policy(UserName=name, PolicyName=f"identity-{i}", PolicyDocument=document)
            key = iam.create_access_key(UserName=name)["AccessKey"]
            return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        role = spec.get("role", "app")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{self.account}:root"},
             "Action": ["sts:AssumeRole", "sts:TagSession"]}]})
        arn = iam.create_role(RoleName=role, Path=spec.get("path", "/"), AssumeRolePolicyDocument=trust,
                              **extra)["Role"]["Arn"]
        for i, document in enumerate(self.docs("identity")):
            iam.put_role_policy(RoleName=role, PolicyName=f"identity-{i}", PolicyDocument=document)
        session = self.docs("session")
        assume = {"RoleArn": arn, "RoleSessionName": spec.get("session", "s1")}
        if session:
            assume["Policy"] = session[0]
            if session[1:]:
                assume["PolicyArns"] = [{"arn": self.managed(d)} for d in session[1:]]
        credentials = self.admin["sts"].assume_role(**assume)["Credentials"]
        return {"aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"]}

    def client(self, service: str, credentials: dict):
        from tests.sandbox.helpers import LEARNER_CONFIG

        return boto3.client(service, endpoint_url=self.box.gateway_url, region_name=self.region,
                            config=LEARNER_CONFIG, **credentials)

    # the resource, and the call

    def prepare(self):
        """The resource with the case's resource policy; returns the call to make with the caller's client."""
        action, arn = self.case["action"].lower(), self.text(self.case.get("resource", "*"))
        resource_policy = self.docs("resource_policy")
        context = {k.lower(): v for k, v in (self.case.get("context") or {}).items()}
        if action.startswith("s3:") and arn != "*":
            bucket, _, key = arn[len("arn:aws:s3:::"):].partition("/")
            s3 = self.admin["s3"]
            if self.region != "us-east-1":
                s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
            else:
                s3.create_bucket(Bucket=bucket)
            self.cleanup.append(lambda: self._drop_bucket(bucket))
            if key:
                s3.put_object(Bucket=bucket, Key=key, Body=b"conformance")
            if resource_policy:
                s3.put_bucket_policy(Bucket=bucket, Policy=resource_policy[0])
            calls = {
                "s3:getobject": ("s3", "get_object", {"Bucket": bucket, "Key": key}),
                "s3:putobject": ("s3", "put_object", {"Bucket": bucket, "Key": key, "Body": b"x"}),
                "s3:deleteobject": ("s3", "delete_object", {"Bucket": bucket, "Key": key}),
                "s3:getobjectacl": ("s3", "get_object_acl", {"Bucket": bucket, "Key": key}),
                "s3:getobjecttagging": ("s3", "get_object_tagging", {"Bucket": bucket, "Key": key}),
                "s3:deletebucket": ("s3", "delete_bucket", {"Bucket": bucket}),
            }
            if action == "s3:listbucket":
                params = {"Bucket": bucket}
                for name, param in (("s3:prefix", "Prefix"), ("s3:delimiter", "Delimiter"), ("s3:max-keys", "MaxKeys")):
                    if name in context:
                        params[param] = int(context[name]) if param == "MaxKeys" else context[name]
                return "s3", "list_objects_v2", params
            return calls[action]
        if action == "s3:listallmybuckets":
            return "s3", "list_buckets", {}
        if action == "sqs:sendmessage":
            name = arn.rsplit(":", 1)[-1]
            attributes = {"Policy": resource_policy[0]} if resource_policy else {}
            url = self.admin["sqs"].create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            return "sqs", "send_message", {"QueueUrl": url, "MessageBody": "conformance"}
        if action in ("iam:createuser", "iam:getuser"):
            path, _, name = arn.split(":user", 1)[1].rpartition("/")
            if action == "iam:getuser" and name not in self._users():
                self.admin["iam"].create_user(UserName=name, Path=(path or "") + "/")
            if action == "iam:createuser":
                return "iam", "create_user", {"UserName": name, "Path": (path or "") + "/"}
            return "iam", "get_user", {"UserName": name}
        if action in ("iam:listusers", "iam:listroles"):
            return "iam", action.split(":")[1].replace("list", "list_"), {}
        if action == "kms:decrypt":
            old = arn.rsplit("/", 1)[-1]
            kms = self.admin["kms"]
            key = kms.create_key(Policy=resource_policy[0])["KeyMetadata"]["KeyId"]
            self.renamed[old] = key
            blob = kms.encrypt(KeyId=key, Plaintext=b"conformance")["CiphertextBlob"]
            return "kms", "decrypt", {"KeyId": key, "CiphertextBlob": blob}
        if action == "ec2:createtags":
            ec2 = self.admin["ec2"]
            image = ec2.describe_images()["Images"][0]["ImageId"]
            instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
            self.renamed[arn.rsplit("/", 1)[-1]] = instance
            tags = [{"Key": k, "Value": "v"} for k in context["aws:tagkeys"]]
            return "ec2", "create_tags", {"Resources": [instance], "Tags": tags}
        if action in ("dynamodb:getitem", "dynamodb:putitem"):
            table = arn.rsplit("/", 1)[-1]
            self.admin["dynamodb"].create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "ID", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "ID", "AttributeType": "S"}])
            if action == "dynamodb:getitem":
                return "dynamodb", "get_item", {"TableName": table, "Key": {"ID": {"S": "1"}}}
            return "dynamodb", "put_item", {"TableName": table, "Item": {"ID": {"S": "1"}}}
        if action == "sts:assumerole":
            name = arn.rsplit("/", 1)[-1]
            path = arn.split(":role", 1)[1].rsplit("/", 1)[0] + "/"
            self.admin["iam"].create_role(RoleName=name, Path=path,
                                          AssumeRolePolicyDocument=resource_policy[0] if resource_policy else
                                          json.dumps({"Version": "2012-10-17", "Statement": []}))
            params = {"RoleArn": arn, "RoleSessionName": "conformance"}
            if "sts:externalid" in context:
                params["ExternalId"] = context["sts:externalid"]
            return "sts", "assume_role", params
        raise AssertionError(f"unmapped action {action}")

    def _users(self) -> set[str]:
        return {u["UserName"] for u in self.admin["iam"].list_users()["Users"]}

    def _drop_bucket(self, bucket: str) -> None:
        # bucket names are global in the emulator: the next case may use the same one
        s3 = self.admin["s3"]
        try:
            s3.delete_bucket_policy(Bucket=bucket)
            for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
            s3.delete_bucket(Bucket=bucket)
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchBucket":
                raise

    def decide(self) -> str:
        try:
            service, operation, params = self.prepare()
            credentials = self.caller()
            try:
                getattr(self.client(service, credentials), operation)(**params)
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code not in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
                    raise
                return reason_of(error.response["Error"].get("Message", ""))
            return "allow"
        finally:
            for undo in reversed(self.cleanup):
                undo()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case,named", SELECTED)
def test_through_the_gateway(sandbox_stack, case, named):
    from tests.sandbox.helpers import make_sandbox

    box = make_sandbox(sandbox_stack.url)
    decided = Replay(box, case, named).decide()
    assert decided == case["expect"], case.get("why") or case.get("name")
