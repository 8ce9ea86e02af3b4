"""Shared rows for the classroom tests: a course with a lab and a module quiz, and named people.

irene teaches the class (staff, its instructor); tara is its teaching assistant (read-only); oscar is
another instructor who must see nothing of irene's class; alice and bob are learners in it; carol is a
learner who is not in it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from labapp.classroom import services
from labapp.classroom.models import Membership
from labapp.courses.models import Course, Lab, Module
from labapp.labs.models import ApiCall, Attempt, LabSession, TaskResult
from labapp.quizzes.models import Question, QuizAttempt

LAB_DEFINITION = {
    "slug": "class-test-lab",
    "title": "Version a bucket",
    "services": ["s3"],
    "parameters": {},
    "instructions": "Turn on versioning.",
    "setup": [],
    "tasks": [
        {"id": "versioning", "title": "Turn on versioning", "points": 2, "hint": "h", "checks": []},
        {"id": "versions", "title": "Upload two versions", "points": 3, "hint": "h", "checks": []},
    ],
    "resources": [],
    "solution": [],
}


@pytest.fixture
def course(db):
    return Course.objects.create(uuid=uuid.uuid4(), slug="aws-dev", title="AWS Developer", summary="The course")


@pytest.fixture
def module(course):
    return Module.objects.create(uuid=uuid.uuid4(), course=course, slug="s3", title="Amazon S3", order=1)


@pytest.fixture
def lab(module):
    return Lab.objects.create(uuid=uuid.uuid4(), module=module, slug="class-test-lab", title="Version a bucket",
                              minutes=15, definition=LAB_DEFINITION, source_path="courses/x.yaml")


@pytest.fixture
def questions(module):
    return [
        Question.objects.create(uuid=uuid.uuid4(), module=module, type="single", answers=1, prompt_html="<p>q</p>",
                                choices=[{"html": "a", "correct": True}, {"html": "b", "correct": False}],
                                explanation_html="e", order=i)
        for i in range(4)
    ]


def make_user(name, **fields):
    # No password: these tests sign in with force_login, and hashing one at full strength takes about
    # half a second. (pytest-django's `settings` fixture is no way round it here: it would also undo the
    # gateway URL that the session-wide stack sets when a stack test is the first to start it.)
    return User.objects.create_user(name, f"{name}@example.org", None, **fields)


@pytest.fixture
def irene(db):
    return make_user("irene", is_staff=True, first_name="Irene")


@pytest.fixture
def oscar(db):
    return make_user("oscar", is_staff=True)


@pytest.fixture
def tara(db):
    return make_user("tara")


@pytest.fixture
def alice(db):
    return make_user("alice", first_name="Alice", last_name="Liddell")


@pytest.fixture
def bob(db):
    return make_user("bob")


@pytest.fixture
def carol(db):
    return make_user("carol")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def classroom(irene, tara, alice, bob):
    classroom = services.create_classroom(irene, "DVA-C02 cohort")
    Membership.objects.create(classroom=classroom, user=tara, role=Membership.Role.TA)
    for learner in (alice, bob):
        Membership.objects.create(classroom=classroom, user=learner)
    return classroom


@pytest.fixture
def other_class(oscar, carol):
    classroom = services.create_classroom(oscar, "Oscar's class")
    Membership.objects.create(classroom=classroom, user=carol)
    return classroom


def days(n):
    return timezone.now() + timedelta(days=n)


@pytest.fixture
def lab_assignment(classroom, lab):
    return services.create_assignment(classroom, lab=lab, opens_at=days(-2), due_at=days(2))


@pytest.fixture
def quiz_assignment(classroom, module, questions):
    return services.create_assignment(classroom, module=module, opens_at=days(-2), due_at=days(2))


_counter = iter(range(10**6))


def make_session(user, lab, status=LabSession.Status.READY, created_at=None, **fields):
    n = next(_counter)
    session = LabSession.objects.create(
        user=user, lab=lab, status=status, account_id=f"{200000000000 + n}", access_key_id=f"LKIACLASS{n:08d}",
        secret_access_key=f"secret{n:034d}", region="us-east-1", params={}, ready_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=90), **fields,
    )
    if created_at is not None:
        LabSession.objects.filter(pk=session.pk).update(created_at=created_at, ready_at=created_at)
        session.refresh_from_db()
    return session


def add_call(session, action="PutBucketVersioning", at=None, source=ApiCall.Source.LEARNER, mutating=True, **fields):
    defaults = {"service": "s3", "status": 200, "params": {"Bucket": "site"}}
    defaults.update(fields)
    return ApiCall.objects.create(session=session, at=at or timezone.now(), source=source, action=action,
                                  mutating=mutating, **defaults)


def graded_attempt(session, passed=(True, False), kind=Attempt.Kind.CHECK, feedback=None, created_at=None):
    """A graded attempt with its TaskResult rows, as the worker stores them."""
    tasks = LAB_DEFINITION["tasks"]
    feedback = feedback or ["Versioning is Enabled.", "index.html has 1 version; upload it again."]
    results = [
        {"id": t["id"], "title": t["title"], "points": t["points"] if ok else 0, "max_points": t["points"],
         "passed": ok, "feedback": "" if ok else feedback[i]}
        for i, (t, ok) in enumerate(zip(tasks, passed, strict=True))
    ]
    attempt = Attempt.objects.create(
        session=session, kind=kind, status=Attempt.Status.GRADED, score=sum(r["points"] for r in results),
        max_score=5, results=results, graded_at=timezone.now(),
    )
    if created_at is not None:
        Attempt.objects.filter(pk=attempt.pk).update(created_at=created_at)
        attempt.refresh_from_db()
    TaskResult.objects.bulk_create(
        TaskResult(attempt=attempt, task_id=r["id"], points=r["points"], max_points=r["max_points"],
                   passed=r["passed"], feedback=r["feedback"]) for r in results
    )
    return attempt


def grade_now(attempt, passed=(True, False)):
    """Stand-in for the worker: store a result on a queued attempt (grading itself is tested elsewhere)."""
    done = graded_attempt(attempt.session, passed)
    Attempt.objects.filter(pk=attempt.pk).update(status=Attempt.Status.GRADED, score=done.score,
                                                 max_score=done.max_score, results=done.results,
                                                 graded_at=timezone.now())
    TaskResult.objects.filter(attempt=done).update(attempt=attempt)
    done.delete()
    attempt.refresh_from_db()
    return attempt


def quiz_attempt(user, module, correct, total=4, started=None, minutes=5, finished=True):
    started = started or timezone.now() - timedelta(minutes=minutes)
    attempt = QuizAttempt.objects.create(user=user, module=module, correct=correct, total=total,
                                         finished_at=started + timedelta(minutes=minutes) if finished else None)
    QuizAttempt.objects.filter(pk=attempt.pk).update(started_at=started)
    attempt.refresh_from_db()
    return attempt


@pytest.fixture
def no_broker(monkeypatch):
    """Grading is queued on commit; these tests store results themselves, so nothing is sent."""
    sent = []
    from labapp.labs import services as lab_services

    monkeypatch.setattr(lab_services, "_send_on_commit", lambda task, *args: sent.append((task.name, args)))
    return sent

