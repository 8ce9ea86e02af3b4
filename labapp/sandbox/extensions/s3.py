"""S3 additions for the CLI/SDK labs.

1. Presigned fetches are counted. moto cannot tell a learner's presigned GET from any other GET, and the
   gateway's journal does not say how a request was signed, so each object remembers how many times it
   was read through a presigned URL (`X-Amz-Signature` in the query string, answered 200/206). HEAD
   responses carry the count as `x-lab-presigned-gets` (only when it is not zero); the
   `s3.presigned_get` check reads it. The count lives on moto's key object, so an account reset frees it.
   The shortest lifetime of those URLs (SigV4 `X-Amz-Expires`; for SigV2, `Expires` minus the time of the
   fetch) is answered as `x-lab-presigned-shortest-lifetime`, so a lab can require a short-lived URL.

2. Injected SlowDown, for the retry lab. A bucket tagged `lab:slowdown-prefix=<prefix>` answers the first
   `lab:slowdown-count` (default 2) PUTs of every new key under that prefix with `503 SlowDown`, as S3
   does when a prefix is pushed past its request rate. SDKs and the CLI retry 503 SlowDown with backoff,
   so a client with retries on stores every object and one with retries off loses some. The lab's setup
   sets the tag; removing it removes the faults.

3. Encoded authorization messages. When a bucket policy's explicit Deny refuses an object request, moto
   answers an empty 403. We answer `AccessDenied` whose message ends with an encoded authorization
   failure message that `aws sts decode-authorization-message` turns back into JSON (see sts.py).
   (Real S3 does not encode its denials; EC2 and other services do. The lab's fidelity notes say so.)

4. An upload's own encryption header wins over the bucket default, as in S3. moto fills in the default's KMS
   key whenever the request names none, so `--sse aws:kms` without a key id (AWS: the AWS managed key
   aws/s3) or `--sse AES256` in a bucket whose default is SSE-KMS stored the default's customer key. Such an
   object now records no key id (aws/s3) or, for AES256, no key at all.

5. Removed delete markers are counted. Undoing a delete means deleting the delete marker's version id, by
   DeleteObject or DeleteObjects (`aws s3api delete-objects`, boto3's batch deletes, the console); the
   gateway's journal does not see inside a DeleteObjects body, so the bucket remembers, per key, how many
   delete markers were removed, and HEAD answers it as `x-lab-delete-markers-removed` (when not zero).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

SLOWDOWN_PREFIX_TAG = "lab:slowdown-prefix"
SLOWDOWN_COUNT_TAG = "lab:slowdown-count"
PRESIGNED_HEADER = "x-lab-presigned-gets"
MARKERS_REMOVED_HEADER = "x-lab-delete-markers-removed"
LIFETIME_HEADER = "x-lab-presigned-shortest-lifetime"

_SLOWDOWN_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    "<Message>Please reduce your request rate.</Message><RequestId>LABSLOWDOWN</RequestId></Error>"
)


def _presigned_lifetime(query: dict) -> int | None:
    """How long a presigned URL is valid: SigV4 says it (X-Amz-Expires); SigV2 gives an absolute Expires."""
    import time

    try:
        if "X-Amz-Expires" in query:
            return int(query["X-Amz-Expires"][0])
        if "Expires" in query:
            return max(0, int(query["Expires"][0]) - int(time.time()))
    except (ValueError, IndexError):
        return None
    return None


def _deny_statements(policy: bytes | str | None, action: str) -> list[dict]:
    if not policy:
        return []
    try:
        document = json.loads(policy)
    except ValueError:
        return []
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    for st in statements:
        if st.get("Effect") != "Deny":
            continue
        actions = st.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if any(a in ("*", "s3:*", action) or (a.endswith("*") and action.startswith(a[:-1])) for a in actions):
            out.append({"statementId": st.get("Sid", ""), "effect": "DENY",
                        "principals": {"items": [{"value": json.dumps(st.get("Principal", "*"))}]},
                        "actions": {"items": [{"value": a} for a in actions]},
                        "resources": {"items": [{"value": r} for r in (
                            [st["Resource"]] if isinstance(st.get("Resource"), str) else st.get("Resource", []))]},
                        "conditions": {"items": [{"key": json.dumps(st.get("Condition", {}))}]} if st.get("Condition") else {"items": []}})
    return out


def _enforceable_policy(policy: bytes | str) -> str | None:
    """The statements of a bucket policy the emulator can evaluate without knowing who is calling or how.

    moto evaluates bucket policies without request context: a statement with a Condition is treated as
    DENIED whenever the condition cannot be checked (even an Allow, or a Deny whose condition would not
    match), and a Deny naming a specific principal applies to everyone. Either would lock the learner
    (and the grader) out of their own bucket, e.g. after the common "deny unless aws:SecureTransport"
    statement. So only unconditional statements whose principal is everyone are enforced; the rest are
    stored and graded as configuration."""
    try:
        document = json.loads(policy)
    except (TypeError, ValueError):
        return None
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    kept = [st for st in statements if isinstance(st, dict) and not st.get("Condition")
            and st.get("Principal") in ("*", {"AWS": "*"}, {"AWS": ["*"]})]
    if not kept:
        return None
    return json.dumps({**document, "Statement": kept})


def apply() -> None:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        raw = self.policy.decode() if isinstance(self.policy, bytes) else self.policy
        enforceable = _enforceable_policy(raw)
        if enforceable is None:
            return PermissionResult.NEUTRAL
        return IAMPolicy(enforceable).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission
    _explicit_encryption_wins()
    _count_removed_delete_markers()

    from . import sts as sts_ext

    original_key_response = S3Response.key_response
    original_put = S3Response._key_response_put

    def _key_response_put(self, query, key_name):
        if not (query.get("uploadId") or "tagging" in query or "acl" in query or "retention" in query
                or "legal-hold" in query):
            try:
                tags = {t["Key"]: t["Value"] for t in self.backend.get_bucket_tagging(self.bucket_name).get("Tags", [])}
            except Exception:
                tags = {}
            prefix = tags.get(SLOWDOWN_PREFIX_TAG)
            if prefix is not None and key_name.startswith(prefix):
                try:
                    limit = int(tags.get(SLOWDOWN_COUNT_TAG, "2"))
                except ValueError:
                    limit = 2
                bucket = self.backend.get_bucket(self.bucket_name)
                seen = bucket.__dict__.setdefault("_lab_slowdown_seen", {})
                count = seen.get(key_name, 0)
                if count < limit:
                    seen[key_name] = count + 1
                    return 503, {"Content-Type": "application/xml"}, _SLOWDOWN_XML
        return original_put(self, query, key_name)

    def key_response(self, request, full_url, headers):
        status, response_headers, body = original_key_response(self, request, full_url, headers)
        try:
            method = request.method
            query = parse_qs(urlparse(full_url).query, keep_blank_values=True)
            bucket_name = self.parse_bucket_name_from_url(request, full_url)
            key_name = self.parse_key_name()
            if method == "GET" and status in (200, 206) and ("X-Amz-Signature" in query or "Signature" in query) and not (
                {"uploadId", "acl", "tagging", "legal-hold", "attributes"} & set(query)
            ):
                key = self.backend.get_object(bucket_name, key_name)
                if key is not None:
                    key.__dict__["_lab_presigned_gets"] = key.__dict__.get("_lab_presigned_gets", 0) + 1
                    lifetime = _presigned_lifetime(query)
                    if lifetime is not None:
                        shortest = key.__dict__.get("_lab_presigned_shortest", lifetime)
                        key.__dict__["_lab_presigned_shortest"] = min(shortest, lifetime)
            elif method == "HEAD" and status == 200:
                key = self.backend.get_object(bucket_name, key_name)
                count = key.__dict__.get("_lab_presigned_gets", 0) if key is not None else 0
                if count:
                    response_headers = dict(response_headers or {})
                    response_headers[PRESIGNED_HEADER] = str(count)
                    if "_lab_presigned_shortest" in key.__dict__:
                        response_headers[LIFETIME_HEADER] = str(key.__dict__["_lab_presigned_shortest"])
                removed = self.backend.get_bucket(bucket_name).__dict__.get("_lab_markers_removed", {}).get(key_name)
                if removed:
                    response_headers = dict(response_headers or {})
                    response_headers[MARKERS_REMOVED_HEADER] = str(removed)
            elif status == 403 and not body and method in ("GET", "PUT", "DELETE", "POST"):
                bucket = self.backend.get_bucket(bucket_name)
                action = f"s3:{method[0]}{method[1:].lower()}Object"
                resource = f"arn:aws:s3:::{bucket_name}/{key_name}"
                raw = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
                statements = _deny_statements(_enforceable_policy(raw) if raw else None, action)
                if statements:
                    access_key = getattr(self, "access_key", "") or ""
                    encoded = sts_ext.encode(self.current_account, sts_ext.denial_context(
                        account_id=self.current_account,
                        principal_arn=f"arn:aws:iam::{self.current_account}:user/{access_key[-8:] or 'caller'}",
                        action=action, resource=resource, explicit_deny=True, statements=statements,
                    ))
                    message = (f"Access Denied by an explicit deny in the bucket policy of {bucket_name}. "
                               f"Encoded authorization failure message: {encoded}")
                    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                            f"<Message>{message}</Message><RequestId>LABDENY</RequestId></Error>")
                    response_headers = dict(response_headers or {})
                    response_headers["Content-Type"] = "application/xml"
        except Exception:  # never let the bookkeeping break the request itself
            pass
        return status, response_headers, body

    S3Response.key_response = key_response
    S3Response._key_response_put = _key_response_put


def _explicit_encryption_wins() -> None:
    import inspect

    from moto.s3.models import S3Backend

    original_put_object = S3Backend.put_object
    signature = inspect.signature(original_put_object)

    def put_object(self, *args, **kwargs):
        new_key = original_put_object(self, *args, **kwargs)
        asked = signature.bind(self, *args, **kwargs).arguments
        if asked.get("encryption") and not asked.get("kms_key_id"):
            new_key.kms_key_id = None  # aws:kms without a key id: the AWS managed key, not the default's key
            if asked["encryption"] == "AES256":
                new_key.bucket_key_enabled = None
        return new_key

    S3Backend.put_object = put_object


def _count_removed_delete_markers() -> None:
    from moto.s3.models import FakeDeleteMarker, S3Backend

    original_delete_object = S3Backend.delete_object

    def delete_object(self, bucket_name, key_name, version_id=None, *args, **kwargs):
        bucket = self.get_bucket(bucket_name)
        removes_marker = version_id is not None and any(
            isinstance(v, FakeDeleteMarker) and str(v.version_id) == str(version_id)
            for v in bucket.keys.getlist(key_name, []))
        result = original_delete_object(self, bucket_name, key_name, version_id, *args, **kwargs)
        if removes_marker and result[0]:
            counts = bucket.__dict__.setdefault("_lab_markers_removed", {})
            counts[key_name] = counts.get(key_name, 0) + 1
        return result

    S3Backend.delete_object = delete_object
