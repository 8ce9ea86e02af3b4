"""Reads for the instructor workspace and the learner's assignment list.

The gradebook is computed with a fixed number of queries whatever the class size (about seven: the
assignments, the learners, extensions, submissions, lab sessions grouped per learner and lab, quiz
attempts, quiz sizes) and assembled in Python; no query runs per learner or per cell. The
test in tests/classroom/test_gradebook.py holds it to that.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, Count, DateTimeField, F, IntegerField, Min, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from labapp.labs.models import ApiCall, Attempt, LabSession, TaskResult
from labapp.quizzes.models import Question, QuizAttempt

from labapp.web.selectors import journal_row

from .models import Assignment, Classroom, Extension, Membership, Submission
from .services import lateness

NOT_STARTED, IN_PROGRESS, SUBMITTED, LATE, GRADING = "not_started", "in_progress", "submitted", "late", "grading"
STATUS_LABELS = {
    NOT_STARTED: "Not started",
    IN_PROGRESS: "In progress",
    GRADING: "Being graded",
    SUBMITTED: "Submitted",
    LATE: "Late",
}
# A learner with a live session and no activity for this long is flagged as idle ("stuck?").
IDLE_AFTER = timedelta(minutes=10)


@dataclass(slots=True)
class Cell:
    status: str = NOT_STARTED
    score: int | None = None
    max_score: int | None = None
    late_reason: str = ""
    regraded: bool = False
    grading_failed: bool = False
    due_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def percent(self) -> float | None:
        if self.score is None or not self.max_score:
            return None
        return 100.0 * self.score / self.max_score

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def label(self) -> str:
        if self.grading_failed:
            return "Grading failed"
        if self.score is not None and self.status in (SUBMITTED, LATE):
            return f"{self.score}/{self.max_score}"
        return STATUS_LABELS[self.status]

    @property
    def is_done(self) -> bool:
        return self.status in (SUBMITTED, LATE)


# Shared by every "not started" cell of the matrix that has no extension (read-only there).
NOT_STARTED_CELL = Cell()


def compute_cells(assignments: list[Assignment], learner_ids, *, timing: bool = False) -> dict[tuple[int, int], Cell]:
    """{(assignment id, learner id): Cell} for every pair with something to show (work, an extension);
    a missing pair is "not started". `learner_ids` is a list or a values() queryset (used as a subquery,
    so the learners are not loaded twice). With `timing`, cells also get when the work started and
    finished (for the time-to-complete chart); the matrix does without, since converting thousands of
    datetimes is a good part of its time budget.

    Assignments are taken one class at a time: within a class a lab (or a quiz) is assigned once, so a
    lab session or quiz attempt belongs to one assignment; across a learner's classes the same lab may
    be assigned twice (the learner's home page), each with its own dates."""
    by_class: dict[int, list[Assignment]] = defaultdict(list)
    for a in assignments:
        by_class[a.classroom_id].append(a)
    cells: dict[tuple[int, int], Cell] = {}
    for group in by_class.values():
        cells.update(_class_cells(group, learner_ids, timing))
    return cells


def _class_cells(assignments: list[Assignment], learner_ids, timing: bool) -> dict[tuple[int, int], Cell]:
    cells: dict[tuple[int, int], Cell] = {}
    by_id = {a.id: a for a in assignments}
    due = {a.id: a.due_at for a in assignments}
    extensions = {
        (e[0], e[1]): e[2]
        for e in Extension.objects.filter(assignment_id__in=by_id, learner_id__in=learner_ids)
        .values_list("assignment_id", "learner_id", "due_at")
    }

    def cell(assignment_id, learner_id) -> Cell:
        key = (assignment_id, learner_id)
        found = cells.get(key)
        if found is None:
            found = cells[key] = Cell(due_at=extensions.get(key) or due[assignment_id])
        return found

    for assignment_id, learner_id in extensions:
        cell(assignment_id, learner_id)  # an extended learner's due date shows before they start

    labs = [a for a in assignments if a.kind == Assignment.Kind.LAB]
    quizzes = [a for a in assignments if a.kind == Assignment.Kind.QUIZ]
    if labs:
        lab_assignment = {a.lab_id: a.id for a in labs}
        window = _since_opening(labs, "lab_id", "created_at")
        # order_by(): the model's default ordering would add created_at to the DISTINCT and the GROUP BY.
        started = LabSession.objects.filter(window, user_id__in=learner_ids).order_by().values("user_id", "lab_id")
        if timing:
            for row in started.annotate(first=Min("created_at")):
                c = cell(lab_assignment[row["lab_id"]], row["user_id"])
                c.status, c.started_at = IN_PROGRESS, row["first"]
        else:
            # The hot loop of a big class (one row per learner and lab): inlined `cell`.
            for user_id, lab_id in started.distinct().values_list("user_id", "lab_id"):
                key = (lab_assignment[lab_id], user_id)
                found = cells.get(key)
                if found is None:
                    cells[key] = Cell(status=IN_PROGRESS, due_at=due[key[0]])
                else:
                    found.status = IN_PROGRESS
        fields = ["assignment_id", "learner_id", "late", "late_reason", "regraded_max_score", "regraded_score",
                  "attempt__status", "attempt__score", "attempt__max_score"]
        if timing:
            fields += ["started_at", "submitted_at"]
        graded, failed, pending = Attempt.Status.GRADED, Attempt.Status.FAILED, (Attempt.Status.QUEUED,
                                                                                Attempt.Status.RUNNING)
        for s in Submission.objects.filter(assignment_id__in=[a.id for a in labs], learner_id__in=learner_ids) \
                .order_by().values_list(*fields):
            c = cell(s[0], s[1])
            c.late_reason = s[3]
            if timing:
                c.started_at, c.finished_at = s[9], s[10]
            status = s[6]
            if s[4] is not None:  # regraded: set together with regraded_at
                c.score, c.max_score, c.regraded = s[5], s[4], True
            elif status == graded:
                c.score, c.max_score = s[7], s[8]
            if status in pending:
                c.status = GRADING
            else:
                c.status = LATE if s[2] else SUBMITTED
                if status == failed and s[4] is None:
                    # The worker could not grade it (the session ended first, or a check kept crashing):
                    # shown as such, never as a score the learner did not earn; it counts as 0 in averages.
                    c.grading_failed = True
    if quizzes:
        quiz_assignment = {a.module_id: a for a in quizzes}
        window = _since_opening(quizzes, "module_id", "started_at")
        sizes = dict(
            Question.objects.filter(module_id__in=quiz_assignment).values("module_id")
            .annotate(n=Count("id")).values_list("module_id", "n")
        )
        attempts = QuizAttempt.objects.filter(window, user_id__in=learner_ids).order_by("started_at")
        if timing:
            rows = (
                (user_id, module_id, correct, total, started_at, finished_at,
                 lateness(quiz_assignment[module_id], cell(quiz_assignment[module_id].id, user_id).due_at,
                          started_at, finished_at) if finished_at else None)
                for user_id, module_id, correct, total, started_at, finished_at in attempts.values_list(
                    "user_id", "module_id", "correct", "total", "started_at", "finished_at")
            )
        else:
            # The matrix asks the database whether each attempt was late instead of converting two
            # datetimes per attempt here (thousands in a big class).
            rows = ((user_id, module_id, correct, total, None, None, _LATENESS[code](quiz_assignment[module_id]))
                    for user_id, module_id, correct, total, code in attempts.annotate(
                        lateness_code=_quiz_lateness(quizzes)).values_list(
                        "user_id", "module_id", "correct", "total", "lateness_code"))
        for user_id, module_id, correct, total, started_at, finished_at, reason in rows:
            assignment = quiz_assignment[module_id]
            c = cell(assignment.id, user_id)
            if c.started_at is None:
                c.started_at = started_at
            if reason is None:  # not finished
                if not c.is_done:
                    c.status = IN_PROGRESS
                continue
            # The best on-time attempt counts; a late one counts only while there is no on-time one.
            candidate = (not reason, correct / total if total else 0)
            current = (c.status == SUBMITTED, c.percent / 100 if c.percent is not None else -1) if c.is_done else None
            if current is None or candidate > current:
                c.status = LATE if reason else SUBMITTED
                c.score, c.max_score, c.late_reason = correct, total, reason
                c.finished_at = finished_at
        for a in quizzes:
            a.quiz_size = sizes.get(a.module_id, 0)
    return cells


# What `_quiz_lateness` codes mean, as `lateness` would say it (None: the attempt is not finished).
_LATENESS = {
    0: lambda a: None,
    1: lambda a: "after the due date",
    2: lambda a: f"over the {a.time_limit_minutes}-minute time limit",
    3: lambda a: "",
}


def _quiz_lateness(quizzes: list[Assignment]) -> Case:
    """`lateness` for quiz attempts, in SQL: 0 unfinished, 1 after the due date (the learner's extension
    if any), 2 over the time limit, 3 on time."""
    due = Case(*[When(module_id=a.module_id, then=Value(a.due_at)) for a in quizzes], output_field=DateTimeField())
    extension = Extension.objects.filter(
        assignment_id__in=[a.id for a in quizzes], assignment__module_id=OuterRef("module_id"),
        learner_id=OuterRef("user_id"),
    ).values("due_at")[:1]
    over_limit = Q(pk__in=[])
    for a in quizzes:
        if a.time_limit_minutes:
            over_limit |= Q(module_id=a.module_id,
                            finished_at__gt=F("started_at") + timedelta(minutes=a.time_limit_minutes))
    return Case(
        When(finished_at__isnull=True, then=Value(0)),
        When(finished_at__gt=Coalesce(Subquery(extension), due), then=Value(1)),
        When(over_limit, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )


def _since_opening(assignments: list[Assignment], key: str, started: str) -> Q:
    """Work on these assignments' labs (or modules) started since each one opened. Assignments opening
    together share one condition: a class's assignments often open on a few dates, and each OR-ed
    condition costs the database a pass (30 of them tripled the gradebook's largest query)."""
    by_opening = defaultdict(list)
    for a in assignments:
        by_opening[a.opens_at].append(getattr(a, key))
    window = Q()
    for opens_at, ids in by_opening.items():
        window |= Q(**{f"{key}__in": ids, f"{started}__gte": opens_at})
    return window


def max_points(assignment: Assignment) -> int:
    if assignment.kind == Assignment.Kind.LAB:
        return assignment.lab.max_score
    return getattr(assignment, "quiz_size", 0)


@dataclass
class Row:
    learner: object
    cells: list
    average: float | None = None


@dataclass
class Gradebook:
    classroom: Classroom
    assignments: list[Assignment]
    rows: list[Row]
    total_learners: int


def gradebook(classroom: Classroom, *, sort: str = "name", descending: bool = False, query: str = "",
              status: str = "", assignment_filter: int | None = None, now: datetime | None = None) -> Gradebook:
    """The matrix. The average counts an assignment once it is done or its due date (with the learner's
    extension) has passed: a missing past-due piece of work counts as zero, a future one not at all."""
    now = now or timezone.now()
    assignments = list(classroom.assignments.select_related("lab", "module").order_by("due_at", "id"))
    learner_ids = Membership.objects.filter(classroom=classroom, role=Membership.Role.LEARNER).values("user_id")
    learners = list(
        Membership.objects.filter(classroom=classroom, role=Membership.Role.LEARNER)
        .select_related("user").order_by("user__username")
    )
    cells = compute_cells(assignments, learner_ids)
    columns = [(a.id, a.due_at < now) for a in assignments]
    rows = []
    done = (SUBMITTED, LATE)
    for membership in learners:
        user = membership.user
        uid = user.id
        row_cells = []
        total, counted = 0.0, 0
        for assignment_id, past_due in columns:
            c = cells.get((assignment_id, uid))
            if c is None:
                c = NOT_STARTED_CELL
                counted += past_due
            elif c.status in done:
                counted += 1
                if c.score is not None and c.max_score:
                    total += 100.0 * c.score / c.max_score
            elif c.due_at < now:
                counted += 1
            row_cells.append(c)
        rows.append(Row(learner=user, cells=row_cells, average=total / counted if counted else None))
    total = len(rows)
    if query:
        q = query.lower()
        rows = [r for r in rows if q in r.learner.username.lower() or q in r.learner.get_full_name().lower()
                or q in (r.learner.email or "").lower()]
    if status:
        position = next((i for i, a in enumerate(assignments) if a.id == assignment_filter), None)
        if position is not None:
            rows = [r for r in rows if r.cells[position].status == status]
        else:
            rows = [r for r in rows if any(c.status == status for c in r.cells)]
    rows = sort_rows(rows, assignments, sort, descending)
    return Gradebook(classroom=classroom, assignments=assignments, rows=rows, total_learners=total)


def sort_rows(rows: list[Row], assignments: list[Assignment], sort: str, descending: bool) -> list[Row]:
    if sort == "average":
        # Rows without an average go last whichever the direction.
        present = sorted((r for r in rows if r.average is not None), key=lambda r: r.average, reverse=descending)
        return present + [r for r in rows if r.average is None]
    if sort.startswith("a") and sort[1:].isdigit():
        position = next((i for i, a in enumerate(assignments) if a.pk == int(sort[1:])), None)
        if position is not None:
            order = list(STATUS_LABELS)

            def key(r):
                c = r.cells[position]
                return (c.percent if c.percent is not None else -1.0, order.index(c.status))

            return sorted(rows, key=key, reverse=descending)
    return sorted(rows, key=lambda r: r.learner.username.lower(), reverse=descending)


# --- The learner's side -----------------------------------------------------------------------------


def learner_assignments(user) -> list[dict]:
    """Every assignment of the learner's classes with their own deadline and status, soonest due first."""
    if not user.is_authenticated:
        return []
    assignments = list(
        Assignment.objects.filter(
            classroom__memberships__user=user, classroom__memberships__role=Membership.Role.LEARNER
        ).select_related("classroom", "lab", "module__course")
    )
    cells = compute_cells(assignments, [user.pk])
    now = timezone.now()
    items = []
    for a in assignments:
        c = cells.get((a.pk, user.pk)) or Cell(due_at=a.due_at)
        items.append({
            "assignment": a, "cell": c, "due_at": c.due_at, "extended": c.due_at != a.due_at,
            "open": a.opens_at <= now, "overdue": not c.is_done and c.due_at < now,
        })
    items.sort(key=lambda item: (item["cell"].is_done, item["due_at"]))
    return items


# --- A gradebook cell: what the learner did ---------------------------------------------------------


def cell_detail(assignment: Assignment, learner) -> dict:
    cell = compute_cells([assignment], [learner.pk], timing=True).get((assignment.pk, learner.pk)) or Cell(due_at=assignment.due_at)
    if assignment.kind == Assignment.Kind.QUIZ:
        attempts = QuizAttempt.objects.filter(
            user=learner, module_id=assignment.module_id, started_at__gte=assignment.opens_at
        ).order_by("started_at")
        return {"cell": cell, "quiz_attempts": [
            {"attempt": a, "late_reason": lateness(assignment, cell.due_at, a.started_at, a.finished_at)
             if a.finished_at else ""} for a in attempts]}
    submission = Submission.objects.filter(assignment=assignment, learner=learner).select_related("attempt").first()
    sessions = list(
        LabSession.objects.filter(user=learner, lab_id=assignment.lab_id, created_at__gte=assignment.opens_at)
        .order_by("created_at")
    )
    attempts = list(Attempt.objects.filter(session__in=sessions).order_by("created_at"))
    calls = ApiCall.objects.filter(session__in=sessions, source__in=[ApiCall.Source.LEARNER, ApiCall.Source.SETUP])
    if submission is not None:
        calls = calls.filter(at__lte=submission.submitted_at)
    calls = list(calls.order_by("at", "id")[:2000])
    # One timeline: sessions starting, API calls, checks and the submission, in time order.
    events = []
    for s in sessions:
        events.append({"at": s.created_at, "kind": "session", "session": s})
    for call in calls:
        # The same row as the learner's own journal panel shows (parameters formatted alike).
        events.append({"at": call.at, "kind": "call", "call": journal_row(call)})
    for attempt in attempts:
        events.append({"at": attempt.created_at, "kind": "submit" if attempt.kind == "submit" else "check",
                       "attempt": attempt})
    events.sort(key=lambda e: (e["at"], {"session": 0, "call": 1, "check": 2, "submit": 2}[e["kind"]]))
    start = sessions[0].created_at if sessions else None
    for e in events:
        e["offset"] = _offset(e["at"] - start) if start else ""
    return {"cell": cell, "submission": submission, "sessions": sessions, "attempts": attempts,
            "events": events, "calls_shown": len(calls)}


def _offset(delta: timedelta) -> str:
    """Time after the first start, with its units ("45 s", "2 min 05 s", "1 h 02 min 05 s")."""
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {seconds:02d} s"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


# --- Who is stuck where -------------------------------------------------------------------------------


def lab_insight(assignment: Assignment, now: datetime | None = None) -> dict:
    """Per lab assignment: how many started and submitted, how many passed each task, the tasks failed
    most often and their most common feedback, and learners idle on a task."""
    now = now or timezone.now()
    lab = assignment.lab
    learner_ids = Membership.objects.filter(
        classroom_id=assignment.classroom_id, role=Membership.Role.LEARNER
    ).values("user_id")
    learners = Membership.objects.filter(classroom_id=assignment.classroom_id, role=Membership.Role.LEARNER).count()
    sessions = assignment_sessions(assignment, learner_ids)
    started = sessions.values("user_id").distinct().count()
    results = TaskResult.objects.filter(attempt__session__in=sessions, attempt__status=Attempt.Status.GRADED)
    per_task = {
        row["task_id"]: row
        for row in results.values("task_id").annotate(
            passed_learners=Count("attempt__session__user", filter=Q(passed=True), distinct=True),
            failed_learners=Count("attempt__session__user", filter=Q(passed=False), distinct=True),
            failures=Count("id", filter=Q(passed=False)),
        )
    }
    feedback = defaultdict(list)
    for row in (results.filter(passed=False).exclude(feedback="").values("task_id", "feedback")
                .annotate(n=Count("id"), learners=Count("attempt__session__user", distinct=True)).order_by("-n")):
        if len(feedback[row["task_id"]]) < 3:
            feedback[row["task_id"]].append(row)
    tasks = []
    for task in lab.tasks:
        row = per_task.get(task["id"], {})
        tasks.append({
            "id": task["id"], "title": task["title"], "passed": row.get("passed_learners", 0),
            "failed_learners": row.get("failed_learners", 0), "failures": row.get("failures", 0),
            "feedback": feedback.get(task["id"], []),
            "pass_rate": 100.0 * row.get("passed_learners", 0) / started if started else 0.0,
        })
    most_failed = sorted((t for t in tasks if t["failures"]), key=lambda t: -t["failures"])[:3]
    submitted = Submission.objects.filter(assignment=assignment).count()
    return {"learners": learners, "started": started, "submitted": submitted, "tasks": tasks,
            "most_failed": most_failed, "idle": idle_learners(assignment, sessions, now)}


def assignment_sessions(assignment: Assignment, learner_ids=None):
    """The lab sessions of the class's learners on this lab assignment since it opened."""
    if learner_ids is None:
        learner_ids = Membership.objects.filter(
            classroom_id=assignment.classroom_id, role=Membership.Role.LEARNER).values("user_id")
    return LabSession.objects.filter(lab_id=assignment.lab_id, user_id__in=learner_ids,
                                     created_at__gte=assignment.opens_at)


def idle_learners(assignment: Assignment, sessions, now: datetime) -> list[dict]:
    """Learners with a live session, no submission and nothing done for IDLE_AFTER: each with the first
    task their latest check did not pass (the task they are probably stuck on)."""
    submitted = Submission.objects.filter(assignment=assignment).values("learner_id")
    live = list(
        sessions.filter(status=LabSession.Status.READY).exclude(user_id__in=submitted).select_related("user")
        # Subqueries, not Max() over two joins: calls x checks rows per session would multiply.
        .annotate(
            last_call=Subquery(ApiCall.objects.filter(session=OuterRef("pk"), source=ApiCall.Source.LEARNER)
                               .order_by("-id").values("at")[:1]),
            last_check=Subquery(Attempt.objects.filter(session=OuterRef("pk")).order_by("-created_at")
                                .values("created_at")[:1]),
        )
    )
    if not live:
        return []
    latest = {}
    for attempt in (Attempt.objects.filter(session__in=live, status=Attempt.Status.GRADED)
                    .order_by("session_id", "-created_at").values("session_id", "results")):
        latest.setdefault(attempt["session_id"], attempt["results"])
    titles = {t["id"]: t["title"] for t in assignment.lab.tasks}
    flagged = []
    for s in live:
        last = max(t for t in (s.last_call, s.last_check, s.ready_at, s.created_at) if t is not None)
        if now - last < IDLE_AFTER:
            continue
        results = latest.get(s.pk)
        # Before any check the learner is on the first task; after one, on the first task not passed.
        if results is None:
            stuck_on = titles.get(assignment.lab.tasks[0]["id"]) if assignment.lab.tasks else None
        else:
            stuck_on = next((r["title"] for r in results if not r["passed"]), None)
        flagged.append({"learner": s.user, "idle_minutes": int((now - last).total_seconds() // 60),
                        "stuck_on": stuck_on, "checked": results is not None, "session": s})
    return sorted(flagged, key=lambda f: -f["idle_minutes"])


def assignment_cells(assignment: Assignment) -> dict:
    return compute_cells([assignment], Membership.objects.filter(
        classroom_id=assignment.classroom_id, role=Membership.Role.LEARNER).values("user_id"), timing=True)


def completion_minutes(cells: dict) -> list[float]:
    """Minutes from first start to submission (labs) or to finishing (quizzes), for the chart."""
    return [
        (c.finished_at - c.started_at).total_seconds() / 60
        for c in cells.values() if c.is_done and c.started_at and c.finished_at
    ]


def score_percents(cells: dict) -> list[float]:
    return [c.percent for c in cells.values() if c.is_done and c.percent is not None]


# --- The instructor dashboard ---------------------------------------------------------------------------

DUE_SOON = timedelta(days=7)
# Lab assignments are watched for stuck learners while open and for a day after they are due (late work).
STUCK_WATCH_AFTER_DUE = timedelta(days=1)


def failing_learners(assignment: Assignment) -> list[dict]:
    """Learners still working on a lab assignment (a live session, no submission) whose latest check
    failed a task: the first failed task, and how many checks they have run that did not pass it."""
    submitted = Submission.objects.filter(assignment=assignment).values("learner_id")
    live = list(assignment_sessions(assignment).filter(status=LabSession.Status.READY)
                .exclude(user_id__in=submitted).select_related("user"))
    if not live:
        return []
    attempts = defaultdict(list)
    for attempt in (Attempt.objects.filter(session__in=live, status=Attempt.Status.GRADED)
                    .exclude(kind="submit").order_by("-created_at").values("session_id", "results")):
        attempts[attempt["session_id"]].append(attempt["results"])
    flagged = []
    for s in live:
        history = attempts.get(s.pk)
        if not history:
            continue
        stuck_on = next((r for r in history[0] if not r["passed"]), None)
        if stuck_on is None:
            continue
        tries = sum(1 for results in history
                    if any(r["id"] == stuck_on["id"] and not r["passed"] for r in results))
        flagged.append({"learner": s.user, "stuck_on": stuck_on["title"], "failed_checks": tries,
                        "feedback": stuck_on.get("feedback", "")})
    return sorted(flagged, key=lambda f: (-f["failed_checks"], f["learner"].username))


def instructor_dashboard(user, now: datetime | None = None) -> dict:
    """What someone who teaches sees first: their classes, the work due in the next DUE_SOON with how
    many learners have handed it in, and who looks stuck on an open lab assignment (failing checks, idle)."""
    now = now or timezone.now()
    memberships = list(
        Membership.objects.filter(user=user, role__in=Membership.STAFF).select_related("classroom")
        .order_by("classroom__name")
    )
    class_ids = [m.classroom_id for m in memberships]
    learner_counts = dict(
        Membership.objects.filter(classroom_id__in=class_ids, role=Membership.Role.LEARNER)
        .values("classroom_id").annotate(n=Count("id")).values_list("classroom_id", "n")
    )
    assignments = list(
        Assignment.objects.filter(classroom_id__in=class_ids).select_related("classroom", "lab", "module")
        .order_by("due_at", "id")
    )
    due_soon = [a for a in assignments if now <= a.due_at <= now + DUE_SOON]
    due_items = []
    for classroom_id in {a.classroom_id for a in due_soon}:
        group = [a for a in due_soon if a.classroom_id == classroom_id]
        learner_ids = Membership.objects.filter(classroom_id=classroom_id, role=Membership.Role.LEARNER) \
            .values("user_id")
        cells = compute_cells(group, learner_ids)
        for a in group:
            done = sum(1 for (aid, _), c in cells.items() if aid == a.pk and c.is_done)
            due_items.append({"assignment": a, "done": done, "learners": learner_counts.get(classroom_id, 0),
                              "open": a.opens_at <= now})
    due_items.sort(key=lambda item: (item["assignment"].due_at, item["assignment"].pk))
    watched = [a for a in assignments if a.kind == Assignment.Kind.LAB and a.opens_at <= now
               and a.due_at >= now - STUCK_WATCH_AFTER_DUE]
    stuck = []
    for a in watched:
        idle = {f["learner"].pk: f for f in idle_learners(a, assignment_sessions(a), now)}
        for f in failing_learners(a):
            stuck.append({"assignment": a, "learner": f["learner"], "stuck_on": f["stuck_on"],
                          "failed_checks": f["failed_checks"],
                          "idle_minutes": idle.pop(f["learner"].pk, {}).get("idle_minutes")})
        for f in idle.values():
            stuck.append({"assignment": a, "learner": f["learner"], "stuck_on": f["stuck_on"], "failed_checks": 0,
                          "idle_minutes": f["idle_minutes"]})
    stuck.sort(key=lambda f: (-f["failed_checks"], -(f["idle_minutes"] or 0), f["learner"].username))
    return {
        "classes": [{"membership": m, "classroom": m.classroom, "learners": learner_counts.get(m.classroom_id, 0),
                     "assignments": sum(1 for a in assignments if a.classroom_id == m.classroom_id)}
                    for m in memberships],
        "due_soon": due_items, "stuck": stuck, "watched": len(watched),
        "due_days": DUE_SOON.days, "idle_minutes": int(IDLE_AFTER.total_seconds() // 60),
    }
