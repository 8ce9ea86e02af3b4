"""Classes, joining them, the CSV roster and roles."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from labapp.classroom.models import Classroom, Membership

from .conftest import client_for, make_user

pytestmark = pytest.mark.django_db


def test_an_instructor_creates_a_class_and_sees_its_code_and_invite_link(irene):
    client = client_for(irene)
    response = client.post(reverse("classroom:classes"), {"name": "Spring cohort", "description": "DVA-C02"})
    classroom = Classroom.objects.get(name="Spring cohort")
    assert response.url == reverse("classroom:class", args=[classroom.pk])
    page = client.get(response.url).content.decode()
    assert classroom.join_code in page
    assert f"/join/{classroom.join_code}/" in page
    assert Membership.objects.get(classroom=classroom, user=irene).role == "instructor"
    assert "Spring cohort" in client.get(reverse("classroom:classes")).content.decode()


def test_a_learner_cannot_create_a_class(alice):
    client = client_for(alice)
    assert client.get(reverse("classroom:classes")).status_code == 404
    assert client.post(reverse("classroom:classes"), {"name": "Mine"}).status_code == 404
    assert not Classroom.objects.exists()


def test_a_learner_joins_by_code_typed_loosely_and_sees_the_class_on_home(classroom, carol):
    client = client_for(carol)
    code = classroom.join_code.lower()
    response = client.post(reverse("classroom:join"), {"code": f" {code[:4]}-{code[4:]} "})
    assert response.url == reverse("home")
    assert Membership.objects.get(classroom=classroom, user=carol).role == "learner"
    home = client.get(reverse("home")).content.decode()
    assert "You joined “DVA-C02 cohort”" in home
    assert "Your assignments" in home


def test_a_wrong_code_says_what_is_wrong(carol, classroom):
    response = client_for(carol).post(reverse("classroom:join"), {"code": "NOPE1234"})
    assert response.status_code == 400
    assert "No class has that code" in response.content.decode()
    assert not Membership.objects.filter(user=carol).exists()


def test_the_invite_link_shows_the_class_and_joins_only_on_post(classroom, carol):
    client = client_for(carol)
    url = reverse("classroom:join-link", args=[classroom.join_code])
    page = client.get(url)
    assert "Join “DVA-C02 cohort”" in page.content.decode()
    assert not Membership.objects.filter(user=carol).exists()
    client.post(url)
    assert Membership.objects.filter(classroom=classroom, user=carol, via="code").exists()
    client.post(url)  # twice is harmless
    assert Membership.objects.filter(user=carol).count() == 1


def test_a_new_code_stops_the_old_link(classroom, irene, carol):
    old = classroom.join_code
    client_for(irene).post(reverse("classroom:reset-code", args=[classroom.pk]))
    classroom.refresh_from_db()
    assert classroom.join_code != old
    response = client_for(carol).get(reverse("classroom:join-link", args=[old]))
    assert response.status_code == 404
    assert "no longer works" in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in_then_back_to_the_invite(classroom, client):
    url = reverse("classroom:join-link", args=[classroom.join_code])
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/login/")
    assert url in response.url


def test_a_learner_may_be_in_several_classes(classroom, other_class, alice):
    from labapp.classroom.services import join_by_code

    join_by_code(alice, other_class.join_code)
    assert set(Membership.objects.filter(user=alice).values_list("classroom__name", flat=True)) == {
        "DVA-C02 cohort", "Oscar's class"}


ROSTER = (
    "Username,Email,Name\n"
    "carol,carol@example.org,Carol Danvers\n"        # existing account, same email: added
    "newbie,newbie@example.org,New Learner\n"         # new account
    "alice,,\n"                                       # already a learner
    "bad name!,x@example.org,Bad\n"                   # invalid username
    "dave,not-an-email,Dave\n"                        # invalid email
    "carol,carol@example.org,Carol again\n"           # duplicate in the file
    "erin,alice@example.org,Erin\n"                   # email of another account
    "bob,bob@elsewhere.org,Bob\n"                     # existing account, other email
    ",nobody@example.org,No Name\n"                   # empty username
    "tara,,Tara\n"                                    # the TA
    "\n"
)


def test_roster_import_adds_good_rows_and_reports_each_failed_row_with_why(classroom, irene, carol):
    response = client_for(irene).post(
        reverse("classroom:roster-import", args=[classroom.pk]),
        {"file": _upload(ROSTER.encode())},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]  # one-time passwords are on this page
    report = response.context["report"]
    assert report.added == ["carol"]
    assert [username for username, _ in report.created] == ["newbie"]
    assert report.already == ["alice"]
    failed = {line: why for line, _row, why in report.failed}
    assert failed == {
        5: "the username may contain only letters, digits and @ . + - _",
        6: "“not-an-email” is not an email address",
        7: "the username appears again (first on line 2)",
        8: "alice@example.org belongs to the account “alice”; use that username",
        9: "the account “bob” has a different email address; check that this is the same person",
        10: "the username is empty",
        11: "“tara” is a teaching assistant of this class",
    }
    for line, why in failed.items():
        assert f'data-failed-line="{line}"' in page
    assert "7 failed" in page
    # The new learner can sign in with the one-time password shown once.
    username, password = report.created[0]
    assert password in page
    newbie = User.objects.get(username="newbie")
    assert newbie.check_password(password) and newbie.get_full_name() == "New Learner"
    assert Membership.objects.filter(classroom=classroom, role="learner").count() == 4  # alice, bob, carol, newbie


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The submitted file is empty"),
        (b"\n", "Line 1 must be a header"),
        (b"email,name\nx@example.org,X\n", "Line 1 must be a header"),
        ("username\nj\u00f6rg\n".encode("latin-1"), "not UTF-8"),
        (b"username\n" + b"x" * 1_000_001, "larger than 1000 kB"),
    ],
)
def test_a_roster_file_that_cannot_be_read_says_why(classroom, irene, data, message):
    response = client_for(irene).post(reverse("classroom:roster-import", args=[classroom.pk]), {"file": _upload(data)})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_roles_can_change_but_a_class_keeps_an_instructor(classroom, irene, bob):
    client = client_for(irene)
    bob_membership = Membership.objects.get(classroom=classroom, user=bob)
    client.post(reverse("classroom:member-change", args=[classroom.pk, bob_membership.pk]), {"role": "ta"})
    bob_membership.refresh_from_db()
    assert bob_membership.role == "ta"
    mine = Membership.objects.get(classroom=classroom, user=irene)
    response = client.post(reverse("classroom:member-change", args=[classroom.pk, mine.pk]), {"role": "learner"},
                           follow=True)
    assert "at least one instructor" in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == "instructor"


def test_an_instructor_adds_a_teaching_assistant_by_username(classroom, irene):
    make_user("tom")
    client_for(irene).post(reverse("classroom:member-add", args=[classroom.pk]), {"username": "tom", "role": "ta"})
    assert Membership.objects.get(classroom=classroom, user__username="tom").role == "ta"
    response = client_for(irene).post(reverse("classroom:member-add", args=[classroom.pk]),
                                      {"username": "ghost", "role": "ta"}, follow=True)
    assert "There is no account with the username “ghost”" in response.content.decode()


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("roster.csv", data, content_type="text/csv")
