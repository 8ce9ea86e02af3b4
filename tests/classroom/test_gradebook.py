"""The gradebook matrix: statuses and scores, sorting, filtering, the cell detail, the CSV export (web and
command line), and a query count that does not grow with the class."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from labapp.classroom import services
from labapp.classroom.models import Assignment, Membership, Submission
from labapp.labs.models import Attempt, LabSession

from .conftest import add_call, client_for, days, grade_now, graded_attempt, make_session, make_user, quiz_attempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def worked(classroom, lab_assignment, quiz_assignment, alice, bob, lab, module, no_broker, irene):
    """alice submitted the lab on time (2/5) and passed the quiz (3/4); bob is still working on the lab
    and finished the quiz after the due date; dora (a third learner) has done nothing."""
    session = make_session(alice, lab, created_at=timezone.now() - timedelta(minutes=40))
    add_call(session, "CreateBucket", at=timezone.now() - timedelta(minutes=35))
    add_call(session, "PutBucketVersioning", at=timezone.now() - timedelta(minutes=20))
    add_call(session, "PutObject", at=timezone.now() - timedelta(minutes=19), status=403, error_code="AccessDenied")
    graded_attempt(session, passed=(False, False), created_at=timezone.now() - timedelta(minutes=30))
    submission = services.submit(alice, session, lab_assignment)
    grade_now(submission.attempt, passed=(True, False))
    bob_session = make_session(bob, lab)
    graded_attempt(bob_session, passed=(True, False))
    Assignment.objects.filter(pk=quiz_assignment.pk).update(due_at=days(-1), opens_at=days(-3))
    quiz_attempt(alice, module, correct=3, started=timezone.now() - timedelta(days=2))
    quiz_attempt(bob, module, correct=4, started=timezone.now() - timedelta(hours=1))
    dora = make_user("dora")
    Membership.objects.create(classroom=classroom, user=dora)
    return {"submission": submission, "dora": dora}


def rows_of(response):
    return {row.learner.username: row for row in response.context["book"].rows}


def test_cells_show_score_and_status(worked, classroom, irene):
    response = client_for(irene).get(reverse("classroom:gradebook", args=[classroom.pk]))
    rows = rows_of(response)
    alice, bob, dora = rows["alice"].cells, rows["bob"].cells, rows["dora"].cells
    # Columns are by due date: the quiz (due yesterday) then the lab.
    assert [(c.status, c.label) for c in alice] == [("submitted", "3/4"), ("submitted", "2/5")]
    assert [(c.status, c.label) for c in bob] == [("late", "4/4"), ("in_progress", "In progress")]
    assert [(c.status, c.label) for c in dora] == [("not_started", "Not started"), ("not_started", "Not started")]
    # Averages count the missed past-due quiz as 0 and ignore the lab not yet due.
    assert rows["dora"].average == 0
    assert rows["alice"].average == pytest.approx((75 + 40) / 2)
    page = response.content.decode()
    assert page.count('class="cell s-late"') == 1 and "late</span>" in page


def test_columns_sort_both_ways_and_filters_narrow_the_rows(worked, classroom, irene, lab_assignment):
    client = client_for(irene)
    url = reverse("classroom:gradebook", args=[classroom.pk])
    order = lambda response: [r.learner.username for r in response.context["book"].rows]  # noqa: E731
    assert order(client.get(url)) == ["alice", "bob", "dora"]
    assert order(client.get(url, {"sort": "name", "dir": "desc"})) == ["dora", "bob", "alice"]
    by_lab = client.get(url, {"sort": f"a{lab_assignment.pk}", "dir": "desc"})
    assert order(by_lab)[0] == "alice"
    assert 'aria-sort="descending"' in by_lab.content.decode()
    assert order(client.get(url, {"sort": "average", "dir": "desc"})) == ["bob", "alice", "dora"]
    assert order(client.get(url, {"status": "late"})) == ["bob"]
    assert order(client.get(url, {"status": "in_progress", "assignment": lab_assignment.pk})) == ["bob"]
    assert order(client.get(url, {"status": "not_started", "assignment": lab_assignment.pk})) == ["dora"]
    narrowed = client.get(url, {"q": "liddell"})  # alice's last name
    assert order(narrowed) == ["alice"]
    assert "1</span> of 3 learners" in narrowed.content.decode()


def test_a_cell_opens_the_learners_attempts_and_journal_timeline(worked, classroom, irene, lab_assignment, alice):
    page = client_for(irene).get(reverse("classroom:cell", args=[classroom.pk, lab_assignment.pk, alice.pk]))
    html = page.content.decode()
    assert page.context["cell"].status == "submitted"
    # Both attempts, the check and the submission, with per-task results and feedback.
    assert html.count('class="attempt-detail"') == 2
    assert "index.html has 1 version; upload it again." in html
    assert 'data-task="versioning" data-passed="true"' in html
    # The timeline: the session, the calls (a refused one marked), the check and the submission, in order.
    events = [e["kind"] for e in page.context["events"]]
    assert events == ["session", "call", "check", "call", "call", "submit"]
    assert "AccessDenied" in html and "Submitted for grading" in html


def test_a_quiz_cell_lists_the_quiz_attempts(worked, classroom, irene, quiz_assignment, bob):
    page = client_for(irene).get(reverse("classroom:cell", args=[classroom.pk, quiz_assignment.pk, bob.pk]))
    assert page.context["cell"].late_reason == "after the due date"
    assert "4/4" in page.content.decode()


def test_cells_of_people_not_in_the_class_are_not_found(worked, classroom, irene, lab_assignment, carol, tara):
    client = client_for(irene)
    for user in (carol, tara):
        assert client.get(reverse("classroom:cell", args=[classroom.pk, lab_assignment.pk, user.pk])).status_code == 404


def test_csv_export_has_a_row_per_learner_and_a_column_per_assignment(worked, classroom, irene):
    response = client_for(irene).get(reverse("classroom:gradebook-csv", args=[classroom.pk]))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["username", "name", "email", "quiz-s3 (of 4)", "class-test-lab (of 5)", "average %"]
    assert rows[1] == ["alice", "Alice Liddell", "alice@example.org", "3", "2", "57.5"]
    assert rows[2] == ["bob", "", "bob@example.org", "4", "", "100.0"]
    assert rows[3] == ["dora", "", "dora@example.org", "", "", "0.0"]


def test_csv_with_per_task_detail_and_the_command_prints_the_same(worked, classroom, irene):
    web = client_for(irene).get(reverse("classroom:gradebook-csv", args=[classroom.pk]), {"tasks": "1"})
    rows = list(csv.reader(io.StringIO(web.content.decode())))
    assert rows[0][3:] == ["quiz-s3 (of 4)", "quiz-s3: status", "class-test-lab (of 5)", "class-test-lab: status",
                           "class-test-lab: versioning (of 2)", "class-test-lab: versions (of 3)", "average %"]
    assert rows[1][3:] == ["3", "Submitted", "2", "Submitted", "2", "0", "57.5"]
    assert rows[2][4] == "Late (after the due date)"
    out = io.StringIO()
    call_command("gradebook", str(classroom.pk), "--csv", "--tasks", stdout=out)
    assert out.getvalue() == web.content.decode()
    by_code = io.StringIO()
    call_command("gradebook", classroom.join_code, "--csv", stdout=by_code)
    assert by_code.getvalue() == client_for(irene).get(reverse("classroom:gradebook-csv", args=[classroom.pk])).content.decode()


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(classroom, lab_assignment, irene):
    Membership.objects.create(classroom=classroom, user=make_user("mallory", first_name="=HYPERLINK(\"x\")"))
    text = client_for(irene).get(reverse("classroom:gradebook-csv", args=[classroom.pk])).content.decode()
    assert "'=HYPERLINK" in text


def test_a_regraded_submission_shows_the_new_score_and_keeps_the_original(worked, classroom, irene, lab_assignment,
                                                                          alice):
    submission = worked["submission"]
    Submission.objects.filter(pk=submission.pk).update(
        regraded_score=5, regraded_max_score=5, regraded_at=timezone.now(),
        regraded_results=[{"id": "versioning", "title": "Turn on versioning", "points": 2, "max_points": 2,
                           "passed": True, "feedback": ""},
                          {"id": "versions", "title": "Upload two versions", "points": 3, "max_points": 3,
                           "passed": True, "feedback": ""}])
    rows = rows_of(client_for(irene).get(reverse("classroom:gradebook", args=[classroom.pk])))
    assert rows["alice"].cells[1].label == "5/5" and rows["alice"].cells[1].regraded
    html = client_for(irene).get(reverse("classroom:cell", args=[classroom.pk, lab_assignment.pk, alice.pk])).content.decode()
    assert "Original result: <strong>2/5</strong>" in html and "after regrade" in html and "<strong>5/5</strong>" in html


def _class_of(size, irene, lab, module, questions):
    """A class of `size` learners with a lab and a quiz assigned, every learner with some work."""
    classroom = services.create_classroom(irene, f"Class of {size}")
    lab_a = services.create_assignment(classroom, lab=lab, opens_at=days(-3), due_at=days(3))
    services.create_assignment(classroom, module=module, opens_at=days(-3), due_at=days(-1))
    for i in range(size):
        user = make_user(f"learner{size}-{i}")
        Membership.objects.create(classroom=classroom, user=user)
        session = make_session(user, lab)
        graded_attempt(session)
        if i % 2:
            attempt = Attempt.objects.create(session=session, kind="submit", status="graded", score=3, max_score=5,
                                             results=[])
            Submission.objects.create(assignment=lab_a, learner=user, session=session, attempt=attempt,
                                      submitted_at=timezone.now(), started_at=session.created_at,
                                      due_at=lab_a.due_at)
        if i % 3:
            quiz_attempt(user, module, correct=i % 4)
        if i % 5 == 0:
            services.grant_extension(lab_a, user, days(5), "", irene)
    return classroom


def test_the_gradebook_query_count_does_not_grow_with_learners(irene, lab, module, questions, no_broker):
    client = client_for(irene)
    counts = {}
    for size in (5, 50):
        classroom = _class_of(size, irene, lab, module, questions)
        url = reverse("classroom:gradebook", args=[classroom.pk])
        client.get(url)  # warm: session and user loading are not the gradebook's
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert len(response.context["book"].rows) == size
        counts[size] = len(queries)
    assert counts[5] == counts[50], counts
    assert counts[50] <= 12, counts


def test_the_csv_export_query_count_does_not_grow_with_learners(irene, lab, module, questions, no_broker):
    client = client_for(irene)
    counts = {}
    for size in (5, 50):
        classroom = _class_of(size, irene, lab, module, questions)
        url = reverse("classroom:gradebook-csv", args=[classroom.pk])
        client.get(url, {"tasks": "1"})
        with CaptureQueriesContext(connection) as queries:
            client.get(url, {"tasks": "1"})
        counts[size] = len(queries)
    assert counts[5] == counts[50], counts


def test_an_ended_session_still_counts_as_started(classroom, lab_assignment, bob, lab, irene):
    make_session(bob, lab, status=LabSession.Status.ENDED)
    rows = rows_of(client_for(irene).get(reverse("classroom:gradebook", args=[classroom.pk])))
    assert rows["bob"].cells[0].status == "in_progress"


def test_a_submission_the_worker_could_not_grade_says_so(classroom, lab_assignment, bob, lab, irene, no_broker):
    submission = services.submit(bob, make_session(bob, lab), lab_assignment)
    Attempt.objects.filter(pk=submission.attempt_id).update(
        status=Attempt.Status.FAILED, error="The lab session ended before this check ran.")
    response = client_for(irene).get(reverse("classroom:gradebook", args=[classroom.pk]))
    cell = rows_of(response)["bob"].cells[0]
    assert (cell.status, cell.label, cell.score) == ("submitted", "Grading failed", None)
    detail = client_for(irene).get(reverse("classroom:cell", args=[classroom.pk, lab_assignment.pk, bob.pk]))
    assert "The lab session ended before this check ran." in detail.content.decode()


def test_names_in_the_matrix_are_escaped(classroom, lab_assignment, irene):
    Membership.objects.create(classroom=classroom, user=make_user("eve", first_name="<img src=x onerror=alert(1)>"))
    html = client_for(irene).get(reverse("classroom:gradebook", args=[classroom.pk])).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_cell_links_lead_to_the_cells(worked, classroom, irene, lab_assignment, alice):
    import re
    from urllib.parse import urljoin

    from django.urls import resolve

    url = reverse("classroom:gradebook", args=[classroom.pk])
    html = client_for(irene).get(url, {"sort": "name"}).content.decode()
    href = re.search(r'<tr data-learner="alice">.*?<td class="cell[^"]*"><a href="([^"]+)"', html).group(1)
    match = resolve(urljoin(url, href))
    assert match.url_name == "cell" and match.kwargs["user_id"] == alice.pk


def test_the_command_without_csv_prints_a_readable_summary(worked, classroom):
    out = io.StringIO()
    call_command("gradebook", classroom.name, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "DVA-C02 cohort: 3 learners, 2 assignments"
    assert lines[1].split() == ["alice", "58%", "quiz-s3=3/4", "class-test-lab=2/5"]


def test_quiz_lateness_in_the_matrix_matches_the_cell_detail(classroom, quiz_assignment, alice, bob, module, irene):
    """The matrix decides lateness in SQL, the cell page in Python: the same answers, extensions included."""
    Assignment.objects.filter(pk=quiz_assignment.pk).update(opens_at=days(-3), due_at=days(-1), time_limit_minutes=10)
    services.grant_extension(Assignment.objects.get(pk=quiz_assignment.pk), alice, days(1), "", irene)
    quiz_attempt(alice, module, correct=2, minutes=5)                    # after the due date, within her extension
    quiz_attempt(bob, module, correct=4, minutes=15, started=days(-2))   # before the due date, over the limit
    rows = rows_of(client_for(irene).get(reverse("classroom:gradebook", args=[classroom.pk])))
    matrix = {name: (rows[name].cells[0].status, rows[name].cells[0].late_reason) for name in ("alice", "bob")}
    assert matrix == {"alice": ("submitted", ""), "bob": ("late", "over the 10-minute time limit")}
    for user in (alice, bob):
        detail = client_for(irene).get(reverse("classroom:cell", args=[classroom.pk, quiz_assignment.pk, user.pk]))
        assert (detail.context["cell"].status, detail.context["cell"].late_reason) == matrix[user.username]
