"""The course page (progress per module, continue where you left off) and the lab catalogue (filters)."""

import uuid

import pytest
from django.utils import timezone

from labapp.courses.models import Lab, Lesson, LessonProgress, Module
from labapp.labs.models import Attempt, LabSession

pytestmark = pytest.mark.django_db


def add_lab(module, slug, services, title=None):
    return Lab.objects.create(
        uuid=uuid.uuid4(), module=module, slug=slug, title=title or slug.replace("-", " ").title(),
        summary=f"Summary of {slug}.", minutes=25,
        definition={"services": services, "tasks": [{"id": "t", "points": 1}]}, source_path="x.yaml",
    )


def pass_lab(user, lab):
    session = LabSession.objects.create(
        user=user, lab=lab, status="ended", account_id="123456789012", access_key_id=f"LKIA{uuid.uuid4().hex[:12]}",
        secret_access_key="s" * 40, region="us-east-1", params={}, expires_at=timezone.now(),
    )
    Attempt.objects.create(session=session, status=Attempt.Status.GRADED, score=1, max_score=1, results=[])


def test_course_page_shows_progress_per_module(practice, alice, alice_client):
    storage_lesson = Lesson.objects.get(module__slug="storage")
    LessonProgress.objects.create(user=alice, lesson=storage_lesson)
    pass_lab(alice, Lab.objects.get(slug="practice-lab"))
    page = alice_client.get("/courses/practice/").content.decode()
    assert "1 of 3 lessons read" in page and "1 of 1 labs passed" in page and "70 practice questions" in page
    row = page[page.index('<tr data-module="storage">'):]
    row = row[: row.index("</tr>")]
    assert '<td data-col="lessons">1/1' in row and '<td data-col="labs">1/1' in row and "not taken" in row
    assert 'href="/courses/practice/storage/quiz/"' in row
    # Continue where you left off: the next unread lesson after the last one read.
    assert "Continue where you left off" in page
    assert 'Up next:\n        <a href="/courses/practice/compute/lessons/basics/">Compute basics</a>' in page
    assert 'href="/courses/practice/exam/"' in page


def test_a_new_learner_is_pointed_at_the_first_lesson(practice, alice_client):
    page = alice_client.get("/courses/practice/").content.decode()
    assert "Start here" in page and 'href="/courses/practice/storage/lessons/basics/">Storage basics' in page


def test_unknown_course_is_not_found(practice, alice_client):
    assert alice_client.get("/courses/nope/").status_code == 404


@pytest.fixture
def catalogue(practice, alice):
    compute = Module.objects.get(slug="compute")
    network = Module.objects.get(slug="network")
    labs = {
        "ec2-lab": add_lab(compute, "ec2-lab", ["ec2"]),
        "elb-lab": add_lab(network, "elb-lab", ["elbv2", "ec2"]),
        "dns-lab": add_lab(network, "dns-lab", ["route53"]),
    }
    pass_lab(alice, labs["dns-lab"])
    return labs


def shown(page: str) -> list[str]:
    import re

    return re.findall(r'data-lab="([a-z0-9-]+)"', page)


def test_catalogue_lists_every_lab_with_details_and_status(catalogue, alice_client):
    page = alice_client.get("/labs/").content.decode()
    assert shown(page) == ["practice-lab", "ec2-lab", "dns-lab", "elb-lab"]
    assert "Summary of elb-lab." in page and "about 25 minutes" in page and "services: elbv2, ec2" in page
    dns = page[page.index('data-lab="dns-lab"'):]
    assert "Passed" in dns[: dns.index("</li>")]
    assert "Showing 4 of 4 labs." in page


@pytest.mark.parametrize(
    "query,expected",
    [
        ("?module=network", ["dns-lab", "elb-lab"]),
        ("?service=ec2", ["ec2-lab", "elb-lab"]),
        ("?module=network&service=ec2", ["elb-lab"]),
        ("?service=s3", ["practice-lab"]),
        ("?module=compute&service=route53", []),
        ("?module=unknown", []),
    ],
)
def test_catalogue_filters_by_module_and_service(catalogue, alice_client, query, expected):
    page = alice_client.get(f"/labs/{query}").content.decode()
    assert shown(page) == expected
    if not expected:
        assert "No lab matches these filters." in page


def test_catalogue_filter_form_works_without_javascript(catalogue, alice_client):
    page = alice_client.get("/labs/?module=network&service=ec2").content.decode()
    assert '<form method="get" action="/labs/"' in page
    assert '<option value="network" selected>' in page and '<option value="ec2" selected>' in page
    assert "hx-" not in page[page.index("<form method=\"get\""):page.index("</form>")]
