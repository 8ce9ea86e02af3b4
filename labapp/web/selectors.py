"""Reads that cross relations, for the pages: progress, navigation, lab panels.

Writes never happen here; sessions and attempts change only through labapp.labs.services.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

from django.db.models import F, Max
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import slugify

from labapp.courses.models import Course, Lab, Lesson, LessonProgress, Module
from labapp.labs.models import ApiCall, Attempt, LabSession

JOURNAL_SOURCES = (ApiCall.Source.LEARNER, ApiCall.Source.SETUP)
JOURNAL_PAGE = 200  # rows shown when the page loads; newer ones are appended live


# --- Progress and navigation ------------------------------------------------------------------


def passed_lab_ids(user) -> set[int]:
    """Labs in which the learner has a graded attempt with full marks."""
    if not user.is_authenticated:
        return set()
    return set(
        Attempt.objects.filter(
            session__user=user, status=Attempt.Status.GRADED, max_score__gt=0, score=F("max_score")
        ).values_list("session__lab_id", flat=True)
    )


def read_lesson_ids(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(LessonProgress.objects.filter(user=user).values_list("lesson_id", flat=True))


def live_lab_ids(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(
        LabSession.objects.filter(user=user, status__in=LabSession.LIVE).values_list("lab_id", flat=True)
    )


def course_overview(user) -> list[dict]:
    """Every course with its modules, and the learner's progress in each."""
    read, passed, live = read_lesson_ids(user), passed_lab_ids(user), live_lab_ids(user)
    courses = Course.objects.order_by("title").prefetch_related("modules__lessons", "modules__labs")
    out = []
    for course in courses:
        modules = []
        for module in course.modules.all():
            lessons = list(module.lessons.all())
            labs = list(module.labs.all())
            modules.append(
                {
                    "module": module,
                    "lessons_total": len(lessons),
                    "lessons_read": sum(1 for lesson in lessons if lesson.pk in read),
                    "labs_total": len(labs),
                    "labs_passed": sum(1 for lab in labs if lab.pk in passed),
                    "labs": [lab_summary(lab, passed, live) for lab in labs],
                }
            )
        out.append(
            {
                "course": course,
                "modules": modules,
                "lessons_total": sum(m["lessons_total"] for m in modules),
                "lessons_read": sum(m["lessons_read"] for m in modules),
                "labs_total": sum(m["labs_total"] for m in modules),
                "labs_passed": sum(m["labs_passed"] for m in modules),
            }
        )
    return out


def lab_summary(lab: Lab, passed: set[int], live: set[int]) -> dict:
    if lab.pk in passed:
        state, label = "passed", "Passed"
    elif lab.pk in live:
        state, label = "live", "In progress"
    else:
        state, label = "new", "Not passed yet"
    return {"lab": lab, "state": state, "state_label": label}


def continue_target(user) -> dict | None:
    """Where the learner left off: a live lab first, else the lesson after the last one read."""
    if not user.is_authenticated:
        return None
    session = (
        LabSession.objects.filter(user=user, status__in=LabSession.LIVE)
        .select_related("lab")
        .order_by("-created_at")
        .first()
    )
    if session:
        return {"kind": "lab", "lab": session.lab, "title": session.lab.title, "sessions": live_sessions(user)}
    last = (
        LessonProgress.objects.filter(user=user)
        .select_related("lesson__module__course")
        .order_by("-read_at", "-id")
        .first()
    )
    if not last:
        return None
    lesson = last.lesson
    nav = lesson_navigation(lesson)
    if nav["next"] and nav["next"].pk not in read_lesson_ids(user):
        return {"kind": "lesson", "lesson": nav["next"], "title": nav["next"].title, "up_next": True}
    return {"kind": "lesson", "lesson": lesson, "title": lesson.title, "up_next": False}


def course_lessons(course: Course) -> list[Lesson]:
    """All lessons of a course in reading order (module order, then lesson order)."""
    return list(
        Lesson.objects.filter(module__course=course)
        .select_related("module__course")
        .order_by("module__order", "module__title", "order", "title")
    )


def lesson_navigation(lesson: Lesson) -> dict:
    lessons = course_lessons(lesson.module.course)
    index = next(i for i, item in enumerate(lessons) if item.pk == lesson.pk)
    return {
        "previous": lessons[index - 1] if index > 0 else None,
        "next": lessons[index + 1] if index + 1 < len(lessons) else None,
    }


def module_contents(module: Module, user) -> dict:
    read, passed, live = read_lesson_ids(user), passed_lab_ids(user), live_lab_ids(user)
    return {
        "lessons": [{"lesson": lesson, "read": lesson.pk in read} for lesson in module.lessons.all()],
        "labs": [lab_summary(lab, passed, live) for lab in module.labs.all()],
    }


HEADING = re.compile(r"<h([23])((?:\s[^>]*)?)>(.*?)</h\1\s*>", re.S | re.I)
HEADING_ID = re.compile(r"""\sid\s*=\s*["']([^"']+)["']""", re.I)


def with_table_of_contents(body_html: str) -> tuple[str, list[dict]]:
    """Give every h2/h3 of a (sanitised) lesson an id and return the headings for a table of contents.

    Only ids made by slugify() are added (prefixed, so they cannot clobber DOM globals), so the
    result is as safe as its input.
    """
    toc: list[dict] = []
    used: set[str] = set()

    def add_anchor(match: re.Match) -> str:
        level, attrs, inner = match.groups()
        text = " ".join(unescape(strip_tags(inner)).split())
        if found := HEADING_ID.search(attrs):
            anchor = found.group(1)
        else:
            base = "sec-" + (slugify(text) or "section")
            anchor, n = base, 2
            while anchor in used:
                anchor, n = f"{base}-{n}", n + 1
            attrs = f'{attrs} id="{anchor}"'
        used.add(anchor)
        toc.append({"level": int(level), "id": anchor, "text": text})
        return f"<h{level}{attrs}>{inner}</h{level}>"

    return HEADING.sub(add_anchor, body_html), toc


# --- Lab panels -----------------------------------------------------------------------------


def latest_attempt(session: LabSession | None) -> Attempt | None:
    if session is None:
        return None
    return session.attempts.order_by("-created_at", "-id").first()


def tasks_cursor(session: LabSession | None, attempt: Attempt | None) -> str:
    if session is None:
        return "none"
    return f"{session.status}.{attempt.pk if attempt else 0}.{attempt.status if attempt else '-'}"


def current_tasks_cursor(session: LabSession) -> str:
    """The tasks cursor with one small query (for the idle poll)."""
    row = session.attempts.order_by("-created_at", "-id").values("pk", "status").first()
    if row is None:
        return f"{session.status}.0.-"
    return f"{session.status}.{row['pk']}.{row['status']}"


def task_rows(lab: Lab, attempt: Attempt | None) -> list[dict]:
    """The lab's tasks merged with an attempt's results, in the lab's order."""
    results = {}
    if attempt is not None and attempt.status == Attempt.Status.GRADED:
        results = {r.get("id"): r for r in (attempt.results or [])}
    rows = []
    for task in lab.tasks:
        result = results.get(task["id"])
        rows.append(
            {
                "id": task["id"],
                "title": task.get("title", task["id"]),
                "hint": task.get("hint", ""),
                "max_points": result.get("max_points", task.get("points", 0)) if result else task.get("points", 0),
                "points": result.get("points") if result else None,
                "passed": result.get("passed") if result else None,
                "feedback": result.get("feedback", "") if result else "",
            }
        )
    return rows


def latest_mutation_id(session: LabSession) -> int:
    return session.api_calls.filter(mutating=True).aggregate(m=Max("id"))["m"] or 0


def resources_cursor(session: LabSession) -> str:
    return f"{session.status}.{latest_mutation_id(session)}"


def journal_rows(session: LabSession, after: int | None = None) -> list[dict]:
    """Journal rows the learner may see (their own calls and the lab's setup), oldest first."""
    calls = session.api_calls.filter(source__in=JOURNAL_SOURCES)
    if after is not None:
        calls = calls.filter(id__gt=after).order_by("id")[:JOURNAL_PAGE]
        rows = list(calls)
    else:
        rows = list(calls.order_by("-id")[:JOURNAL_PAGE])[::-1]
    return [journal_row(call) for call in rows]


def journal_row(call: ApiCall) -> dict:
    return {
        "id": call.pk,
        "at": call.at,
        "source": call.source,
        "source_label": call.get_source_display(),
        "service": call.service,
        "action": call.action,
        "region": call.region,
        "status": call.status,
        "error_code": call.error_code,
        "is_error": call.status >= 400 or bool(call.error_code),
        "params": format_params(_without_denial(call.params)),
        "denial": denial(call.params),
    }


_DENIAL_KEYS = ("AccessDeniedReason", "AccessDeniedBy")


def _without_denial(params):
    if not isinstance(params, dict) or not any(k in params for k in _DENIAL_KEYS):
        return params
    return {k: v for k, v in params.items() if k not in _DENIAL_KEYS}


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def denial(params) -> dict | None:
    """Why the sandbox's IAM refused a call (the gateway keeps AWS's message and the deciding statements):
    the verdict, AWS's message, and each statement that applied as "Deny: statement X of policy P"."""
    if not isinstance(params, dict) or not params.get("AccessDeniedReason"):
        return None
    by = params.get("AccessDeniedBy") if isinstance(params.get("AccessDeniedBy"), dict) else {}
    decision = by.get("decision")
    statements = [s for s in by.get("statements") or [] if isinstance(s, dict)]
    if decision == "explicitDeny":
        verdict = f"Explicit deny in {_a(by.get('policyType') or 'policy')}"
        statements = [s for s in statements if s.get("effect") == "Deny"] or statements
    elif decision == "implicitDeny":
        verdict = f"Implicit deny: no {by.get('policyType') or 'policy'} allows {by.get('action') or 'it'}"
    elif decision == "error":
        verdict = "A policy could not be evaluated, so the call was refused"
    else:
        verdict = "Refused by the sandbox's IAM"
    return {
        "kind": {"explicitDeny": "explicit", "implicitDeny": "implicit"}.get(decision, "other"),
        "verdict": verdict,
        "message": str(params["AccessDeniedReason"]),
        "resource": by.get("resource") or "",
        "statements": [
            {
                "effect": s.get("effect") or "",
                "statement": s.get("sid") or f"#{s.get('index', 0)}",
                "policy": s.get("policy") or "",
                "type": s.get("type") or "",
            }
            for s in statements
        ],
    }


def format_params(params, limit: int = 300) -> str:
    """Key parameters as `Name=value, ...` (plain text; the template escapes it)."""
    if not isinstance(params, dict):
        text = json.dumps(params, default=str)
    else:
        parts = []
        for key, value in params.items():
            if isinstance(value, dict | list):
                value = json.dumps(value, default=str, separators=(",", ":"))
            parts.append(f"{key}={value}")
        text = ", ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def journal_cursor(rows: list[dict], previous: int = 0) -> int:
    return rows[-1]["id"] if rows else previous


def resource_tables(session: LabSession) -> list[dict]:
    """The lab's live resource tables, listed through the gateway as "platform" calls.

    Never raises: a failing lister (or a gateway that is down) shows as an error in the panel.
    """
    kinds = session.lab.definition.get("resources", []) or []
    if not kinds:
        return []
    try:
        from labapp.grading import resources

        tables = resources.list_resources(kinds, lambda service: platform_client(session, service))
    except Exception as exc:  # noqa: BLE001 - the panel must never break the page
        return [
            {
                "kind": "error",
                "title": "Resources",
                "columns": [],
                "rows": [],
                "error": f"Could not list resources ({type(exc).__name__}).",
            }
        ]
    return [normalise_table(table) for table in tables]


def platform_client(session: LabSession, service: str):
    """A boto3 client bound to the session's sandbox; its calls are journaled as "platform" (hidden)."""
    from labapp.sandbox import client as sandbox

    return sandbox.client(session, service, source="platform")


def normalise_table(table: dict) -> dict:
    columns = [str(c) for c in table.get("columns") or []]
    rows = []
    for row in table.get("rows") or []:
        cells = [row.get(c) for c in columns] if isinstance(row, dict) else list(row)
        rows.append([cell_text(cell) for cell in cells])
    return {
        "kind": str(table.get("kind", "")),
        "title": str(table.get("title", table.get("kind", ""))),
        "columns": columns,
        "rows": rows,
        "error": str(table["error"]) if table.get("error") else "",
    }


def cell_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def past_sessions(user, lab: Lab, limit: int = 10) -> list[LabSession]:
    """Finished sessions, newest first, each with `best` (its best graded attempt, or None)."""
    sessions = list(
        LabSession.objects.filter(user=user, lab=lab).exclude(status__in=LabSession.LIVE).order_by("-created_at")[
            :limit
        ]
    )
    best = _best_attempts(Attempt.objects.filter(session__in=sessions))
    for session in sessions:
        session.best = best.get(session.pk)
    return sessions


def _best_attempts(attempts) -> dict:
    """Per session id, its best graded attempt: highest score, then the earliest to reach it."""
    best: dict = {}
    graded = attempts.filter(status=Attempt.Status.GRADED, max_score__gt=0).order_by("-score", "graded_at", "id")
    for attempt in graded.only("id", "session_id", "score", "max_score", "graded_at", "kind"):
        best.setdefault(attempt.session_id, attempt)
    return best


def best_result(user, lab: Lab) -> dict | None:
    """The learner's best graded attempt of a lab over all sessions, and when it was reached:
    {"attempt", "passed", "at"}. Full marks count from the first time they were reached."""
    attempt = (
        Attempt.objects.filter(session__user=user, session__lab=lab, status=Attempt.Status.GRADED, max_score__gt=0)
        .order_by("-score", "graded_at", "id")
        .first()
    )
    if attempt is None:
        return None
    return {"attempt": attempt, "passed": attempt.score == attempt.max_score, "at": attempt.graded_at}


def is_complete(attempt: Attempt | None) -> bool:
    return bool(
        attempt is not None and attempt.status == Attempt.Status.GRADED and attempt.max_score
        and attempt.score == attempt.max_score
    )


def check_summary(attempt: Attempt | None) -> dict | None:
    """The last graded check in numbers, for "Checked: 4 of 8" and the warning before submitting."""
    if attempt is None or attempt.status != Attempt.Status.GRADED:
        return None
    results = attempt.results or []
    failing = sum(1 for task in results if not task.get("passed"))
    return {"score": attempt.score, "max_score": attempt.max_score, "tasks": len(results), "failing": failing}


def last_graded_check(session: LabSession | None) -> Attempt | None:
    if session is None:
        return None
    return session.attempts.filter(status=Attempt.Status.GRADED).order_by("-graded_at", "-id").first()


def next_step(lab: Lab) -> dict | None:
    """Where to go after finishing a lab: the module's next lab, else the first lesson of the next module,
    else the course page. {"kind", "title", "url"}."""
    from django.urls import reverse

    module = lab.module
    course = module.course
    following = module.labs.filter(order__gt=lab.order).order_by("order", "title").first() or (
        module.labs.filter(order=lab.order, title__gt=lab.title).order_by("title").first()
    )
    if following is not None:
        return {"kind": "lab", "title": following.title, "url": reverse("lab", args=[following.slug])}
    next_module = (
        course.modules.filter(order__gt=module.order).order_by("order", "title").first()
    )
    lesson = next_module.lessons.order_by("order", "title").first() if next_module else None
    if lesson is not None:
        return {
            "kind": "lesson",
            "title": lesson.title,
            "url": reverse("lesson", args=[course.slug, next_module.slug, lesson.slug]),
        }
    return {"kind": "course", "title": course.title, "url": reverse("course", args=[course.slug])}


def live_sessions(user) -> list[LabSession]:
    """Every live lab of the learner, newest first (the home page lists them all, with time left)."""
    if not user.is_authenticated:
        return []
    return list(
        LabSession.objects.filter(user=user, status__in=LabSession.LIVE)
        .select_related("lab")
        .order_by("-created_at")
    )


def other_live_sessions(user, lab: Lab) -> list[LabSession]:
    """The learner's live sessions of other labs: starting another one warns about them."""
    return [s for s in live_sessions(user) if s.lab_id != lab.pk]


def session_end_summary(session: LabSession) -> dict:
    """Why and when a session stopped, and its last score, for the banner of a finished session.
    {"reason", "at", "attempt", "replaced_by"}: replaced_by is the live session a reset started."""
    at = session.ended_at or session.expires_at
    newer = (
        LabSession.objects.filter(user_id=session.user_id, lab_id=session.lab_id, status__in=LabSession.LIVE,
                                  created_at__gte=session.created_at)
        .exclude(pk=session.pk)
        .first()
    )
    reasons = {
        LabSession.Status.EXPIRED: "its time ran out",
        LabSession.Status.SUBMITTED: "it was handed in for grading",
        LabSession.Status.FAILED: "its sandbox could not be prepared",
    }
    if session.status in reasons:
        reason = reasons[session.status]
    elif newer is not None:
        reason = "the lab was reset (perhaps in another tab or window): a new session is running"
    else:
        reason = "it was ended with “End lab” (perhaps in another tab or window)"
    return {"reason": reason, "at": at, "attempt": last_graded_check(session), "replaced_by": newer}


def recent_failed_session(user, lab: Lab, within: timedelta = timedelta(hours=1)) -> LabSession | None:
    """The learner's latest session of this lab if it failed to provision in the last hour."""
    latest = LabSession.objects.filter(user=user, lab=lab).order_by("-created_at").first()
    if latest and latest.status == LabSession.Status.FAILED and latest.created_at > timezone.now() - within:
        return latest
    return None


# --- Course page, lab catalogue ----------------------------------------------------------------


def course_progress(course: Course, user) -> list[dict]:
    """Per module of one course: lessons read, labs passed, questions and the best quiz score."""
    from django.db.models import Count

    from labapp.quizzes.services import best_quiz_scores

    read, passed, live = read_lesson_ids(user), passed_lab_ids(user), live_lab_ids(user)
    modules = list(course.modules.prefetch_related("lessons", "labs").annotate(question_count=Count("questions")))
    best = best_quiz_scores(user, modules)
    rows = []
    for module in modules:
        lessons = list(module.lessons.all())
        labs = list(module.labs.all())
        rows.append(
            {
                "module": module,
                "lessons_total": len(lessons),
                "lessons_read": sum(1 for lesson in lessons if lesson.pk in read),
                "labs_total": len(labs),
                "labs_passed": sum(1 for lab in labs if lab.pk in passed),
                "labs": [lab_summary(lab, passed, live) for lab in labs],
                "questions": module.question_count,
                "best_quiz": best.get(module.pk),
            }
        )
    return rows


def course_continue_target(course: Course, user) -> dict | None:
    """Where to pick this course up: a live lab of it, else the first unread lesson after the last one read,
    else the last one read; a learner who has read nothing starts at the first lesson."""
    if not user.is_authenticated:
        return None
    session = (
        LabSession.objects.filter(user=user, status__in=LabSession.LIVE, lab__module__course=course)
        .select_related("lab")
        .order_by("-created_at")
        .first()
    )
    if session:
        return {"kind": "lab", "lab": session.lab, "title": session.lab.title}
    lessons = course_lessons(course)
    if not lessons:
        return None
    read = read_lesson_ids(user)
    last = (
        LessonProgress.objects.filter(user=user, lesson__module__course=course)
        .order_by("-read_at", "-id")
        .values_list("lesson_id", flat=True)
        .first()
    )
    if last is None:
        return {"kind": "lesson", "lesson": lessons[0], "title": lessons[0].title, "up_next": True, "first": True}
    index = next((i for i, lesson in enumerate(lessons) if lesson.pk == last), 0)
    for lesson in lessons[index + 1:] + lessons[:index]:
        if lesson.pk not in read:
            return {"kind": "lesson", "lesson": lesson, "title": lesson.title, "up_next": True}
    lesson = lessons[index]
    return {"kind": "lesson", "lesson": lesson, "title": lesson.title, "up_next": False}


def lab_services(lab: Lab) -> list[str]:
    return [str(s) for s in (lab.definition or {}).get("services", []) or []]


def lab_catalogue(user, module_slug: str = "", service: str = "") -> dict:
    """Every lab (in course and module order) with the learner's status, filtered by module slug and service."""
    read_passed, live = passed_lab_ids(user), live_lab_ids(user)
    labs = list(
        Lab.objects.select_related("module__course").order_by(
            "module__course__title", "module__order", "module__title", "order", "title"
        )
    )
    modules, services = {}, set()
    for lab in labs:
        modules.setdefault(lab.module.slug, lab.module)
        services.update(lab_services(lab))
    shown = [
        {**lab_summary(lab, read_passed, live), "services": lab_services(lab)}
        for lab in labs
        if (not module_slug or lab.module.slug == module_slug) and (not service or service in lab_services(lab))
    ]
    return {
        "labs": shown,
        "total": len(labs),
        "modules": list(Module.objects.filter(labs__isnull=False).distinct().select_related("course")
                        .order_by("course__title", "order", "title")),
        "services": sorted(services),
        "module_filter": module_slug if module_slug in modules else "",
        "service_filter": service if service in services else "",
    }
