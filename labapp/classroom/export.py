"""The gradebook as CSV: one row per learner, one column per assignment (the score, blank when there is
none), then the average; with `tasks=True` also each assignment's status and each lab task's points.

The web export and `manage.py gradebook <class> --csv` both call `gradebook_csv`, so they are the same.
"""

from __future__ import annotations

import csv
import io

from .models import Assignment, Classroom, Submission
from .selectors import gradebook

# Spreadsheets run a cell starting with one of these as a formula; names come from uploaded rosters.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def gradebook_csv(classroom: Classroom, *, tasks: bool = False) -> str:
    book = gradebook(classroom)
    task_results = _task_points(classroom) if tasks else {}
    header = ["username", "name", "email"]
    for a in book.assignments:
        header.append(f"{a.short_title} (of {_max(a)})")
        if tasks:
            header.append(f"{a.short_title}: status")
            if a.kind == Assignment.Kind.LAB:
                header += [f"{a.short_title}: {t['id']} (of {t['points']})" for t in a.lab.tasks]
    header.append("average %")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in book.rows:
        user = row.learner
        line = [_text(user.username), _text(user.get_full_name()), _text(user.email or "")]
        for a, cell in zip(book.assignments, row.cells, strict=True):
            line.append("" if cell.score is None or not cell.is_done else cell.score)
            if tasks:
                line.append(cell.status_label + (f" ({cell.late_reason})" if cell.late_reason else ""))
                if a.kind == Assignment.Kind.LAB:
                    points = task_results.get((a.pk, user.pk), {})
                    line += [points.get(t["id"], "") for t in a.lab.tasks]
        line.append("" if row.average is None else f"{row.average:.1f}")
        writer.writerow(line)
    return out.getvalue()


def _max(assignment: Assignment) -> int:
    if assignment.kind == Assignment.Kind.LAB:
        return assignment.lab.max_score
    return getattr(assignment, "quiz_size", 0)


def _task_points(classroom: Classroom) -> dict:
    """{(assignment id, learner id): {task id: points}} of the submissions (the regrade when there is one)."""
    found = {}
    for s in Submission.objects.filter(assignment__classroom=classroom).values(
        "assignment_id", "learner_id", "regraded_at", "regraded_results", "attempt__results"
    ):
        results = s["regraded_results"] if s["regraded_at"] else s["attempt__results"]
        found[(s["assignment_id"], s["learner_id"])] = {r["id"]: r["points"] for r in results or []}
    return found
