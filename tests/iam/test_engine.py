"""The IAM engine's interface: decisions, their reasons and matched statements, caching, failure = deny."""

from labapp.iam import (ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Policy, Principal, Request, Resource,
                        compile_policy, evaluate, is_allowed)
from labapp.iam.compiler import cache_info

A = "111122223333"
V = "2012-10-17"


def doc(*statements):
    return {"Version": V, "Statement": list(statements)}


def allow(action, resource="*", **kw):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **kw}


def deny(action, resource="*", **kw):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **kw}


def test_the_refusal_reads_like_aws_and_names_what_was_missing():
    bob = Principal.user(A, "bob", identity_policies=[doc(allow("s3:GetObject", "arn:aws:s3:::b/*"))])
    d = evaluate(bob, Request("s3:PutObject", "arn:aws:s3:::b/k"))
    assert not d and d.effect == IMPLICIT_DENY and d.reason_kind == "implicit-deny:identity"
    assert d.message == (f"User: arn:aws:iam::{A}:user/bob is not authorized to perform: s3:PutObject on "
                         'resource: "arn:aws:s3:::b/k" because no identity-based policy allows the '
                         "s3:PutObject action")
    # Services other than S3 do not quote the ARN; an action without a resource has no "on resource".
    d = evaluate(bob, Request("dynamodb:PutItem", f"arn:aws:dynamodb:us-east-1:{A}:table/t"))
    assert f"on resource: arn:aws:dynamodb:us-east-1:{A}:table/t because" in d.message
    assert "on resource" not in evaluate(bob, Request("s3:ListAllMyBuckets")).message


def test_explicit_deny_names_the_policy_kind_and_the_statement():
    policy = Policy(doc(allow("s3:*"), {**deny("s3:DeleteObject"), "Sid": "NoDelete"}),
                    f"arn:aws:iam::{A}:policy/p")
    bob = Principal.user(A, "bob", identity_policies=[policy])
    d = evaluate(bob, Request("s3:DeleteObject", "arn:aws:s3:::b/k"))
    assert d.effect == EXPLICIT_DENY
    assert d.message.endswith("with an explicit deny in an identity-based policy")
    assert [(m.policy_id, m.sid, m.index, m.effect) for m in d.matched] == [
        (f"arn:aws:iam::{A}:policy/p", "", 0, "Allow"), (f"arn:aws:iam::{A}:policy/p", "NoDelete", 1, "Deny")]
    assert "NoDelete" in d.matched[1].label()


def test_boundary_and_session_wording():
    everything = doc(allow("*"))
    role = Principal.role_session(A, "app", "s1", identity_policies=[everything],
                                  boundary=doc(allow("s3:*")), session_policies=[doc(allow("s3:GetObject"))])
    assert evaluate(role, Request("sqs:SendMessage")).message.endswith(
        "because no permissions boundary allows the sqs:SendMessage action")
    assert evaluate(role, Request("s3:PutObject", "arn:aws:s3:::b/k")).message.endswith(
        "because no session policy allows the s3:PutObject action")
    assert evaluate(role, Request("s3:GetObject", "arn:aws:s3:::b/k")).effect == ALLOW
    assert evaluate(role, Request("s3:GetObject")).message == ""


def test_an_unreadable_policy_is_a_refusal_never_an_allow():
    for broken in ["not json", {"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]},
                   doc(allow("*", Condition={"StringSoundsLike": {"aws:username": "bob"}})),
                   doc(allow("*", Condition={"NumericLessThan": {"s3:max-keys": "ten"}}))]:
        bob = Principal.user(A, "bob", identity_policies=[doc(allow("*")), broken])
        d = evaluate(bob, Request("s3:GetObject", "arn:aws:s3:::b/k"))
        assert not d.allowed and d.reason_kind == "error", broken
        assert "could not be evaluated" in d.message


def test_compiled_policies_are_cached_by_content_and_a_changed_policy_takes_effect():
    first = doc(allow("s3:GetObject"))
    assert compile_policy(first) is compile_policy(dict(first))
    assert compile_policy(first) is not compile_policy(doc(allow("s3:PutObject")))
    assert cache_info() >= 2
    # The enforcement step rebuilds the Principal from the stored policies after every IAM write:
    bob = Principal.user(A, "bob", identity_policies=[first])
    assert is_allowed(bob, "s3:GetObject", "arn:aws:s3:::b/k")
    detached = Principal.user(A, "bob", identity_policies=[])
    assert not is_allowed(detached, "s3:GetObject", "arn:aws:s3:::b/k")


def test_every_resource_of_a_request_must_be_allowed():
    bob = Principal.user(A, "bob", identity_policies=[doc(allow("s3:*", "arn:aws:s3:::src/*"))])
    d = evaluate(bob, Request("s3:GetObject", ("arn:aws:s3:::src/a", "arn:aws:s3:::dst/a")))
    assert not d and d.resource == "arn:aws:s3:::dst/a"


def test_resource_policies_by_arn_and_required_policies():
    bucket = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:user/bob"},
                  "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    bob = Principal.user(A, "bob")
    assert evaluate(bob, Request("s3:GetObject", "arn:aws:s3:::b/k"), {"arn:aws:s3:::b/k": bucket}).allowed
    elsewhere = {"arn:aws:s3:::other": bucket}
    assert not evaluate(bob, Request("s3:GetObject", "arn:aws:s3:::b/k"), elsewhere).allowed
    key = f"arn:aws:kms:us-east-1:{A}:key/1"
    admin = Principal.user(A, "admin", identity_policies=[doc(allow("kms:*"))])
    other = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:user/x"}, "Action": "kms:*",
                 "Resource": "*"})
    no_key_policy_grant = Resource(key, policy=other, policy_required=True)
    d = evaluate(admin, Request("kms:Decrypt", (no_key_policy_grant,)))
    assert d.reason_kind == "implicit-deny:resource"


def test_decisions_in_the_shape_of_decode_authorization_message_and_the_context_keys_policies_use():
    from labapp.iam.explain import authorization_message, context_keys

    only_micro = {**deny("ec2:RunInstances", Condition={"StringNotEquals": {"ec2:InstanceType": "t3.micro"}}),
                  "Sid": "OnlyMicro"}
    policy = Policy(doc(only_micro, allow("ec2:*")), f"arn:aws:iam::{A}:policy/ec2")
    bob = Principal.user(A, "bob", identity_policies=[policy])
    instance = f"arn:aws:ec2:us-east-1:{A}:instance/*"
    d = evaluate(bob, Request("ec2:RunInstances", instance, {"ec2:InstanceType": "m5.large"}))
    message = authorization_message(d)
    assert message["allowed"] is False and message["explicitDeny"] is True
    assert message["matchedStatements"]["items"][0]["statementId"] == "OnlyMicro"
    assert message["context"]["action"] == "ec2:RunInstances" and message["context"]["resource"] == instance
    assert message["context"]["principal"]["arn"] == f"arn:aws:iam::{A}:user/bob"
    m5 = {"key": "ec2:instancetype", "values": {"items": [{"value": "m5.large"}]}}
    assert m5 in message["context"]["conditions"]["items"]

    tls = allow("s3:*", Condition={"Bool": {"aws:SecureTransport": "true"},
                                   "StringEquals": {"EC2:InstanceType": "x"}})
    assert context_keys([policy.document, doc(tls)]) == ["aws:SecureTransport", "ec2:InstanceType"]
