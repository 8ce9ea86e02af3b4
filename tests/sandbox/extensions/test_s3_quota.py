"""A sandbox's S3 storage is bounded (the emulator holds every learner's objects): past the quota an
upload answers QuotaExceeded with a message that says what to do, and deleting frees room again."""

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.helpers import make_sandbox

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]


def test_uploads_past_the_quota_are_refused_and_deleting_frees_room(sandbox_stack):
    box = make_sandbox(sandbox_stack.url)  # the test stack's quota is 64 MiB
    s3 = box.client("s3")
    bucket = f"fill-{box.account_id}"
    s3.create_bucket(Bucket=bucket)
    chunk = b"x" * (5 * 1024 * 1024)
    stored = 0
    with pytest.raises(ClientError) as refused:
        for n in range(20):
            s3.put_object(Bucket=bucket, Key=f"blob-{n}", Body=chunk)
            stored += 1
    assert refused.value.response["Error"]["Code"] == "QuotaExceeded"
    assert "Delete objects you no longer need" in refused.value.response["Error"]["Message"]
    assert stored == 12  # 12 x 5 MiB fit in 64 MiB; the 13th does not
    s3.delete_object(Bucket=bucket, Key="blob-0")
    s3.put_object(Bucket=bucket, Key="again", Body=chunk)  # room again
    # Another learner is not affected by this one's quota.
    other = make_sandbox(sandbox_stack.url)
    other.client("s3").create_bucket(Bucket=f"other-{other.account_id}")
    other.client("s3").put_object(Bucket=f"other-{other.account_id}", Key="k", Body=chunk)
