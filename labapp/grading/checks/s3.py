"""S3 check kinds: versioning, object versions, objects, and the delete-marker restore (journal based)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from . import Check, CheckFailed, failed, passed, register, schema, string

BUCKET = string("bucket name (usually {{ bucket }})")
KEY = string("object key")


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def object_versions(ctx, bucket: str, key: str) -> tuple[list[dict], list[dict]]:
    """(versions, delete markers) of exactly `key`, newest first."""
    s3 = ctx.client("s3")
    versions: list[dict] = []
    markers: list[dict] = []
    kwargs = {"Bucket": bucket, "Prefix": key}
    while True:
        page = s3.list_object_versions(**kwargs)
        versions += [v for v in page.get("Versions", []) if v["Key"] == key]
        markers += [m for m in page.get("DeleteMarkers", []) if m["Key"] == key]
        if not page.get("IsTruncated"):
            break
        kwargs.update(KeyMarker=page.get("NextKeyMarker"), VersionIdMarker=page.get("NextVersionIdMarker"))
    return versions, markers


def object_reads(ctx, bucket: str, key: str) -> bool:
    try:
        ctx.client("s3").head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as err:
        if _code(err) in {"404", "NoSuchKey", "NotFound", "405", "MethodNotAllowed"}:
            return False
        raise


@register("s3.bucket_versioning")
class BucketVersioning(Check):
    description = "The bucket's versioning status is Enabled (or Suspended)."
    params_schema = schema(
        {"bucket": BUCKET, "status": {"enum": ["Enabled", "Suspended"], "default": "Enabled",
                                      "description": "Required versioning status"}},
        ["bucket"],
    )

    def run(self, ctx, *, bucket, status="Enabled"):
        current = ctx.client("s3").get_bucket_versioning(Bucket=bucket).get("Status")
        if current == status:
            return passed(f"versioning on {bucket} is {status}")
        if current is None:
            return failed(f"versioning has never been turned on for {bucket} — it must be {status}")
        return failed(f"versioning on {bucket} is {current} — it must be {status}")


@register("s3.object_versions")
class ObjectVersions(Check):
    description = "The object has at least `min` versions (delete markers not counted)."
    params_schema = schema(
        {"bucket": BUCKET, "key": KEY,
         "min": {"type": "integer", "minimum": 1, "default": 2, "description": "Fewest versions accepted"}},
        ["bucket", "key"],
    )

    def run(self, ctx, *, bucket, key, min=2):  # noqa: A002 - the lab file's word
        versions, _ = object_versions(ctx, bucket, key)
        if len(versions) >= min:
            return passed(f"{key} has {len(versions)} versions in {bucket}")
        if not versions:
            return failed(f"{key} does not exist in {bucket}")
        only_null = all(v.get("VersionId") in (None, "null") for v in versions)
        why = (" — it was uploaded before versioning was on; upload it again (or copy it onto itself) "
               "after enabling versioning") if only_null else " — upload a new version of it"
        return failed(f"{key} has {len(versions)} version{'s' if len(versions) != 1 else ''} in {bucket}, "
                      f"at least {min} needed{why}")


@register("s3.object_exists")
class ObjectExists(Check):
    description = "The object currently reads (HEAD succeeds), optionally with a given Content-Type."
    params_schema = schema(
        {"bucket": BUCKET, "key": KEY, "content_type": string("Required Content-Type, e.g. text/html")},
        ["bucket", "key"],
    )

    def run(self, ctx, *, bucket, key, content_type=None):
        try:
            head = ctx.client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if _code(err) in {"404", "NoSuchKey", "NotFound"}:
                return failed(f"{key} does not exist in {bucket} (or its latest version is a delete marker)")
            raise
        if content_type and head.get("ContentType") != content_type:
            return failed(f"{key} has Content-Type {head.get('ContentType')}, not {content_type}")
        return passed(f"{key} exists in {bucket}")


# --- journal based ------------------------------------------------------------------------------
# The gateway (labapp/sandbox/gateway/operations.py, add_response_params) journals for S3 object calls
# the request's Bucket and Key; the request's version id as RequestVersionId; the response's
# x-amz-version-id as VersionId and x-amz-delete-marker as DeleteMarker (bool).


def _ok(row: dict) -> bool:
    return 200 <= int(row.get("status") or 0) < 300


def _flag(value) -> bool:
    return value is True or str(value).lower() == "true"


@register("s3.delete_marker_restored")
class DeleteMarkerRestored(Check):
    description = (
        "Journal: the learner deleted the object in a versioned bucket (creating a delete marker), later "
        "removed that delete marker by deleting its version id, and the object reads now."
    )
    params_schema = schema({"bucket": BUCKET, "key": KEY}, ["bucket", "key"])

    def run(self, ctx, *, bucket, key):
        deletes = [
            row for row in ctx.journal
            if row.get("source") == "learner" and row.get("action") == "DeleteObject" and _ok(row)
            and (row.get("params") or {}).get("Bucket") == bucket and (row.get("params") or {}).get("Key") == key
        ]
        if not deletes:
            raise CheckFailed(f"{key} has not been deleted yet — delete it (no version id) so S3 adds a delete marker")
        markers: list[tuple[int, str]] = []  # (index in deletes, marker version id)
        permanent = False
        for i, row in enumerate(deletes):
            p = row.get("params") or {}
            if not p.get("RequestVersionId") and _flag(p.get("DeleteMarker")) and p.get("VersionId"):
                markers.append((i, p["VersionId"]))
            elif not p.get("RequestVersionId"):
                permanent = True
        if not markers:
            if permanent:
                raise CheckFailed(
                    f"{key} was deleted while versioning was off, so no delete marker was made — enable "
                    "versioning, upload it again and repeat the delete"
                )
            raise CheckFailed(
                f"you deleted specific versions of {key}, but never deleted {key} itself (without a version id) "
                "to create a delete marker"
            )
        removed = None
        for i, marker_id in markers:
            later = [r for r in deletes[i + 1:] if (r.get("params") or {}).get("RequestVersionId") == marker_id]
            if later:
                removed = marker_id
        if removed is None:
            return failed(
                f"{key} was deleted (delete marker {markers[-1][1][:12]}…) but that delete marker was never "
                f"removed — delete the marker's version id to restore {key}"
            )
        if not object_reads(ctx, bucket, key):
            return failed(f"you removed delete marker {removed[:12]}…, but {key} does not read now — "
                          "is there another delete marker on top?")
        return passed(f"{key} was deleted, restored by removing delete marker {removed[:12]}…, and reads again")
