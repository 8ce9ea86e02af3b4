"""Regrade: every submission of a lab graded again with the lab's current checks, in the worker, with a
progress bar, the original result kept beside the new one.

The first test runs the real stack (emulator, gateway, Celery worker): a learner submits through the
worker, the instructor fixes a check and regrades. The others check the bookkeeping without the stack.
"""

import time
from datetime import timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from labapp.classroom import services
from labapp.classroom.models import Membership, RegradeItem, Submission
from labapp.labs import services as lab_services
from labapp.labs.models import Attempt, LabSession

from .conftest import client_for, days, grade_now, make_session


def wait_for(check, timeout=60.0, what="the worker"):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return result


@pytest.mark.stack
@pytest.mark.django_db(transaction=True)
def test_submission_graded_by_the_worker_then_regraded_after_a_check_is_fixed(lab_stack):
    from labapp.courses.models import Lab

    User = get_user_model()
    irene = User.objects.create_user("irene", password="x", is_staff=True)
    alice = User.objects.create_user("alice", password="x")
    classroom = services.create_classroom(irene, "Stack class")
    Membership.objects.create(classroom=classroom, user=alice)
    lab = Lab.objects.get(slug="s3-versioning")
    assignment = services.create_assignment(classroom, lab=lab, opens_at=days(-1), due_at=days(1))

    session = lab_services.start_session(alice, lab)
    wait_for(lambda: LabSession.objects.get(pk=session.pk).status == "ready", what="the sandbox")
    session.refresh_from_db()
    creds = session.credentials()
    s3 = boto3.client("s3", aws_access_key_id=creds["aws_access_key_id"],
                      aws_secret_access_key=creds["aws_secret_access_key"], region_name=creds["region"],
                      endpoint_url=creds["endpoint_url"], config=Config(s3={"addressing_style": "path"}))
    s3.put_bucket_versioning(Bucket=session.params["bucket"], VersioningConfiguration={"Status": "Enabled"})

    submission = services.submit(alice, session, assignment)
    attempt = wait_for(lambda: Attempt.objects.filter(pk=submission.attempt_id, status="graded").first(),
                       what="the submission's grading")
    # The sandbox is handed in: the learner's keys stop working, so it stays as submitted.
    def refused():
        try:
            s3.list_buckets()
        except ClientError as error:
            return error.response["Error"]["Code"] == "InvalidAccessKeyId"
        return False

    wait_for(refused, timeout=15, what="the gateway to refuse the handed-in keys")
    # Its session would have expired by now: the handed-in sandbox is not touched by expiry.
    LabSession.objects.filter(pk=session.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert lab_services.expire_sessions() == 0
    assert (attempt.score, attempt.max_score) == (2, 7)
    assert {r["id"]: r["passed"] for r in attempt.results} == {"versioning": True, "two-versions": False,
                                                               "undelete": False}
    assert [c.action for c in services.submission_journal(submission)][-1] == "PutBucketVersioning"

    # The instructor decides one version of index.html is enough (a fixed check), and regrades.
    definition = lab.definition
    definition["tasks"][1]["checks"][0]["min"] = 1
    Lab.objects.filter(pk=lab.pk).update(definition=definition)
    client = client_for(irene)
    response = client.post(reverse("classroom:regrade-start", args=[classroom.pk, assignment.pk]))
    progress_url = response.url.rstrip("/") + "/progress/"
    wait_for(lambda: client.get(progress_url).status_code == 286, what="the regrade")  # 286: polling stops
    item = RegradeItem.objects.get()
    assert item.status == "done", item.note
    assert (item.old_score, item.old_max_score, item.score, item.max_score) == (2, 7, 4, 7)
    submission.refresh_from_db()
    assert (submission.score, submission.attempt.score) == (4, 2)  # new result current, original kept
    page = client.get(response.url).content.decode()
    assert "1 of 1 submissions done" in page
    assert "<td data-old>2/7</td>" in page and "<td data-new>4/7" in page
    # The changed score is highlighted (a marked row and the word "changed", with the difference).
    assert "data-changed" in page and "changed (+2)" in page and "1</strong> score changed" in page


@pytest.fixture
def submitted(lab_assignment, alice, lab, no_broker):
    session = make_session(alice, lab, created_at=timezone.now() - timedelta(minutes=30))
    submission = services.submit(alice, session, lab_assignment)
    grade_now(submission.attempt, passed=(True, False))
    return submission


def run_item(submission, irene, lab_assignment):
    run = services.start_regrade(lab_assignment, irene)
    item = run.items.get()
    claimed = services.claim_regrade_item(item.pk, "test-worker")
    services.regrade(claimed, "test-worker")
    item.refresh_from_db()
    return run, item


@pytest.mark.django_db
def test_submitting_hands_the_sandbox_in_until_the_retention_time(submitted, no_broker, settings):
    session = LabSession.objects.get(pk=submitted.session_id)
    assert session.status == LabSession.Status.SUBMITTED and not session.is_live
    assert lab_services.expire_sessions() == 0  # not live: expiry leaves it alone
    assert lab_services.release_handed_in_sandboxes() == 0  # within the retention time
    LabSession.objects.filter(pk=session.pk).update(
        ended_at=timezone.now() - timedelta(days=settings.LAB_SUBMISSION_RETENTION_DAYS, minutes=1))
    no_broker.clear()
    assert lab_services.release_handed_in_sandboxes() == 1
    assert LabSession.objects.get(pk=session.pk).status == LabSession.Status.ENDED
    assert no_broker == [("labapp.labs.tasks.retire_sandbox", (str(session.pk),))]  # memory freed by a worker


@pytest.mark.django_db
def test_a_regrade_keeps_the_original_when_the_sandbox_was_released(submitted, irene, lab_assignment, no_broker):
    LabSession.objects.filter(pk=submitted.session_id).update(status=LabSession.Status.ENDED)
    run, item = run_item(submitted, irene, lab_assignment)
    assert [name for name, _ in no_broker][-1] == "labapp.classroom.tasks.regrade_submission"
    assert item.status == "skipped" and "released after the retention time" in item.note
    submitted.refresh_from_db()
    assert submitted.regraded_at is None and submitted.score == 2


@pytest.mark.django_db
def test_a_regrade_keeps_the_original_when_the_emulator_lost_the_sandbox(submitted, irene, lab_assignment,
                                                                        monkeypatch):
    from labapp.sandbox import client as sandbox

    # An emulator restart empties every account; grading an empty account would score nothing.
    monkeypatch.setattr(sandbox, "emulator_stats", lambda: {"rss_bytes": 1, "accounts": ["999999999999"]})
    _run, item = run_item(submitted, irene, lab_assignment)
    assert item.status == "skipped" and "the emulator was restarted since" in item.note
    submitted.refresh_from_db()
    assert submitted.regraded_at is None and submitted.score == 2


@pytest.mark.django_db
def test_progress_of_a_run_and_its_polling(submitted, irene, lab_assignment, classroom, no_broker):
    run = services.start_regrade(lab_assignment, irene)
    client = client_for(irene)
    progress = client.get(reverse("classroom:regrade-progress", args=[classroom.pk, run.pk]))
    assert progress.status_code == 200
    html = progress.content.decode()
    assert "0 of 1 submissions done" in html and 'hx-trigger="every 1s"' in html
    assert '<progress id="regrade-bar" max="1" value="0">' in html
    RegradeItem.objects.filter(run=run).update(status="done", score=5, max_score=5, finished_at=timezone.now())
    finished = client.get(reverse("classroom:regrade-progress", args=[classroom.pk, run.pk]))
    assert finished.status_code == 286 and "hx-trigger" not in finished.content.decode()


@pytest.mark.django_db
def test_a_stalled_item_is_enqueued_again_while_someone_watches(submitted, irene, lab_assignment, classroom, no_broker):
    run = services.start_regrade(lab_assignment, irene)
    RegradeItem.objects.filter(run=run).update(enqueued_at=timezone.now() - timedelta(minutes=5))
    before = len(no_broker)
    client_for(irene).get(reverse("classroom:regrade", args=[classroom.pk, run.pk]))
    assert len(no_broker) == before + 1


@pytest.mark.django_db
def test_nothing_to_regrade_says_so(lab_assignment, irene, classroom):
    response = client_for(irene).post(reverse("classroom:regrade-start", args=[classroom.pk, lab_assignment.pk]),
                                      follow=True)
    assert "no graded submissions to regrade yet" in response.content.decode()
    assert not Submission.objects.exists()
