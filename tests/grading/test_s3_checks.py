import json

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
    # Parameters and letter case do not change the media type.
    site.client("s3").put_object(Bucket=BUCKET, Key="r.txt", Body=b"x", ContentType="Text/Plain; charset=utf-8")
    assert check(site, "s3.object_exists", bucket=BUCKET, key="r.txt", content_type="text/plain").passed


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
    assert out.feedback == "index.html was deleted, restored by removing its delete marker, and reads again"


def test_delete_marker_removed_in_a_batch_delete_counts(site):
    """DeleteObjects (aws s3api delete-objects, boto3 batch deletes, the console) carries its keys in the body,
    which the journal does not show: the emulator counts removed markers itself."""
    s3 = site.client("s3")
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    made = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "index.html"}]})["Deleted"][0]
    assert made["DeleteMarker"]
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "index.html", "VersionId": made["DeleteMarkerVersionId"]}]})
    out = check(site, "s3.delete_marker_restored", journal=[], bucket=BUCKET, key="index.html")
    assert out.passed, out.feedback


def test_delete_marker_near_misses(site):
    s3 = site.client("s3")
    kind = "s3.delete_marker_restored"
    out = check(site, kind, journal=[], bucket=BUCKET, key="index.html")
    assert not out.passed and out.feedback.startswith("index.html has not been deleted yet")
    # Deleted while unversioned, then uploaded again: no marker was ever made.
    s3.delete_object(Bucket=BUCKET, Key="index.html")
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=b"<h1>v1</h1>", ContentType="text/html")
    out = check(site, kind, journal=[row()], bucket=BUCKET, key="index.html")
    assert not out.passed and "versioning was off" in out.feedback
    # A marker on top: deleted, not restored.
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    marker = s3.delete_object(Bucket=BUCKET, Key="index.html")
    out = check(site, kind, journal=[row(DeleteMarker=True, VersionId=marker["VersionId"])], bucket=BUCKET, key="index.html")
    assert not out.passed and out.feedback.startswith(f"index.html is deleted: delete marker {marker['VersionId'][:12]}")
    # "Restored" by uploading again: the marker stays underneath, never removed.
    s3.put_object(Bucket=BUCKET, Key="index.html", Body=b"<h1>v1</h1>", ContentType="text/html")
    out = check(site, kind, journal=[row(DeleteMarker=True, VersionId=marker["VersionId"])], bucket=BUCKET, key="index.html")
    assert not out.passed and "delete marker was never removed" in out.feedback
    # Removed, then deleted again: hidden by the new marker.
    s3.delete_object(Bucket=BUCKET, Key="index.html", VersionId=marker["VersionId"])
    s3.delete_object(Bucket=BUCKET, Key="index.html")
    out = check(site, kind, journal=[], bucket=BUCKET, key="index.html")
    assert not out.passed and "is deleted: delete marker" in out.feedback


# --- s3-bucket-policy: the policy is graded by what it does -------------------------------------------

from tests.grading.labfiles import grade_lab, passed_tasks  # noqa: E402

ALL_POLICY_TASKS = {"tls-only", "role-reads", "no-deletes"}


def _put_policy(sb, bucket, *statements):
    sb.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def tls_deny(bucket, resources=None, value="false", principal="*"):
    return {"Effect": "Deny", "Principal": principal, "Action": "s3:*",
            "Resource": resources or [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": value}}}


def role_allow(sb, bucket, resource=None, principal=None, action="s3:GetObject"):
    return {"Effect": "Allow", "Principal": principal or {"AWS": f"arn:aws:iam::{sb.account_id}:role/report-reader"},
            "Action": action, "Resource": resource or f"arn:aws:s3:::{bucket}/reports/*"}


def delete_deny(bucket, resource=None, principal="*", action="s3:DeleteObject"):
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": resource or f"arn:aws:s3:::{bucket}/*"}


@pytest.fixture
def reports(sandbox):
    sandbox.bucket = f"reports-{sandbox.account_id}"
    sandbox.client("s3").create_bucket(Bucket=sandbox.bucket)
    return sandbox


def test_bucket_policy_lab_reference_passes_and_no_policy_fails(reports):
    b = reports.bucket
    tasks = grade_lab(reports, "s3-bucket-policy", bucket=b)
    assert not any(t["passed"] for t in tasks.values())
    assert tasks["no-deletes"]["feedback"] == f"{b} has no bucket policy yet"
    _put_policy(reports, b, tls_deny(b), role_allow(reports, b), delete_deny(b))
    assert passed_tasks(reports, "s3-bucket-policy", bucket=b) == ALL_POLICY_TASKS


def test_the_tls_deny_alone_does_not_protect_from_deletes(reports):
    """The finding: the only delete-deny is conditional on aws:SecureTransport, so HTTPS deletes go through."""
    b = reports.bucket
    _put_policy(reports, b, tls_deny(b), role_allow(reports, b))
    tasks = grade_lab(reports, "s3-bucket-policy", bucket=b)
    assert {t for t, r in tasks.items() if r["passed"]} == {"tls-only", "role-reads"}
    feedback = tasks["no-deletes"]["feedback"]
    assert "s3:DeleteObject" in feedback and "over HTTPS" in feedback
    assert '"aws:SecureTransport": "false"' in feedback  # it names the condition that does not hold


@pytest.mark.parametrize("wrong,failing", [
    # the delete deny on the bucket's ARN covers no object
    (lambda sb, b: [tls_deny(b), role_allow(sb, b), delete_deny(b, resource=f"arn:aws:s3:::{b}")], "no-deletes"),
    # only reports/ is protected
    (lambda sb, b: [tls_deny(b), role_allow(sb, b), delete_deny(b, resource=f"arn:aws:s3:::{b}/reports/*")], "no-deletes"),
    # only the role may not delete
    (lambda sb, b: [tls_deny(b), role_allow(sb, b), delete_deny(b, principal={"AWS": f"arn:aws:iam::{sb.account_id}:role/report-reader"})], "no-deletes"),
    # public reads instead of the role
    (lambda sb, b: [tls_deny(b), role_allow(sb, b, principal="*"), delete_deny(b)], "role-reads"),
    # the whole account instead of the role
    (lambda sb, b: [tls_deny(b), role_allow(sb, b, principal={"AWS": sb.account_id}), delete_deny(b)], "role-reads"),
    # the role may read the whole bucket
    (lambda sb, b: [tls_deny(b), role_allow(sb, b, resource=f"arn:aws:s3:::{b}/*"), delete_deny(b)], "role-reads"),
    # the role may write reports too
    (lambda sb, b: [tls_deny(b), role_allow(sb, b, action="s3:*"), delete_deny(b)], "role-reads"),
    # the TLS deny leaves the bucket itself (ListBucket) reachable over HTTP
    (lambda sb, b: [tls_deny(b, resources=f"arn:aws:s3:::{b}/*"), role_allow(sb, b), delete_deny(b)], "tls-only"),
    # the TLS condition inverted: it denies HTTPS (the role's reads too), not HTTP
    (lambda sb, b: [tls_deny(b, value="true"), role_allow(sb, b), delete_deny(b)], {"tls-only", "role-reads"}),
    # a deny of everything, unconditionally: the role cannot read either
    (lambda sb, b: [tls_deny(b) | {"Condition": {}}, role_allow(sb, b), delete_deny(b)], "role-reads"),
])
def test_bucket_policy_near_misses_fail_the_task_they_get_wrong(reports, wrong, failing):
    b = reports.bucket
    _put_policy(reports, b, *wrong(reports, b))
    failing = {failing} if isinstance(failing, str) else failing
    assert passed_tasks(reports, "s3-bucket-policy", bucket=b) == ALL_POLICY_TASKS - failing


def test_bucket_policy_equivalent_wordings_pass(reports):
    b, acct = reports.bucket, reports.account_id
    _put_policy(
        reports, b,
        delete_deny(b, principal={"AWS": "*"}, action=["s3:Delete*"]),
        {"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{acct}:role/Report-Reader"]},
         "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": [f"arn:aws:s3:::{b}/reports/*"]},
        tls_deny(b, resources=f"arn:aws:s3:::{b}", value=False),
        tls_deny(b, resources=f"arn:aws:s3:::{b}/*", principal={"AWS": ["*"]}),
    )
    assert passed_tasks(reports, "s3-bucket-policy", bucket=b) == ALL_POLICY_TASKS
    # NotAction and an account-wide principal for the deny mean the same thing here.
    _put_policy(
        reports, b, tls_deny(b), role_allow(reports, b),
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
         "NotAction": ["s3:Get*", "s3:List*", "s3:Put*"], "Resource": f"arn:aws:s3:::{b}/*"},
    )
    assert passed_tasks(reports, "s3-bucket-policy", bucket=b) == ALL_POLICY_TASKS
