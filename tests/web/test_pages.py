"""Sign up / in / out, the home, module and lesson pages, and who may see what."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from labapp.courses.models import LessonProgress

from .conftest import add_attempt, make_session

pytestmark = pytest.mark.django_db


def test_sign_up_creates_an_account_and_signs_in():
    client = Client()
    page = client.get(reverse("signup"))
    assert page.status_code == 200
    assert b'name="password2"' in page.content
    response = client.post(
        reverse("signup"),
        {"username": "dana", "email": "", "password1": "a long passphrase 42", "password2": "a long passphrase 42"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"].username == "dana"


def test_sign_up_applies_the_password_validators():
    response = Client().post(
        reverse("signup"), {"username": "erin", "password1": "password", "password2": "password"}
    )
    assert response.status_code == 200
    assert b"This password is too common" in response.content


def test_sign_in_and_sign_out(alice):
    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"].is_authenticated
    assert client.get(reverse("logout")).status_code == 405  # signing out is a POST
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_wrong_password_is_refused(alice):
    response = Client().post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content


@pytest.mark.parametrize(
    "name,args",
    [
        ("lab", ["web-test-lab"]),
        ("lab-catalogue", []),
        ("quiz", ["aws-dev", "s3"]),
        ("exam", ["aws-dev"]),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in_for_labs_and_quizzes(lessons, lab, name, args):
    url = reverse(name, args=args)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_home_shows_progress_and_where_to_continue(alice_client, alice, lessons, lab):
    LessonProgress.objects.create(user=alice, lesson=lessons[0])
    session = make_session(alice, lab, status="ended")
    add_attempt(session, score=5, max_score=5)
    page = alice_client.get(reverse("home")).content.decode()
    assert "1 of 2 lessons read" in page
    assert "1 of 1 labs passed" in page
    assert "Continue where you left off" in page
    assert "Up next:" in page and "Versioning" in page


def test_home_continues_a_live_lab_first(alice_client, alice, lessons, lab):
    LessonProgress.objects.create(user=alice, lesson=lessons[0])
    make_session(alice, lab)
    page = alice_client.get(reverse("home")).content.decode()
    assert "is still running" in page
    assert reverse("lab", args=[lab.slug]) in page


def test_module_page_lists_lessons_and_labs(alice_client, lessons, lab):
    page = alice_client.get(reverse("module", args=["aws-dev", "s3"])).content.decode()
    assert "Buckets and objects" in page and "Versioning" in page
    assert reverse("lab", args=[lab.slug]) in page


def test_lesson_page_has_toc_and_navigation(alice_client, alice, lessons):
    response = alice_client.get(reverse("lesson", args=["aws-dev", "s3", "buckets"]))
    page = response.content.decode()
    assert "<p>Storage.</p>" in page  # sanitised upstream: rendered as HTML
    assert 'href="#what-is-s3"' in page and 'href="#sec-keys"' in page and 'id="sec-keys"' in page
    assert 'rel="next"' in page and "Versioning" in page
    assert "css/pygments.css" in page


def test_unknown_lesson_is_404(alice_client, lessons):
    assert alice_client.get(reverse("lesson", args=["aws-dev", "s3", "nope"])).status_code == 404


@pytest.mark.parametrize("url_name", ["home", "signup", "login"])
def test_every_page_sends_a_csp_header_with_a_nonce(url_name):
    response = Client().get(reverse(url_name))
    header = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", header).group(1)
    assert f'nonce="{nonce}"' in response.content.decode()
    assert "script-src 'self' 'nonce-" in header


def test_pages_have_no_inline_scripts_styles_or_handlers(alice_client, session, lessons):
    for url in [reverse("home"), reverse("lab", args=["web-test-lab"]), reverse("lesson", args=["aws-dev", "s3", "buckets"])]:
        page = alice_client.get(url).content.decode()
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, url
        assert "<style" not in page and " style=" not in page, url
        assert re.search(r"\son[a-z]+=", page) is None, url
        assert "hx-on" not in page, url


def test_htmx_config_is_locked_down():
    page = Client().get(reverse("home")).content.decode()
    assert '"selfRequestsOnly": true' in page
    assert '"allowScriptTags": false' in page
    assert '"allowEval": false' in page
    assert '"includeIndicatorStyles": false' in page
    assert '"historyCacheSize": 0' in page
    assert "hx-headers='{\"X-CSRFToken\": \"" in page
