""""Who is stuck where" and the charts: per lab, who started, who passed each task, the tasks failed most
often with their most common feedback, idle learners flagged; SVG charts with text alternatives."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from labapp.classroom import charts, services
from labapp.classroom.models import Membership
from labapp.labs.models import LabSession

from .conftest import add_call, client_for, grade_now, graded_attempt, make_session, make_user

pytestmark = pytest.mark.django_db

NOT_VERSIONED = "Versioning is Suspended; enable it."
ONE_VERSION = "index.html has 1 version; upload it again."


@pytest.fixture
def busy_class(classroom, lab_assignment, alice, bob, lab, no_broker):
    """alice passed versioning then submitted (2/5); bob keeps failing versioning and has been idle for
    25 minutes; erin started a minute ago; frank never started."""
    now = timezone.now()
    a = make_session(alice, lab, created_at=now - timedelta(minutes=50))
    graded_attempt(a, passed=(False, False), feedback=[NOT_VERSIONED, ONE_VERSION])
    submission = services.submit(alice, a, lab_assignment)
    grade_now(submission.attempt, passed=(True, False))
    b = make_session(bob, lab, created_at=now - timedelta(minutes=60))
    for _ in range(3):
        graded_attempt(b, passed=(False, False), feedback=[NOT_VERSIONED, ONE_VERSION],
                       created_at=now - timedelta(minutes=40))
    add_call(b, "GetBucketVersioning", at=now - timedelta(minutes=25), mutating=False)
    erin, frank = make_user("erin"), make_user("frank")
    for user in (erin, frank):
        Membership.objects.create(classroom=classroom, user=user)
    make_session(erin, lab, created_at=now - timedelta(minutes=1))
    return lab_assignment


def test_who_is_stuck_where(busy_class, irene, classroom):
    response = client_for(irene).get(reverse("classroom:assignment", args=[classroom.pk, busy_class.pk]))
    insight = response.context["insight"]
    assert (insight["learners"], insight["started"], insight["submitted"]) == (4, 3, 1)
    tasks = {t["id"]: t for t in insight["tasks"]}
    assert tasks["versioning"]["passed"] == 1 and tasks["versions"]["passed"] == 0
    assert tasks["versioning"]["failures"] == 4 and tasks["versioning"]["failed_learners"] == 2
    assert [t["id"] for t in insight["most_failed"]] == ["versions", "versioning"]  # 5 failures, then 4
    assert tasks["versioning"]["feedback"][0]["feedback"] == NOT_VERSIONED
    assert tasks["versioning"]["feedback"][0]["n"] == 4
    # bob is flagged idle, on the first task he has not passed; erin (active) and alice (submitted) are not.
    assert [(f["learner"].username, f["stuck_on"]) for f in insight["idle"]] == [("bob", "Turn on versioning")]
    assert 24 <= insight["idle"][0]["idle_minutes"] <= 26
    html = response.content.decode()
    assert NOT_VERSIONED in html and "× 4" in html
    assert 'data-idle="bob"' in html and "on “Turn on versioning”" in html


def test_a_learner_whose_session_ended_is_not_flagged_idle(busy_class, bob, irene, classroom):
    LabSession.objects.filter(user=bob).update(status=LabSession.Status.ENDED)
    response = client_for(irene).get(reverse("classroom:assignment", args=[classroom.pk, busy_class.pk]))
    assert response.context["insight"]["idle"] == []


def test_charts_are_svg_with_a_title_a_description_and_the_numbers_as_a_table(busy_class, irene, classroom):
    html = client_for(irene).get(reverse("classroom:assignment", args=[classroom.pk, busy_class.pk])).content.decode()
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) == 3  # scores, time to complete, pass rate per task
    for svg in svgs:
        assert 'role="img"' in svg and "<title" in svg and "<desc" in svg and "<rect" in svg
    assert "<script" not in html.split("<main", 1)[1]  # readable without JavaScript
    pass_rate = next(svg for svg in svgs if "Pass rate per task" in svg)
    assert "versioning: 33%" in pass_rate and "versions: 0%" in pass_rate
    assert "Of 3 learners who started, the lowest pass rate is 0% on “Upload two versions”." in html
    assert "1 scored; median 40%; 0 with full marks; 1 below 50%." in html
    assert html.count("The numbers as a table") == 3


def test_score_distribution_bands():
    chart = charts.score_distribution("s", "Scores", [0, 9.9, 10, 55, 99.9, 100, 100])
    counts = {bar.label: bar.value for bar in chart.bars}
    assert counts["0–9%"] == 2 and counts["10–19%"] == 1 and counts["50–59%"] == 1
    assert counts["90–99%"] == 1 and counts["100%"] == 2
    assert chart.summary == "7 scored; median 55%; 2 with full marks; 3 below 50%."
    # A count axis tops out at a multiple of its 4 grid steps (whole numbers on every line): 2 is half of 4.
    assert [tick["text"] for tick in chart.ticks] == ["0", "1", "2", "3", "4"]
    tallest = max(chart.bars, key=lambda bar: bar.value)
    assert tallest.h == (charts.HEIGHT - charts.TOP - charts.BOTTOM) / 2


def test_time_to_complete_uses_round_bands():
    chart = charts.time_to_complete("t", "Time", [4, 12, 38, 41, 79])
    assert [bar.label for bar in chart.bars][:2] == ["0–10", "10–20"]
    assert sum(bar.value for bar in chart.bars) == 5
    assert "median 38 minutes; fastest 4, slowest 79" in chart.summary


def test_empty_charts_say_so_without_a_picture():
    assert charts.time_to_complete("t", "Time", []).empty
    chart = charts.score_distribution("s", "Scores", [])
    assert chart.empty and chart.summary == "No scores yet."
