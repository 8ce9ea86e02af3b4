"""Shared rows for the web tests: one course with a module, two lessons and a lab, and three learners.

alice owns the sessions; bob is another learner who must see none of alice's work; anonymous visitors
are sent to sign in.
"""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from labapp.courses.models import Course, Lab, Lesson, Module
from labapp.labs.models import ApiCall, Attempt, LabSession

LAB_DEFINITION = {
    "slug": "web-test-lab",
    "title": "Version a bucket",
    "services": ["s3"],
    "parameters": {"bucket": {"generate": "bucket_name", "prefix": "site"}},
    "instructions": "## Step one\n\nTurn on versioning for `{{ bucket }}`.\n",
    "setup": [],
    "tasks": [
        {"id": "versioning", "title": "Turn on versioning", "points": 2, "hint": "put-bucket-versioning",
         "checks": []},
        {"id": "versions", "title": "Upload two versions", "points": 3, "hint": "upload it twice", "checks": []},
    ],
    "resources": ["s3.buckets"],
    "solution": [],
}


@pytest.fixture
def course(db):
    return Course.objects.create(uuid=uuid.uuid4(), slug="aws-dev", title="AWS Developer", summary="The course")


@pytest.fixture
def module(course):
    return Module.objects.create(uuid=uuid.uuid4(), course=course, slug="s3", title="Amazon S3", order=1)


@pytest.fixture
def lessons(module):
    return [
        Lesson.objects.create(
            uuid=uuid.uuid4(), module=module, slug="buckets", title="Buckets and objects", order=1,
            body_markdown="x", body_html='<h2 id="what-is-s3">What is S3</h2><p>Storage.</p><h3>Keys</h3><p>k</p>',
        ),
        Lesson.objects.create(
            uuid=uuid.uuid4(), module=module, slug="versioning", title="Versioning", order=2,
            body_markdown="x", body_html="<p>Versions.</p>",
        ),
    ]


@pytest.fixture
def lab(module):
    return Lab.objects.create(
        uuid=uuid.uuid4(), module=module, slug="web-test-lab", title="Version a bucket", minutes=15,
        definition=LAB_DEFINITION, source_path="courses/x.yaml",
    )


def make_user(name):
    return User.objects.create_user(name, f"{name}@example.org", "correct horse battery")


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


def client_for(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return client_for(alice)


@pytest.fixture
def bob_client(bob):
    return client_for(bob)


_counter = iter(range(10**6))


def make_session(user, lab, status=LabSession.Status.READY, **fields):
    n = next(_counter)
    return LabSession.objects.create(
        user=user,
        lab=lab,
        status=status,
        account_id=f"{100000000000 + n}",
        access_key_id=f"LKIATEST{n:08d}",
        secret_access_key=f"secret{n:034d}",
        region="us-east-1",
        params={"bucket": f"site-{user.username}-{n}"},
        expires_at=timezone.now() + timedelta(minutes=90),
        **fields,
    )


@pytest.fixture
def session(alice, lab):
    return make_session(alice, lab)


def add_call(session, action="PutBucketVersioning", source=ApiCall.Source.LEARNER, mutating=True, **fields):
    defaults = {"service": "s3", "status": 200, "params": {"Bucket": session.params["bucket"]}}
    defaults.update(fields)
    return ApiCall.objects.create(
        session=session, at=timezone.now(), source=source, action=action, mutating=mutating, **defaults
    )


def add_attempt(session, status=Attempt.Status.GRADED, **fields):
    if status == Attempt.Status.GRADED:
        fields.setdefault("score", 2)
        fields.setdefault("max_score", 5)
        fields.setdefault(
            "results",
            [
                {"id": "versioning", "title": "Turn on versioning", "points": 2, "max_points": 2, "passed": True,
                 "feedback": "Versioning is Enabled."},
                {"id": "versions", "title": "Upload two versions", "points": 0, "max_points": 3, "passed": False,
                 "feedback": "index.html has 1 version; upload it again."},
            ],
        )
        fields.setdefault("graded_at", timezone.now())
    return Attempt.objects.create(session=session, status=status, **fields)


@pytest.fixture
def no_gateway(monkeypatch):
    """The one choke point where the lab page would reach the sandbox: the resource lister."""
    calls = []

    def fake_list_resources(kinds, client_factory):
        calls.append(list(kinds))
        return [
            {"kind": "s3.buckets", "title": "S3 buckets", "columns": ["Name", "Versioning"],
             "rows": [["site-bucket", "Enabled"]], "error": None}
        ]

    import labapp.grading.resources as resources

    monkeypatch.setattr(resources, "list_resources", fake_list_resources)
    return calls
