"""Live-panel listers for SQS."""

from . import MAX_ITEMS, lister


@lister("sqs.queues", "SQS queues", ["Name", "Messages", "In flight", "Policy"])
def sqs_queues(client):
    sqs = client("sqs")
    rows = []
    for url in sqs.list_queues().get("QueueUrls", [])[:MAX_ITEMS]:
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        rows.append([url.rsplit("/", 1)[-1], a.get("ApproximateNumberOfMessages", "0"),
                     a.get("ApproximateNumberOfMessagesNotVisible", "0"), "yes" if a.get("Policy") else "—"])
    return rows
