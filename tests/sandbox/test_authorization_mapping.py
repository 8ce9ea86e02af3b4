"""Every operation of every service the labs use has an IAM action we can vouch for, or is listed as unmapped
(and so refused to every evaluated principal); none that a lab's solutions, alternatives or near misses call
is unmapped."""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path

import pytest
import yaml
from botocore import xform_name
from botocore.loaders import create_loader
from botocore.model import ServiceModel

from labapp.iam import catalog
from labapp.sandbox.authorization import actions

COURSES = Path(__file__).resolve().parents[2] / "courses"
# `aws s3 <command>` -> the S3 operations it calls
S3_HIGH_LEVEL = {
    "ls": ("ListObjectsV2", "ListBuckets"),
    "cp": ("PutObject", "GetObject", "CopyObject", "HeadObject"),
    "mv": ("CopyObject", "DeleteObject", "PutObject"),
    "rm": ("DeleteObject", "ListObjectsV2"),
    "mb": ("CreateBucket",),
    "rb": ("DeleteBucket",),
    "sync": ("ListObjectsV2", "PutObject", "CopyObject"),
    "presign": (),
    "website": ("PutBucketWebsite",),
}
CLI_SERVICE = {"s3api": "s3"}


@cache
def model(service: str) -> ServiceModel:
    return ServiceModel(create_loader().load_service_model(service, "service-2"), service_name=service)


def lab_files():
    return sorted(COURSES.glob("*/*/labs/*.yaml"))


def lab_services() -> set[str]:
    found = set()
    for path in lab_files():
        found.update(yaml.safe_load(path.read_text()).get("services") or [])
    return found


def _commands(lab: dict):
    def steps(solution):
        for step in solution or []:
            yield step["run"] if isinstance(step, dict) else step

    yield from steps(lab.get("solution"))
    for group in ("alternatives", "near_misses"):
        for variant in lab.get(group) or []:
            yield from steps(variant.get("solution"))


def operations_labs_call() -> set[tuple[str, str]]:
    called = set()
    for path in lab_files():
        for command in _commands(yaml.safe_load(path.read_text())):
            words = shlex.split(re.sub(r"\{\{[^}]*\}\}", "x", command))
            if len(words) < 3 or words[0] != "aws":
                continue
            service = CLI_SERVICE.get(words[1], words[1])
            if words[1] == "s3":
                called.update(("s3", op) for op in S3_HIGH_LEVEL.get(words[2], ()))
                continue
            by_cli = {xform_name(op, "-"): op for op in model(service).operation_names}
            if words[2] in by_cli:
                called.add((service, by_cli[words[2]]))
    return called


def unmapped(service: str) -> list[str]:
    return sorted(op for op in model(service).operation_names if actions.action_name(service, op) is None)


def test_the_labs_call_only_mapped_operations():
    called = operations_labs_call()
    assert ("sts", "AssumeRole") in called and ("s3", "ListObjectsV2") in called  # the parse works
    missing = sorted(
        f"{s}:{op}"
        for s, op in called
        if actions.action_name(s, op) is None and (s, op) not in actions.ALWAYS_ALLOWED
    )
    assert missing == []


def test_every_unmapped_operation_of_the_lab_services_is_listed(capsys):
    report = {service: unmapped(service) for service in sorted(lab_services())}
    with capsys.disabled():
        for service, names in report.items():
            if names:
                print(
                    f"\nunmapped {service} ({len(names)}/{len(model(service).operation_names)}): "
                    + ", ".join(names)
                )
    # What is left is newer than the Service Authorization Reference the catalog ships, or not S3 proper.
    assert not {"CreateUser", "AttachUserPolicy", "CreateRole", "PassRole"} & set(report["iam"])
    assert not {"GetObject", "PutObject", "ListObjectsV2", "PutBucketPolicy"} & set(report["s3"])
    assert not {"AssumeRole", "GetFederationToken", "DecodeAuthorizationMessage"} & set(report["sts"])


@pytest.mark.parametrize(
    "operation, versioned, expected",
    [
        ("ListObjects", False, "s3:ListBucket"),
        ("ListObjectsV2", False, "s3:ListBucket"),
        ("HeadBucket", False, "s3:ListBucket"),
        ("HeadObject", False, "s3:GetObject"),
        ("GetObject", True, "s3:GetObjectVersion"),
        ("HeadObject", True, "s3:GetObjectVersion"),
        ("DeleteObject", True, "s3:DeleteObjectVersion"),
        ("CopyObject", False, "s3:PutObject"),
        ("ListBuckets", False, "s3:ListAllMyBuckets"),
        ("DeleteBucketCors", False, "s3:PutBucketCORS"),
        ("GetBucketEncryption", False, "s3:GetEncryptionConfiguration"),
        ("PutPublicAccessBlock", False, "s3:PutBucketPublicAccessBlock"),
    ],
)
def test_s3_operations_need_the_permissions_aws_documents(operation, versioned, expected):
    assert actions.action_name("s3", operation, versioned=versioned) == expected


def test_resources_come_from_the_reference_arn_formats():
    assert actions.resources_for("iam:CreateUser", {"UserName": "bob"}, "111122223333", "us-east-1") == [
        "arn:aws:iam::111122223333:user/bob"
    ]
    assert actions.resources_for(
        "sts:AssumeRole", {"RoleArn": "arn:aws:iam::111122223333:role/r"}, "111122223333", "us-east-1"
    ) == ["arn:aws:iam::111122223333:role/r"]
    assert actions.resources_for("ec2:DescribeVpcs", {}, "111122223333", "us-east-1") == ["*"]
    assert actions.resources_for(
        "ec2:TerminateInstances", {"InstanceIds": ["i-1", "i-2"]}, "111122223333", "us-east-1"
    ) == [
        "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-2",
    ]
    assert catalog.is_action(actions.action_name("elbv2", "CreateLoadBalancer"))
