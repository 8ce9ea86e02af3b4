"""SQS check kinds: queue policies and messages."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from . import Check, CheckFailed, failed, passed, register, schema, string
from .s3 import _listify, action_matches, principal_values, policy_statements

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
    description = ("The queue's access policy allows a service principal to sqs:SendMessage, optionally only "
                   "when aws:SourceArn is the given ARN.")
    params_schema = schema({"queue": QUEUE, "service": string("e.g. s3.amazonaws.com"),
                            "source_arn": string("required aws:SourceArn condition value")}, ["queue", "service"])

    def run(self, ctx, *, queue, service, source_arn=None):
        url = queue_url(ctx, queue)
        attrs = ctx.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
        statements = policy_statements(attrs.get("Policy"))
        if not statements:
            return failed(f"{queue} has no access policy, so {service} cannot send to it")
        allow = [s for s in statements if s.get("Effect") == "Allow"
                 and any(action_matches(a, "sqs:SendMessage") for a in _listify(s.get("Action")))]
        if not allow:
            return failed(f"the policy of {queue} does not allow sqs:SendMessage")
        by_service = [s for s in allow if service in principal_values(s.get("Principal")) or "*" in principal_values(s.get("Principal"))]
        if not by_service:
            return failed(f"the policy of {queue} allows SendMessage, but not for the principal {service}")
        if source_arn:
            for s in by_service:
                values = [v for op in (s.get("Condition") or {}).values() if isinstance(op, dict)
                          for k, vs in op.items() if k.lower() == "aws:sourcearn" for v in _listify(vs)]
                if source_arn in values or any(action_matches(v, source_arn) for v in values):
                    return passed(f"{queue} accepts messages from {service} for {source_arn}")
            return failed(f"the policy of {queue} does not limit {service} to aws:SourceArn {source_arn} — without "
                          "it any bucket in any account could send to your queue")
        return passed(f"{queue} accepts messages from {service}")


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


_ = json  # imported for authors extending this module
