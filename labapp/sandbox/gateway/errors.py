"""Refusals in the shape each AWS protocol uses, so SDKs and the CLI show the code and message
(and retry throttling errors) exactly as they would against AWS."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

JSON_PROTOCOL_MARKERS = ("application/x-amz-json", "application/json")
REST_JSON_SERVICES = {"lambda", "apigateway", "execute-api", "ecs", "eks", "appsync", "batch", "glacier"}


@dataclass
class Refusal(Exception):
    """A request the gateway will not forward. `status` and `code` follow what AWS would answer."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def invalid_key(service: str) -> Refusal:
    if service == "s3":
        return Refusal(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    return Refusal(403, "InvalidClientTokenId", "The security token included in the request is invalid.")


def access_denied(message: str) -> Refusal:
    return Refusal(403, "AccessDenied", message)


def throttled(service: str) -> Refusal:
    # Both codes are in botocore's retry list, so SDKs back off and try again.
    if service == "s3":
        return Refusal(503, "SlowDown", "Please reduce your request rate.")
    return Refusal(429, "ThrottlingException", "Rate exceeded")


def overloaded_body() -> bytes:
    """What a connection beyond the gateway's caps is told (before any request is read, so in S3's XML;
    every SDK retries a 503 whatever its body)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>The lab gateway has too many '
        "open connections; retry shortly.</Message></Error>"
    ).encode()


def render(refusal: Refusal, *, service: str, environ: dict) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) for `refusal` in the protocol the caller speaks."""
    request_id = str(uuid.uuid4())
    content_type = environ.get("CONTENT_TYPE", "").lower()
    code, message = escape(refusal.code), escape(refusal.message)
    headers = [("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id)]
    if environ.get("HTTP_X_AMZ_TARGET") or any(m in content_type for m in JSON_PROTOCOL_MARKERS) or (
        service in REST_JSON_SERVICES
    ):
        import json

        body = json.dumps({"__type": refusal.code, "message": refusal.message, "Message": refusal.message}).encode()
        headers += [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", refusal.code)]
    elif service == "s3":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers.append(("Content-Type", "application/xml"))
    elif service == "ec2":
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    else:  # the query protocol (IAM, STS, SNS, SQS query, RDS, ...)
        kind = "Receiver" if refusal.status >= 500 else "Sender"
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    headers.append(("Content-Length", str(len(body))))
    reason = {
        400: "Bad Request", 403: "Forbidden", 413: "Request Entity Too Large", 415: "Unsupported Media Type",
        429: "Too Many Requests", 503: "Slow Down",
    }
    return f"{refusal.status} {reason.get(refusal.status, 'Error')}", headers, body
