"""SQS check kinds: queue policies and messages."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from labapp.grading import policy

from . import Check, CheckFailed, failed, passed, register, schema, string

QUEUE = string("queue name")


def queue_url(ctx, queue: str) -> str:
    try:
        return ctx.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
    except ClientError as err:
        if "NonExistentQueue" in str(err.response.get("Error", {}).get("Code", "")):
            raise CheckFailed(f"queue {queue} does not exist") from None
        raise


@register("sqs.queue_policy_allows")
class QueuePolicyAllows(Check):
    description = ("The queue's access policy, judged by what it does (Allow/Deny, wildcards, conditions), lets "
                   "a service principal sqs:SendMessage (optionally only on behalf of the resource `source_arn`), "
                   "and lets nobody else send: no other AWS account, no anonymous caller, and with `source_arn` "
                   "not the service on behalf of any other resource.")
    params_schema = schema({"queue": QUEUE, "service": string("e.g. s3.amazonaws.com"),
                            "source_arn": string("the only aws:SourceArn the service may send for")}, ["queue", "service"])

    def run(self, ctx, *, queue, service, source_arn=None):
        url = queue_url(ctx, queue)
        attrs = ctx.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "QueueArn"])["Attributes"]
        document, queue_arn = attrs.get("Policy"), attrs["QueueArn"]
        if not policy.statements(document):
            return failed(f"{queue} has no access policy, so {service} cannot send to it")
        account = queue_arn.split(":")[4]
        base = {"aws:SecureTransport": "true", "aws:SourceAccount": account}
        mine = {**base, **({"aws:SourceArn": source_arn} if source_arn else {})}
        decision = policy.evaluate(document, "sqs:SendMessage", queue_arn, service, mine)
        if decision != policy.ALLOW:
            if decision == policy.DENY:
                return failed(f"a Deny in the policy of {queue} stops {service} from sending to it")
            if policy.applicable_statements(document, "sqs:SendMessage", queue_arn, service, mine, conditions=False):
                return failed(f"the policy of {queue} names {service}, but its Condition does not hold for "
                              + (source_arn or "its requests") + " — compare aws:SourceArn with the bucket's ARN")
            return failed(f"the policy of {queue} does not let {service} sqs:SendMessage to {queue_arn}")
        strangers = [(f"arn:aws:iam::{_OTHER_ACCOUNT}:user/someone-else", base, "anyone in any AWS account"),
                     (policy.ANONYMOUS, base, "anyone on the internet (unsigned requests)")]
        if source_arn:
            for other in (f"{source_arn}-other", "arn:aws:s3:::another-bucket"):
                strangers.append((service, {**base, "aws:SourceArn": other}, f"{service} on behalf of {other}"))
            strangers.append((service, {"aws:SecureTransport": "true", "aws:SourceAccount": _OTHER_ACCOUNT,
                                        "aws:SourceArn": "arn:aws:s3:::someone-elses-bucket"},
                              f"{service} for a bucket in another account"))
        for principal, context, who in strangers:
            if policy.evaluate(document, "sqs:SendMessage", queue_arn, principal, context) == policy.ALLOW:
                why = (" — without an aws:SourceArn condition any bucket in any account could send to your queue"
                       if principal == service else " — name only the service principal, with a condition")
                return failed(f"the policy of {queue} also lets {who} send messages{why}")
        return passed(f"{queue} accepts messages from {service}" + (f" for {source_arn} only" if source_arn else ""))


_OTHER_ACCOUNT = "999999999999"


@register("sqs.message_received")
class MessageReceived(Check):
    description = "The queue holds (or held, still in flight) at least `min` messages whose body contains `contains`."
    params_schema = schema({"queue": QUEUE, "contains": string("text the body must contain"),
                            "min": {"type": "integer", "minimum": 1, "default": 1}}, ["queue"])

    def run(self, ctx, *, queue, contains=None, min=1):  # noqa: A002
        url = queue_url(ctx, queue)
        sqs = ctx.client("sqs")
        attrs = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        total = int(attrs.get("ApproximateNumberOfMessages", 0)) + int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
        if contains is None:
            if total >= min:
                return passed(f"{queue} has {total} message(s)")
            return failed(f"{queue} has {total} message(s), {min} needed")
        # Peek without consuming: receive with VisibilityTimeout 0 so the learner still sees them.
        seen = 0
        for _ in range(3):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
            seen = max(seen, sum(1 for m in got if contains in m.get("Body", "")))
            if seen >= min:
                return passed(f"{queue} received a message mentioning {contains}")
        if total:
            return failed(f"{queue} has {total} message(s), but none mentions {contains}")
        return failed(f"{queue} has no messages — nothing arrived yet")


@register("sqs.s3_event_received")
class S3EventReceived(Check):
    description = ("The queue holds (or held, in flight) an S3 event notification (not the s3:TestEvent) from the "
                   "bucket for an object the learner uploaded (journal), optionally with a key prefix and suffix.")
    params_schema = schema({"queue": QUEUE, "bucket": string("bucket the event must come from"),
                            "event": {"type": "string", "default": "ObjectCreated",
                                      "description": "event name prefix, e.g. ObjectCreated"},
                            "prefix": {"type": "string"}, "suffix": {"type": "string"}}, ["queue", "bucket"])

    def run(self, ctx, *, queue, bucket, event="ObjectCreated", prefix="", suffix=""):
        url = queue_url(ctx, queue)
        sqs = ctx.client("sqs")
        uploaded = {(r.get("params") or {}).get("Key") for r in ctx.journal
                    if r.get("source") == "learner" and r.get("action") in _UPLOADS
                    and (r.get("params") or {}).get("Bucket") == bucket and 200 <= int(r.get("status") or 0) < 300}
        seen_keys, other = [], 0
        for _ in range(3):  # peek without consuming (VisibilityTimeout 0), so the learner still sees them
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []):
                records = _s3_records(message.get("Body", ""))
                other += not records
                for record in records:
                    if record.get("eventSource") != "aws:s3" or not str(record.get("eventName", "")).startswith(event):
                        other += 1
                        continue
                    s3 = record.get("s3") or {}
                    key = unquote_plus((s3.get("object") or {}).get("key", ""))
                    if (s3.get("bucket") or {}).get("name") != bucket or not (key.startswith(prefix or "") and key.endswith(suffix or "")):
                        other += 1
                        continue
                    if key in uploaded:
                        return passed(f"{queue} received the {record['eventName']} event of {key} from {bucket}")
                    seen_keys.append(key)
        if seen_keys:
            return failed(f"{queue} holds events for {', '.join(sorted(set(seen_keys)))}, but you never uploaded "
                          f"those keys to {bucket} — upload a photo yourself")
        if other:
            return failed(f"{queue} holds messages, but no {event} event of a key like {prefix or ''}*{suffix or ''} "
                          f"from {bucket} (the s3:TestEvent does not count) — upload one after saving the configuration")
        return failed(f"{queue} has no event messages — upload a key like {prefix or ''}photo{suffix or ''} to {bucket} "
                      "after saving the notification configuration (and do not delete the message)")


_UPLOADS = ("PutObject", "CopyObject", "CompleteMultipartUpload", "PostObject")


def _s3_records(body: str) -> list[dict]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return []
    records = parsed.get("Records") if isinstance(parsed, dict) else None
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
