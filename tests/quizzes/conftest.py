"""The practice fixture course (tests/quizzes/fixtures/practice): three modules with 30, 25 and 15 questions
(70 in all, enough for a full 65-question exam), one lesson each and one lab. alice and bob are learners."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from labapp.courses.loader import load_courses
from labapp.courses.models import Course
from labapp.quizzes.choice_order import token

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def practice(db, settings):
    settings.COURSES_DIR = FIXTURES
    result = load_courses(FIXTURES)
    assert result.ok, result.errors
    return Course.objects.get(slug="practice")


def make_user(name):
    return User.objects.create_user(name, f"{name}@example.org", "correct horse battery")


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def bob(db):
    return make_user("bob")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return client_for(alice)


@pytest.fixture
def bob_client(bob):
    return client_for(bob)


HTMX = {"HTTP_HX_REQUEST": "true"}


# Forms name a choice by an opaque token, never by its position or its id.


def tokens(question, ids) -> list[str]:
    return [token(question, choice_id) for choice_id in ids]


def right(question) -> list[str]:
    """The whole right answer (a question may be multi-select)."""
    return tokens(question, question.correct_ids)


def wrong_id(question) -> str:
    return next(c["id"] for c in question.choice_rows if not c["correct"])


def wrong(question) -> list[str]:
    return tokens(question, [wrong_id(question)])
