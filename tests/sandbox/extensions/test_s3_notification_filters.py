"""S3 notification filter rule names in any letter case (labapp/sandbox/extensions/s3_notification_filters.py),
through the real gateway and emulator."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox

pytestmark = pytest.mark.django_db(transaction=True)


def _queue(sb, bucket):
    sqs = sb.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sb.client("s3").create_bucket(Bucket=bucket)
    return sqs, url, arn


def _config(arn, *rules):
    return {"QueueConfigurations": [{"Id": "n", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                     "Filter": {"Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in rules]}}}]}


def test_capitalised_filter_rule_names_are_accepted_and_filter(sandbox_stack):
    sb = make_sandbox(sandbox_stack.url)
    bucket = f"events-{sb.account_id}"
    sqs, url, arn = _queue(sb, bucket)
    s3 = sb.client("s3")
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=_config(arn, ("Prefix", "images/"), ("SUFFIX", ".jpg")))
    rules = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]["Filter"]["Key"]["FilterRules"]
    assert sorted((r["Name"].lower(), r["Value"]) for r in rules) == [("prefix", "images/"), ("suffix", ".jpg")]
    sqs.purge_queue(QueueUrl=url)  # the s3:TestEvent
    s3.put_object(Bucket=bucket, Key="docs/a.jpg", Body=b"x")   # wrong prefix: filtered out
    s3.put_object(Bucket=bucket, Key="images/a.png", Body=b"x")  # wrong suffix: filtered out
    s3.put_object(Bucket=bucket, Key="images/cat.jpg", Body=b"x")
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
    keys = [unquote_plus(r["s3"]["object"]["key"])  # event keys are URL-encoded, as on AWS
            for b in bodies for r in json.loads(b).get("Records", [])]
    assert keys == ["images/cat.jpg"]


def test_unknown_filter_rule_name_is_a_400_not_a_500(sandbox_stack):
    sb = make_sandbox(sandbox_stack.url)
    bucket = f"badrule-{sb.account_id}"
    _, _, arn = _queue(sb, bucket)
    with pytest.raises(ClientError) as caught:
        sb.client("s3").put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration=_config(arn, ("Extension", ".jpg")))
    assert caught.value.response["Error"]["Code"] == "InvalidArgument"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
