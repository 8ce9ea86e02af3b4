import pytest

from labapp.grading.grader import run_check



def check(sb, kind, journal=None, **args):
    return run_check({"kind": kind, **args}, {}, sb.ctx(journal=journal))


@pytest.fixture
def site(sandbox):
    global BUCKET
    # Bucket names are global on the server, so each test (account) gets its own.
    BUCKET = f"site-{sandbox.account_id}"
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="index.html", Body="<h1>v1</h1>", ContentType="text/html")
    return sandbox


def test_bucket_versioning(site):
    s3 = site.client("s3")
    out = check(site, "s3.bucket_versioning", bucket=BUCKET)
    assert not out.passed and out.feedback == f"versioning has never been turned on for {BUCKET} — it must be Enabled"
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    out = check(site, "s3.bucket_versioning", bucket=BUCKET)
    assert out.passed and out.feedback == f"versioning on {BUCKET} is Enabled"
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    out = check(site, "s3.bucket_versioning", bucket=BUCKET)
    assert not out.passed and out.feedback == f"versioning on {BUCKET} is Suspended — it must be Enabled"


def test_bucket_missing_is_clear(sandbox):
    out = check(sandbox, "s3.bucket_versioning", bucket="nope-bucket")
    assert not out.passed and out.feedback == "bucket nope-bucket does not exist"


def test_object_versions(site):
    s3 = site.client("s3")
    out = check(site, "s3.object_versions", bucket=BUCKET, key="index.html")
    assert not out.passed and "has 1 version" in out.feedback and "before versioning was on" in out.feedback
    # Uploading again without versioning replaces the only (null) version: still one.
    s3.put_object(Bucket=BUCKET, Key="index.html", Body="<h1>v1b</h1>")
    assert not check(site, "s3.object_versions", bucket=BUCKET, key="index.html").passed
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.copy_object(Bucket=BUCKET, Key="index.html", CopySource={"Bucket": BUCKET, "Key": "index.html"},
                   MetadataDirective="REPLACE", ContentType="text/html")
    out = check(site, "s3.object_versions", bucket=BUCKET, key="index.html")
    assert out.passed and out.feedback == f"index.html has 2 versions in {BUCKET}"
    out = check(site, "s3.object_versions", bucket=BUCKET, key="other.html")
    assert not out.passed and out.feedback == f"other.html does not exist in {BUCKET}"


def test_object_exists(site):
    assert check(site, "s3.object_exists", bucket=BUCKET, key="index.html", content_type="text/html").passed
    out = check(site, "s3.object_exists", bucket=BUCKET, key="index.html", content_type="text/plain")
    assert not out.passed and "has Content-Type text/html" in out.feedback
    assert not check(site, "s3.object_exists", bucket=BUCKET, key="missing.html").passed


def row(action="DeleteObject", source="learner", status=204, **params):
    return {"action": action, "service": "s3", "source": source, "status": status, "at": "2026-01-01T00:00:00Z",
            "params": {"Bucket": BUCKET, "Key": "index.html", **params}}


def delete_and_restore(sb):
    """Really delete and restore in the emulator, returning the journal rows the gateway would record."""
    s3 = sb.client("s3")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    marker = s3.delete_object(Bucket=BUCKET, Key="index.html")
    assert marker["DeleteMarker"]
    first = row(DeleteMarker=True, VersionId=marker["VersionId"])
    undo = s3.delete_object(Bucket=BUCKET, Key="index.html", VersionId=marker["VersionId"])
    second = row(RequestVersionId=marker["VersionId"], DeleteMarker=True, VersionId=undo["VersionId"])
    return marker["VersionId"], [first, second]


def test_delete_marker_restored_passes(site):
    marker, journal = delete_and_restore(site)
    out = check(site, "s3.delete_marker_restored", journal=journal, bucket=BUCKET, key="index.html")
    assert out.passed, out.feedback
    assert out.feedback.startswith("index.html was deleted, restored by removing delete marker")


def test_delete_marker_near_misses(site):
    s3 = site.client("s3")
    kind = "s3.delete_marker_restored"
    out = check(site, kind, journal=[], bucket=BUCKET, key="index.html")
    assert not out.passed and out.feedback.startswith("index.html has not been deleted yet")

    marker, journal = delete_and_restore(site)
    # Only the marker creation: not restored.
    out = check(site, kind, journal=journal[:1], bucket=BUCKET, key="index.html")
    assert not out.passed and "delete marker was never removed" in out.feedback
    # Setup (not the learner) did it: does not count.
    out = check(site, kind, journal=[dict(r, source="setup") for r in journal], bucket=BUCKET, key="index.html")
    assert not out.passed and "not been deleted yet" in out.feedback
    # Removal of a different version id does not count.
    other = [journal[0], row(RequestVersionId="somethingelse", VersionId="somethingelse")]
    assert not check(site, kind, journal=other, bucket=BUCKET, key="index.html").passed
    # Removal before creation (out of order) does not count.
    assert not check(site, kind, journal=[journal[1], journal[0]], bucket=BUCKET, key="index.html").passed
    # Deleted while unversioned: permanent.
    perm = [row()]
    out = check(site, kind, journal=perm, bucket=BUCKET, key="index.html")
    assert not out.passed and "versioning was off" in out.feedback
    # Journal says restored, but the object is hidden again by a new marker.
    s3.delete_object(Bucket=BUCKET, Key="index.html")
    out = check(site, kind, journal=journal, bucket=BUCKET, key="index.html")
    assert not out.passed and "does not read now" in out.feedback
