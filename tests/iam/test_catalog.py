"""The Service Authorization Reference lookups the gateway mapping will use (labapp/iam/catalog.py)."""

import pytest

from labapp.iam import catalog


def test_actions_exist_case_insensitively_and_come_back_as_aws_spells_them():
    assert catalog.is_action("s3:GetObject") and catalog.is_action("S3:getobject")
    assert catalog.action("sts:assumerole").full_name == "sts:AssumeRole"
    assert not catalog.is_action("s3:GetObjects")
    assert not catalog.is_action("nosuchservice:Get")


def test_resource_types_of_an_action_with_their_arn_formats():
    types = {rt.name: rt for rt in catalog.resource_types("s3:GetObject")}
    assert types["object"].arn == "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
    assert [rt.name for rt in catalog.resource_types("sts:AssumeRole")] == ["role"]
    assert catalog.resource_types("sts:AssumeRole")[0].required
    assert catalog.resource_types("s3:ListAllMyBuckets") == ()  # Resource "*" only


@pytest.mark.parametrize("arn,expected", [
    ("arn:aws:s3:::bkt/reports/q3.csv", "object"),
    ("arn:aws:s3:::bkt", "bucket"),
    ("arn:aws:iam::111122223333:role/team/app", "role"),
    ("arn:aws:dynamodb:us-east-1:111122223333:table/orders", "table"),
    ("arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/by-date", "index"),
    ("arn:aws:sqs:us-east-1:111122223333:jobs", "queue"),
    ("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "key"),
    ("arn:aws:lambda:us-east-1:111122223333:function:resize", "function"),
])
def test_an_arn_is_recognised_as_its_resource_type(arn, expected):
    assert catalog.resource_type_of(arn) == expected
    service = arn.split(":")[2]
    assert catalog.arn_regex(service, expected).fullmatch(arn)


def test_resource_type_among_an_actions_types_and_unknown_arns():
    assert catalog.resource_type_of("arn:aws:s3:::bkt", "s3:ListBucket") == "bucket"
    assert catalog.resource_type_of("arn:aws:s3:::bkt/k", "s3:ListBucket") is None
    assert catalog.resource_type_of("not-an-arn") is None
    assert catalog.arn_regex("s3", "nosuchtype") is None


def test_condition_keys_for_an_action_and_their_types():
    keys = catalog.condition_keys("s3:ListBucket")
    assert {"s3:prefix", "s3:delimiter", "s3:max-keys"} <= keys
    assert "sts:ExternalId" in catalog.condition_keys("sts:AssumeRole")
    assert "s3:prefix" not in catalog.condition_keys("s3:PutObject")
    assert catalog.condition_key_type("s3:max-keys") == "Numeric"
    assert catalog.condition_key_type("s3:nonsense") is None
    assert catalog.is_global_key("aws:SourceIp") and not catalog.is_global_key("s3:prefix")
    assert catalog.data_version().startswith("0.1.")
