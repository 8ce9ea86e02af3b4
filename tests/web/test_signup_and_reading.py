"""Signing up (with an invite link), the welcome, reading lessons signed out, marking lessons read, and
the signed-out 404."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from labapp.classroom import services
from labapp.classroom.models import Membership
from labapp.courses.models import LessonProgress

from .conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long passphrase 42"


def sign_up(client, username, next_url=None):
    data = {"username": username, "email": "", "password1": PASSWORD, "password2": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    return client.post(reverse("signup"), data)


def hrefs(page, path):
    return re.findall(r'href="(' + re.escape(path) + r'[^"]*)"', page)


def test_an_invite_link_survives_signing_up_and_lands_in_the_join_confirmation(db):
    teacher = make_user("irene")
    teacher.is_staff = True  # staff accounts may create classes
    teacher.save()
    classroom = services.create_classroom(teacher, "Spring cohort")
    invite = reverse("classroom:join-link", args=[classroom.join_code])
    client = Client()
    # Signed out, the invite link asks to sign in, keeping where to go next.
    login_page = client.get(invite, follow=True)
    assert login_page.redirect_chain[-1][0] == reverse("login") + "?next=" + invite
    # "Create an account" on that page, and the header's Sign up button, keep it.
    page = login_page.content.decode()
    expected = reverse("signup") + "?next=" + invite
    assert hrefs(page, reverse("signup")) == [expected, expected]
    signup_page = client.get(expected).content.decode()
    assert f'name="next" value="{invite}"' in signup_page
    assert reverse("login") + "?next=" + invite in signup_page  # and back to Sign in, keeping it too
    response = sign_up(client, "newbie", invite)
    assert response.status_code == 302 and response["Location"] == invite
    confirmation = client.get(invite).content.decode()
    assert "Join “Spring cohort”" in confirmation and "Join the class" in confirmation
    client.post(invite)
    assert Membership.objects.filter(classroom=classroom, user__username="newbie").exists()


@pytest.mark.parametrize("next_url", ["https://evil.example/phish", "//evil.example/", "javascript:alert(1)"])
def test_sign_up_never_redirects_off_site(next_url):
    response = sign_up(Client(), "mallory", next_url)
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_a_new_account_is_welcomed_with_the_first_lesson(lessons):
    client = Client()
    response = sign_up(client, "dana")
    page = client.get(response["Location"]).content.decode()
    first = reverse("lesson", args=["aws-dev", "s3", "buckets"])
    assert "Welcome, dana!" in page
    assert f'<a href="{first}" data-start-here>Buckets and objects</a>' in page  # a real link, not escaped
    # Shown once.
    assert "Welcome, dana!" not in client.get(reverse("home")).content.decode()


# --- Reading signed out ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name,args", [
    ("course", ["aws-dev"]), ("module", ["aws-dev", "s3"]), ("lesson", ["aws-dev", "s3", "buckets"]),
])
def test_course_module_and_lesson_pages_are_readable_signed_out(lessons, lab, name, args):
    response = Client().get(reverse(name, args=args))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Create a free account" in page
    assert "lessons read" not in page and "Not passed yet" not in page  # no progress for nobody


def test_a_signed_out_lesson_shows_its_text_and_offers_an_account(lessons, lab):
    url = reverse("lesson", args=["aws-dev", "s3", "buckets"])
    page = Client().get(url).content.decode()
    assert "<p>Storage.</p>" in page
    assert reverse("signup") + "?next=" + url in page
    assert "Mark as read" not in page
    assert LessonProgress.objects.count() == 0


@pytest.mark.parametrize("url", [
    "/courses/aws-dev/s3/lessons/nope/", "/courses/aws-dev/nope/", "/courses/nope/", "/labs/no-such-lab/",
    "/courses/aws-dev/nope/quiz/", "/no-such-page/",
])
def test_signed_out_requests_for_missing_pages_answer_404_with_useful_links(lessons, url):
    response = Client().get(url)
    assert response.status_code == 404
    page = response.content.decode()
    assert reverse("course", args=["aws-dev"]) in page and reverse("lab-catalogue") in page


def test_a_signed_out_request_for_a_private_page_still_asks_to_sign_in(lessons):
    response = Client().get("/sessions/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- Marking lessons read --------------------------------------------------------------------------------


def test_opening_a_lesson_does_not_mark_it_read(alice_client, alice, lessons):
    page = alice_client.get(reverse("lesson", args=["aws-dev", "s3", "buckets"])).content.decode()
    assert not LessonProgress.objects.filter(user=alice).exists()
    assert "Mark as read" in page and "data-mark-read" in page and "js/lesson.js" in page


def test_mark_as_read_counts_in_progress_and_can_be_undone(alice_client, alice, lessons):
    url = reverse("lesson-read", args=["aws-dev", "s3", "buckets"])
    response = alice_client.post(url, {"read": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("lesson", args=["aws-dev", "s3", "buckets"]) + "#lesson-end"
    assert LessonProgress.objects.filter(user=alice, lesson=lessons[0]).exists()
    alice_client.post(url, {"read": "1"})  # twice is harmless
    assert "1 of 2 lessons read" in alice_client.get(reverse("course", args=["aws-dev"])).content.decode()
    lesson_page = alice_client.get(reverse("lesson", args=["aws-dev", "s3", "buckets"])).content.decode()
    assert "You have read this lesson" in lesson_page and "Mark as unread" in lesson_page
    alice_client.post(url, {"read": "0"})
    assert not LessonProgress.objects.filter(user=alice).exists()


def test_mark_as_read_over_htmx_answers_with_the_updated_box(alice_client, alice, lessons):
    response = alice_client.post(reverse("lesson-read", args=["aws-dev", "s3", "buckets"]), {"read": "1"},
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment and "You have read this lesson" in fragment
    assert "Versioning" in fragment  # up next


def test_marking_read_needs_an_account(lessons):
    response = Client().post(reverse("lesson-read", args=["aws-dev", "s3", "buckets"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert LessonProgress.objects.count() == 0


def test_marking_a_missing_lesson_is_404(alice_client, lessons):
    assert alice_client.post(reverse("lesson-read", args=["aws-dev", "s3", "nope"])).status_code == 404


# --- Breadcrumbs and headings ----------------------------------------------------------------------------


@pytest.mark.parametrize("name,args", [
    ("course", ["aws-dev"]), ("module", ["aws-dev", "s3"]), ("lesson", ["aws-dev", "s3", "buckets"]),
])
def test_breadcrumbs_start_with_home(alice_client, lessons, name, args):
    page = alice_client.get(reverse(name, args=args)).content.decode()
    crumbs = page.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert re.findall(r'<a href="([^"]+)"', crumbs)[0] == reverse("home")


def test_the_lesson_h1_is_the_first_heading(alice_client, lessons, lab):
    page = alice_client.get(reverse("lesson", args=["aws-dev", "s3", "buckets"])).content.decode()
    main = page.split('<main')[1]
    assert re.search(r"<h[1-6]", main).group(0) == "<h1"
    assert "Version a bucket" in main  # the module's labs are still listed, after the lesson
