"""Every instructor URL and export is limited to the instructor's own classes: a learner (even one of the
class) and another instructor get 404, for every method; a teaching assistant reads and changes nothing."""

import pytest
from django.urls import reverse

from labapp.classroom.models import Extension, Membership, RegradeRun

from .conftest import client_for, days

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(classroom, lab_assignment, alice, irene):
    extension = Extension.objects.create(assignment=lab_assignment, learner=alice, due_at=days(5), granted_by=irene)
    run = RegradeRun.objects.create(assignment=lab_assignment, requested_by=irene)
    member = Membership.objects.get(classroom=classroom, user=alice)
    c, a = classroom.pk, lab_assignment.pk
    reads = [
        ("classroom:class", [c]),
        ("classroom:roster", [c]),
        ("classroom:assignment", [c, a]),
        ("classroom:gradebook", [c]),
        ("classroom:gradebook-csv", [c]),
        ("classroom:cell", [c, a, alice.pk]),
        ("classroom:regrade", [c, run.pk]),
        ("classroom:regrade-progress", [c, run.pk]),
    ]
    writes = [
        ("classroom:reset-code", [c]),
        ("classroom:roster-import", [c]),
        ("classroom:member-add", [c]),
        ("classroom:member-change", [c, member.pk]),
        ("classroom:assignment-create", [c]),
        ("classroom:assignment-dates", [c, a]),
        ("classroom:extension-grant", [c, a]),
        ("classroom:extension-remove", [c, a, extension.pk]),
        ("classroom:regrade-start", [c, a]),
    ]
    return [(reverse(name, args=args), "get") for name, args in reads] + [
        (reverse(name, args=args), "post") for name, args in writes]


def test_the_url_list_covers_every_instructor_route(urls):
    from labapp.classroom.urls import urlpatterns

    learner_routes = {"join", "join-link", "submit", "submission-status", "classes"}
    instructor_routes = {p.name for p in urlpatterns} - learner_routes
    assert len(urls) == len(instructor_routes)


@pytest.mark.parametrize("who", ["alice", "carol", "oscar"])
def test_learners_and_other_instructors_get_404_everywhere(urls, who, request, other_class):
    user = request.getfixturevalue(who)
    client = client_for(user)
    for url, method in urls:
        response = getattr(client, method)(url, {"name": "x", "username": "alice", "role": "instructor"})
        assert response.status_code == 404, (who, method, url, response.status_code)
        # The other method is refused before any lookup (405 for any id, existing or not): nothing leaks.
        other = client.post(url) if method == "get" else client.get(url)
        assert other.status_code in (404, 405), (who, url)
        assert b"DVA-C02" not in other.content
    assert Membership.objects.get(user__username="irene").role == "instructor"


def test_the_instructor_area_is_not_there_for_a_learner(alice, classroom):
    assert client_for(alice).get(reverse("classroom:classes")).status_code == 404


def test_the_header_links_the_instructor_area_for_instructors_and_teaching_assistants_only(irene, tara, alice, classroom):
    link = f'href="{reverse("classroom:classes")}"'
    assert link in client_for(irene).get("/").content.decode()
    assert link in client_for(tara).get("/").content.decode()  # a TA, not a staff account
    assert link not in client_for(alice).get("/").content.decode()


def test_another_instructor_lists_only_their_own_classes(oscar, other_class, classroom):
    page = client_for(oscar).get(reverse("classroom:classes")).content.decode()
    assert "Oscar&#x27;s class" in page or "Oscar's class" in page
    assert "DVA-C02 cohort" not in page


def test_the_command_line_export_is_for_a_named_class_only(classroom):
    from io import StringIO

    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="No class"):
        call_command("gradebook", "999999", "--csv", stdout=StringIO())


def test_a_teaching_assistant_reads_everything_and_changes_nothing(urls, tara):
    client = client_for(tara)
    for url, method in urls:
        if method == "get":
            assert client.get(url).status_code in (200, 286), url  # 286: a finished progress bar stops polling
        else:
            assert client.post(url, {"name": "x", "username": "alice", "role": "instructor"}).status_code == 403, url
    assert Membership.objects.get(user__username="alice").role == "learner"
    page = client.get(urls[0][0]).content.decode()
    assert "read-only view" in page
    assert "Assign a lab or a quiz" not in page
