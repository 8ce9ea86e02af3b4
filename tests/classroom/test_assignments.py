"""Assignments with dates and time limits, the learner's home page, and "Submit for grading"."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from labapp.classroom import services
from labapp.classroom.models import Assignment, Extension, Submission
from labapp.labs.models import Attempt, LabSession

from .conftest import add_call, client_for, days, grade_now, make_session

pytestmark = pytest.mark.django_db


def test_an_instructor_assigns_a_lab_and_a_quiz_with_dates_and_a_time_limit(classroom, irene, lab, module, questions):
    client = client_for(irene)
    url = reverse("classroom:assignment-create", args=[classroom.pk])
    client.post(url, {"item": f"lab:{lab.pk}", "opens_at": "2026-01-05T09:00", "due_at": "2026-01-12T17:00",
                      "time_limit_minutes": "45"})
    client.post(url, {"item": f"quiz:{module.pk}", "opens_at": "2026-01-05T09:00", "due_at": "2026-01-06T09:00"})
    lab_a, quiz_a = Assignment.objects.order_by("due_at").reverse()
    assert (lab_a.kind, lab_a.lab, lab_a.time_limit_minutes) == ("lab", lab, 45)
    assert lab_a.due_at.isoformat() == "2026-01-12T17:00:00+00:00"
    assert (quiz_a.kind, quiz_a.module) == ("quiz", module)
    page = client.get(reverse("classroom:class", args=[classroom.pk])).content.decode()
    assert "Version a bucket" in page and "Quiz: Amazon S3" in page and "45 min" in page


def test_assignment_form_errors_are_shown(classroom, irene, lab):
    client = client_for(irene)
    url = reverse("classroom:assignment-create", args=[classroom.pk])
    response = client.post(url, {"item": f"lab:{lab.pk}", "opens_at": "2026-01-05T09:00", "due_at": "2026-01-04T09:00"})
    assert response.status_code == 400
    assert "The due date must be after the opening date." in response.content.decode()
    client.post(url, {"item": f"lab:{lab.pk}", "opens_at": "2026-01-05T09:00", "due_at": "2026-01-06T09:00"})
    again = client.post(url, {"item": f"lab:{lab.pk}", "opens_at": "2026-01-05T09:00", "due_at": "2026-01-07T09:00"})
    assert "already assigned" in again.content.decode()
    assert Assignment.objects.count() == 1


def test_learners_see_their_assignments_and_deadlines_on_their_home_page(lab_assignment, quiz_assignment, alice, bob,
                                                                         irene):
    Extension.objects.create(assignment=lab_assignment, learner=alice, due_at=days(6), granted_by=irene)
    home = client_for(alice).get(reverse("home")).content.decode()
    assert "Your assignments" in home
    assert "Version a bucket" in home and "Quiz: Amazon S3" in home
    assert "DVA-C02 cohort" in home
    assert days(6).strftime("%-d %b %Y") in home and "extended" in home
    assert home.count('data-status="not_started"') == 2
    # bob has no extension
    assert "extended" not in client_for(bob).get(reverse("home")).content.decode()


def test_an_outsider_sees_no_assignments(lab_assignment, carol):
    home = client_for(carol).get(reverse("home")).content.decode()
    assert "data-assignment=" not in home
    assert "No assignments yet." in home


def test_the_lab_page_offers_submit_for_grading_only_to_learners_of_the_class(lab_assignment, alice, carol, lab):
    make_session(alice, lab)
    page = client_for(alice).get(reverse("lab", args=[lab.slug])).content.decode()
    assert "Submit for grading" in page and "DVA-C02 cohort" in page
    make_session(carol, lab)
    assert "Submit for grading" not in client_for(carol).get(reverse("lab", args=[lab.slug])).content.decode()


def test_submitting_freezes_the_attempt_and_the_journal_up_to_then(lab_assignment, alice, lab, no_broker, irene):
    session = make_session(alice, lab, created_at=timezone.now() - timedelta(minutes=30))
    before = add_call(session, "PutBucketVersioning", at=timezone.now() - timedelta(minutes=5))
    client = client_for(alice)
    response = client.post(reverse("classroom:submit", args=[lab_assignment.pk]), {"session": session.pk}, follow=True)
    assert "Submitted for grading in “DVA-C02 cohort”" in response.content.decode()
    submission = Submission.objects.get()
    assert submission.attempt.kind == Attempt.Kind.SUBMIT and submission.attempt.status == Attempt.Status.QUEUED
    # The worker grades it, and the gateway forgets the learner's keys: the sandbox is handed in.
    assert [name for name, _ in no_broker] == ["labapp.labs.tasks.grade_attempt",
                                               "labapp.labs.tasks.lock_handed_in_sandbox"]
    session.refresh_from_db()
    assert session.status == LabSession.Status.SUBMITTED and not session.is_live
    assert not submission.late
    assert submission.started_at == session.created_at
    # Work after the submission is not part of it.
    after = add_call(session, "DeleteBucket", at=timezone.now() + timedelta(seconds=5))
    assert list(services.submission_journal(submission)) == [before]
    grade_now(submission.attempt, passed=(True, False))
    # A later check by the learner does not change the submission.
    later = Attempt.objects.create(session=session, status="graded", score=5, max_score=5, results=[])
    submission.refresh_from_db()
    assert (submission.score, submission.max_score) == (2, 5)
    # The instructor sees the frozen submission and its journal, not the later call.
    cell = client_for(irene).get(reverse("classroom:cell", args=[lab_assignment.classroom_id, lab_assignment.pk,
                                                                  alice.pk])).content.decode()
    assert 'data-cell-score>2/5' in cell
    assert 'data-action="PutBucketVersioning"' in cell and 'data-action="DeleteBucket"' not in cell
    assert later.pk  # (kept for clarity: the later check exists)
    assert after.pk
    # The lab page now shows the submission's score instead of the button.
    page = client.get(reverse("lab", args=[lab.slug])).content.decode()
    assert 'data-submission-score>2/5' in page
    assert "Submit for grading</button>" not in page


def test_a_second_submission_is_refused(lab_assignment, alice, lab, no_broker):
    session = make_session(alice, lab)
    services.submit(alice, session, lab_assignment)
    with pytest.raises(services.ClassroomError, match="already submitted"):
        services.submit(alice, session, lab_assignment)
    assert Submission.objects.count() == 1


def test_a_submission_after_the_due_date_is_marked_late_unless_extended(lab_assignment, alice, bob, lab, no_broker,
                                                                        irene):
    Assignment.objects.filter(pk=lab_assignment.pk).update(opens_at=days(-5), due_at=days(-1))
    lab_assignment.refresh_from_db()
    late = services.submit(bob, make_session(bob, lab), lab_assignment)
    assert late.late and late.late_reason == "after the due date"
    services.grant_extension(lab_assignment, alice, days(1), "illness", irene)
    on_time = services.submit(alice, make_session(alice, lab), lab_assignment)
    assert not on_time.late and on_time.due_at > timezone.now()


def test_over_the_time_limit_is_late(lab_assignment, alice, lab, no_broker):
    Assignment.objects.filter(pk=lab_assignment.pk).update(time_limit_minutes=20)
    lab_assignment.refresh_from_db()
    first = make_session(alice, lab, status=LabSession.Status.ENDED, created_at=timezone.now() - timedelta(minutes=50))
    assert first.pk
    submission = services.submit(alice, make_session(alice, lab), lab_assignment)
    assert submission.late and submission.late_reason == "over the 20-minute time limit"


def test_submitting_before_the_assignment_opens_or_without_a_running_sandbox_is_refused(lab_assignment, alice, lab,
                                                                                        no_broker):
    Assignment.objects.filter(pk=lab_assignment.pk).update(opens_at=days(1), due_at=days(3))
    lab_assignment.refresh_from_db()
    with pytest.raises(services.ClassroomError, match="opens on"):
        services.submit(alice, make_session(alice, lab), lab_assignment)
    Assignment.objects.filter(pk=lab_assignment.pk).update(opens_at=days(-1))
    lab_assignment.refresh_from_db()
    ended = make_session(alice, lab, status=LabSession.Status.ENDED)
    with pytest.raises(services.ClassroomError, match="sandbox must be running"):
        services.submit(alice, ended, lab_assignment)


def test_nobody_submits_with_someone_elses_session_or_outside_the_class(lab_assignment, alice, carol, lab, no_broker):
    alices = make_session(alice, lab)
    response = client_for(carol).post(reverse("classroom:submit", args=[lab_assignment.pk]), {"session": alices.pk})
    assert response.status_code == 404
    with pytest.raises(services.ClassroomError, match="not a learner in that class"):
        services.submit(carol, make_session(carol, lab), lab_assignment)
    assert not Submission.objects.exists()


def test_extensions_are_granted_on_the_assignment_page(lab_assignment, irene, alice):
    client = client_for(irene)
    url = reverse("classroom:extension-grant", args=[lab_assignment.classroom_id, lab_assignment.pk])
    too_early = client.post(url, {"learner": alice.pk, "due_at": "2020-01-01T00:00"})
    assert "must end after the assignment&#x27;s due date" in too_early.content.decode()
    client.post(url, {"learner": alice.pk, "due_at": days(9).strftime("%Y-%m-%dT%H:%M"), "reason": "travel"})
    extension = Extension.objects.get()
    assert extension.learner == alice and extension.reason == "travel"
    assert services.due_for(lab_assignment, alice) == extension.due_at


def test_the_submission_in_the_lab_page_updates_itself_until_graded(lab_assignment, alice, bob, lab, no_broker):
    submission = services.submit(alice, make_session(alice, lab), lab_assignment)
    url = reverse("classroom:submission-status", args=[lab_assignment.pk])
    client = client_for(alice)
    grading = client.get(url)
    assert grading.status_code == 200 and "being graded" in grading.content.decode()
    assert 'hx-trigger="every 2s"' in grading.content.decode()
    grade_now(submission.attempt, passed=(True, True))
    graded = client.get(url)
    assert graded.status_code == 286  # htmx stops polling
    assert "data-submission-score>5/5" in graded.content.decode()
    assert client_for(bob).get(url).status_code == 404  # bob has no submission; alice's is not his


def test_the_same_lab_in_two_of_a_learners_classes_shows_in_both(lab_assignment, other_class, alice, lab, oscar):
    services.join_by_code(alice, other_class.join_code)
    services.create_assignment(other_class, lab=lab, opens_at=days(-1), due_at=days(9))
    make_session(alice, lab)
    home = client_for(alice).get(reverse("home")).content.decode()
    assert home.count('data-status="in_progress"') == 2
    assert "DVA-C02 cohort" in home and "Oscar&#x27;s class" in home
