"""A storage quota per sandbox: S3 objects live in the emulator's memory (moto keeps objects under 5 MiB
in RAM, larger ones in temporary files), so one learner uploading in a loop could grow the process that
holds every learner's sandbox until it dies. Labs need a few MB; LAB_SANDBOX_S3_QUOTA_MB and
LAB_SANDBOX_S3_MAX_OBJECTS (settings) bound a sandbox's objects, versions and pending multipart parts.
"""

from __future__ import annotations

MIB = 1024 * 1024


def usage(backend) -> tuple[int, int]:
    """(bytes, objects) the account's S3 holds: every version of every object, and parts of unfinished
    multipart uploads."""
    size = count = 0
    for bucket in list(backend.buckets.values()):
        for _name, versions in bucket.keys.iterlists():
            for version in versions:
                size += getattr(version, "size", 0) or 0
                count += 1
        for multipart in list(bucket.multiparts.values()):
            for part in list(multipart.parts.values()):
                size += part.size or 0
                count += 1
    return size, count


def apply() -> None:
    from django.conf import settings
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import S3Backend

    quota_bytes = settings.LAB_SANDBOX_S3_QUOTA_MB * MIB
    max_objects = settings.LAB_SANDBOX_S3_MAX_OBJECTS

    class QuotaExceeded(S3ClientError):
        code = "QuotaExceeded"

        def __init__(self, what: str):
            super().__init__(
                "QuotaExceeded",
                f"This lab sandbox holds at most {settings.LAB_SANDBOX_S3_QUOTA_MB} MiB in at most {max_objects} "
                f"S3 objects, versions and parts; {what}. Delete objects you no longer need.",
            )

    def check(backend, adding: int) -> None:
        size, count = usage(backend)
        if count + 1 > max_objects:
            raise QuotaExceeded(f"it holds {count} already")
        if size + adding > quota_bytes:
            raise QuotaExceeded(f"it holds {size // MIB} MiB already")

    original_put_object = S3Backend.put_object
    original_upload_part = S3Backend.upload_part

    def put_object(self, bucket_name, key_name, value, *args, **kwargs):
        if kwargs.get("multipart") is None:  # completing an upload: its parts were counted already
            check(self, len(value or b""))
        return original_put_object(self, bucket_name, key_name, value, *args, **kwargs)

    def upload_part(self, bucket_name, multipart_id, part_id, value):
        check(self, len(value or b""))
        return original_upload_part(self, bucket_name, multipart_id, part_id, value)

    S3Backend.put_object = put_object
    S3Backend.upload_part = upload_part
