"""The instructor's first hour: the dashboard they land on, the assignment form, tabs and copy of the
assignment, regrade and cell pages."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from labapp.classroom import services
from labapp.classroom.models import RegradeRun
from labapp.classroom.selectors import _offset
from labapp.courses.models import Lab, Module

from .conftest import LAB_DEFINITION, add_call, client_for, days, graded_attempt, make_session, quiz_attempt

pytestmark = pytest.mark.django_db


def test_an_instructor_lands_on_the_dashboard_and_a_learner_on_the_learner_home(classroom, irene, alice):
    page = client_for(irene).get(reverse("home")).content.decode()
    assert "data-instructor-dashboard" in page and "Your teaching" in page
    assert reverse("classroom:class", args=[classroom.pk]) in page
    assert reverse("classroom:gradebook", args=[classroom.pk]) in page
    assert "2 learners" in page
    # The learner's own home is one link away, for an instructor who reads the course.
    learner_view = client_for(irene).get(reverse("home") + "?view=learner").content.decode()
    assert "data-instructor-dashboard" not in learner_view and "Learn AWS by doing it" in learner_view
    alice_home = client_for(alice).get(reverse("home")).content.decode()
    assert "data-instructor-dashboard" not in alice_home and "Your assignments" in alice_home


def test_a_teaching_assistant_lands_on_the_dashboard_too(classroom, tara):
    page = client_for(tara).get(reverse("home")).content.decode()
    assert "data-instructor-dashboard" in page and "teaching assistant" in page


def test_a_new_instructor_without_classes_is_offered_to_create_one(irene):
    page = client_for(irene).get(reverse("home")).content.decode()
    assert "Create your first class" in page and reverse("classroom:classes") in page


def test_due_soon_lists_the_coming_week_with_how_many_handed_in(classroom, irene, alice, module, questions, lab):
    quiz = services.create_assignment(classroom, module=module, opens_at=days(-2), due_at=days(3))
    later = services.create_assignment(classroom, lab=lab, opens_at=days(-2), due_at=days(10))
    quiz_attempt(alice, module, correct=3)
    page = client_for(irene).get(reverse("home")).content.decode()
    due = page.split("data-dash-due")[1].split("data-dash-stuck")[0]
    assert f'data-due-assignment="{quiz.pk}"' in due
    assert 'data-submitted="1"' in due and "of 2" in due
    assert reverse("classroom:assignment", args=[classroom.pk, quiz.pk]) in due  # insight
    assert f'data-due-assignment="{later.pk}"' not in due  # due in 10 days: not this week


def test_who_is_stuck_names_failing_and_idle_learners(classroom, irene, alice, bob, lab_assignment, lab):
    failing = make_session(alice, lab)
    graded_attempt(failing, passed=(True, False))
    graded_attempt(failing, passed=(True, False))
    idle_since = timezone.now() - timedelta(minutes=30)
    make_session(bob, lab, created_at=idle_since)
    page = client_for(irene).get(reverse("home")).content.decode()
    stuck = page.split("data-dash-stuck")[1]
    alice_row = stuck.split('data-stuck="alice"')[1].split("</li>")[0]
    assert "Upload two versions" in alice_row and "2 failed checks" in alice_row
    assert reverse("classroom:cell", args=[classroom.pk, lab_assignment.pk, alice.pk]) in stuck
    bob_row = stuck.split('data-stuck="bob"')[1].split("</li>")[0]
    assert re.search(r"idle (29|30|31) minutes", bob_row)


def test_a_learner_who_is_progressing_is_not_stuck(classroom, irene, alice, lab_assignment, lab):
    session = make_session(alice, lab)
    graded_attempt(session, passed=(True, True))
    add_call(session)
    page = client_for(irene).get(reverse("home")).content.decode()
    assert 'data-stuck="alice"' not in page
    assert "Nobody looks stuck right now" in page


def test_the_dashboard_shows_nothing_of_other_instructors_classes(classroom, other_class, oscar, irene):
    page = client_for(oscar).get(reverse("home")).content.decode()
    assert "Oscar&#x27;s class" in page or "Oscar's class" in page
    assert "DVA-C02 cohort" not in page


# --- The assignment form -----------------------------------------------------------------------------


def test_the_assignment_select_is_grouped_by_module_and_dates_default_to_a_week(classroom, irene, lab, module,
                                                                                questions, course):
    other = Module.objects.create(uuid=uuid.uuid4(), course=course, slug="iam", title="IAM", order=2)
    Lab.objects.create(uuid=uuid.uuid4(), module=other, slug="iam-lab", title="Users and groups", minutes=10,
                       definition=LAB_DEFINITION, source_path="courses/y.yaml")
    page = client_for(irene).get(reverse("classroom:class", args=[classroom.pk])).content.decode()
    select = page.split('name="item"')[1].split("</select>")[0]
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert [label for label, _ in groups] == ["Amazon S3", "IAM"]
    assert "Lab: Version a bucket" in groups[0][1] and "Quiz: Amazon S3" in groups[0][1]
    assert "Lab: Users and groups" in groups[1][1]
    now = timezone.now()
    opens = re.search(r'name="opens_at" value="([^"]+)"', page).group(1)
    due = re.search(r'name="due_at" value="([^"]+)"', page).group(1)
    assert opens[:10] == f"{now:%Y-%m-%d}" or opens[:10] == f"{now - timedelta(minutes=1):%Y-%m-%d}"
    assert due[:10] == f"{now + timedelta(days=7):%Y-%m-%d}" or due[:10] == f"{now + timedelta(days=7, minutes=-1):%Y-%m-%d}"
    assert "In UTC (Coordinated Universal Time)" in page  # the inputs say which time zone they take
    assert "js/localtime.js" in page and "data-utc-input" in page


def test_dates_are_machine_readable_for_the_local_time_script(classroom, irene, lab_assignment):
    page = client_for(irene).get(reverse("classroom:class", args=[classroom.pk])).content.decode()
    due = timezone.localtime(lab_assignment.due_at, timezone.UTC)
    assert f'<time datetime="{due.isoformat()}" data-local-time>{due:%-d %b %Y, %H:%M} UTC</time>' in page


# --- Tabs, regrade, cell -----------------------------------------------------------------------------


def current_tab(page: str) -> str:
    tabs = page.split('class="class-tabs"')[1].split("</nav>")[0]
    return re.search(r'aria-current="page">([^<]+)<', tabs).group(1)


def test_the_assignments_tab_is_highlighted_on_insight_and_regrade_pages(classroom, irene, lab_assignment, alice):
    client = client_for(irene)
    assert current_tab(client.get(reverse("classroom:assignment", args=[classroom.pk, lab_assignment.pk]))
                       .content.decode()) == "Assignments"
    run = RegradeRun.objects.create(assignment=lab_assignment, requested_by=irene)
    page = client.get(reverse("classroom:regrade", args=[classroom.pk, run.pk])).content.decode()
    assert current_tab(page) == "Assignments"
    assert reverse("classroom:assignment", args=[classroom.pk, lab_assignment.pk]) in page  # back to it
    assert current_tab(client.get(reverse("classroom:gradebook", args=[classroom.pk])).content.decode()) == "Gradebook"


def test_timeline_offsets_say_their_units():
    assert _offset(timedelta(seconds=2)) == "2 s"
    assert _offset(timedelta(minutes=3, seconds=4)) == "3 min 04 s"
    assert _offset(timedelta(hours=1, minutes=2, seconds=3)) == "1 h 02 min 03 s"


def test_the_cell_timeline_reads_checked_progress_without_a_stray_space(classroom, irene, alice, lab_assignment,
                                                                        lab):
    session = make_session(alice, lab, created_at=timezone.now() - timedelta(minutes=5))
    graded_attempt(session, passed=(True, False))
    page = client_for(irene).get(reverse("classroom:cell", args=[classroom.pk, lab_assignment.pk, alice.pk])) \
        .content.decode()
    assert "Checked progress</strong>: 2/5" in page
    assert re.search(r"<td>\d+ min \d\d s</td>", page)
