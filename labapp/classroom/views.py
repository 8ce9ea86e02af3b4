"""The instructor workspace (classes, roster, assignments, gradebook, insight, regrades) and the learner's
side of it (joining a class, submitting a lab for grading).

Every instructor view starts with `get_class_for_staff`, which 404s for anyone who is not an instructor
or teaching assistant of that class; views that change something pass write=True (instructors only).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from labapp.web.access import get_session_for_user, learner_required

from . import charts, selectors, services
from .access import get_assignment, get_class_for_staff, get_learner, require_teaching, staff_memberships
from .export import gradebook_csv
from .forms import (
    AddMemberForm,
    AssignmentDatesForm,
    AssignmentForm,
    ClassroomForm,
    ExtensionForm,
    JoinForm,
    RoleForm,
    RosterForm,
)
from .models import Assignment, Classroom, Extension, Membership, RegradeItem, RegradeRun, Submission
from .render import gradebook_rows
from .services import ClassroomError


# --- The instructor dashboard ---------------------------------------------------------------------


def instructor_dashboard(request):
    """The home page of someone who teaches (rendered by web.views.home, at /): classes, what is due in
    the coming week with hand-in counts, and who is stuck, each linking to the gradebook or insight."""
    return render(request, "classroom/dashboard.html", {
        **selectors.instructor_dashboard(request.user),
        "can_create": services.can_create_classes(request.user),
    })


# --- Classes ---------------------------------------------------------------------------------------


@learner_required
@require_http_methods(["GET", "POST"])
def class_list(request):
    require_teaching(request.user)
    form = ClassroomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            classroom = services.create_classroom(request.user, form.cleaned_data["name"],
                                                  form.cleaned_data["description"])
        except ClassroomError as exc:
            raise Http404 from exc  # not an instructor: the page does not exist for them
        messages.success(request, f"Class “{classroom.name}” created. Share its code or invite link with learners.")
        return redirect("classroom:class", class_id=classroom.pk)
    memberships = list(staff_memberships(request.user).order_by("classroom__name"))
    return render(request, "classroom/class_list.html", {
        "memberships": memberships, "form": form, "can_create": services.can_create_classes(request.user),
    })


def _class_context(classroom: Classroom, membership: Membership, tab: str) -> dict:
    return {"classroom": classroom, "membership": membership, "can_edit": membership.role == Membership.Role.INSTRUCTOR,
            "tab": tab}


@learner_required
@require_GET
def class_page(request, class_id):
    classroom, membership = get_class_for_staff(request, class_id)
    assignments = list(classroom.assignments.select_related("lab", "module").order_by("due_at", "id"))
    counts = {row["role"]: row["n"] for row in _role_counts(classroom)}
    ctx = _class_context(classroom, membership, "overview")
    ctx.update({
        "assignments": assignments, "counts": counts, "form": AssignmentForm(),
        "invite_url": request.build_absolute_uri(reverse("classroom:join-link", args=[classroom.join_code])),
        "now": timezone.now(),
    })
    return render(request, "classroom/class.html", ctx)


def _role_counts(classroom):
    return classroom.memberships.values("role").annotate(n=Count("id"))


@learner_required
@require_POST
def reset_code(request, class_id):
    classroom, _ = get_class_for_staff(request, class_id, write=True)
    services.reset_join_code(classroom)
    messages.success(request, f"New class code: {classroom.join_code}. The old code and invite link no longer work.")
    return redirect("classroom:class", class_id=classroom.pk)


# --- Roster ----------------------------------------------------------------------------------------


@learner_required
@require_GET
def roster(request, class_id):
    classroom, membership = get_class_for_staff(request, class_id)
    return render(request, "classroom/roster.html", _roster_context(classroom, membership))


def _roster_context(classroom, membership, **extra):
    ctx = _class_context(classroom, membership, "roster")
    ctx.update({
        "members": list(classroom.memberships.select_related("user").order_by("role", "user__username")),
        "roster_form": RosterForm(), "add_form": AddMemberForm(), "roles": Membership.Role.choices,
    })
    ctx.update(extra)
    return ctx


@learner_required
@never_cache  # the report shows new accounts' one-time passwords: no copy may stay in a cache
@require_POST
def roster_import(request, class_id):
    classroom, membership = get_class_for_staff(request, class_id, write=True)
    form = RosterForm(request.POST, request.FILES)
    report, error = None, ""
    if form.is_valid():
        try:
            # One byte over the limit is enough to refuse the file; the rest is never read.
            report = services.import_roster(classroom, form.cleaned_data["file"].read(services.ROSTER_MAX_BYTES + 1))
        except ClassroomError as exc:
            error = str(exc)
    ctx = _roster_context(classroom, membership, report=report, import_error=error)
    ctx["roster_form"] = form
    status = 400 if error or not form.is_valid() else 200
    return render(request, "classroom/roster.html", ctx, status=status)


@learner_required
@require_POST
def member_add(request, class_id):
    classroom, membership = get_class_for_staff(request, class_id, write=True)
    form = AddMemberForm(request.POST)
    if form.is_valid():
        try:
            added = services.add_member(classroom, form.cleaned_data["username"], form.cleaned_data["role"])
        except ClassroomError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{added.user.username} is now a {added.get_role_display().lower()} of the class.")
    else:
        messages.error(request, "Give a username and a role.")
    return redirect("classroom:roster", class_id=classroom.pk)


@learner_required
@require_POST
def member_change(request, class_id, member_id):
    classroom, _ = get_class_for_staff(request, class_id, write=True)
    member = classroom.memberships.select_related("user").filter(pk=member_id).first()
    if member is None:
        raise Http404
    try:
        if request.POST.get("action") == "remove":
            services.remove_member(member)
            messages.success(request, f"{member.user.username} was removed from the class (their work is kept).")
        else:
            form = RoleForm(request.POST)
            if form.is_valid():
                services.set_role(member, form.cleaned_data["role"])
                messages.success(request, f"{member.user.username} is now a {member.get_role_display().lower()}.")
    except ClassroomError as exc:
        messages.error(request, str(exc))
    return redirect("classroom:roster", class_id=classroom.pk)


# --- Assignments -----------------------------------------------------------------------------------


@learner_required
@require_POST
def assignment_create(request, class_id):
    classroom, membership = get_class_for_staff(request, class_id, write=True)
    form = AssignmentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            assignment = services.create_assignment(
                classroom, lab=data["lab"], module=data["module"], opens_at=data["opens_at"], due_at=data["due_at"],
                time_limit_minutes=data["time_limit_minutes"],
            )
        except ClassroomError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Assigned “{assignment.title}”.")
            return redirect("classroom:class", class_id=classroom.pk)
    ctx = _class_context(classroom, membership, "overview")
    ctx.update({"assignments": list(classroom.assignments.select_related("lab", "module")), "form": form,
                "counts": {row["role"]: row["n"] for row in _role_counts(classroom)}, "now": timezone.now(),
                "invite_url": request.build_absolute_uri(reverse("classroom:join-link", args=[classroom.join_code]))})
    return render(request, "classroom/class.html", ctx, status=400)


@learner_required
@require_GET
def assignment_page(request, class_id, assignment_id):
    """One assignment: dates and extensions, who is stuck where, charts, regrades."""
    classroom, membership = get_class_for_staff(request, class_id)
    assignment = get_assignment(classroom, assignment_id)
    ctx = _class_context(classroom, membership, "overview")  # an assignment is under the Assignments tab
    ctx.update(_assignment_context(classroom, assignment))
    return render(request, "classroom/assignment.html", ctx)


def _assignment_context(classroom, assignment, **forms) -> dict:
    learners = [m.user for m in classroom.memberships.filter(role=Membership.Role.LEARNER)
                .select_related("user").order_by("user__username")]
    cells = selectors.assignment_cells(assignment)
    ctx = {
        "assignment": assignment,
        "extensions": list(Extension.objects.filter(assignment=assignment).select_related("learner").order_by("due_at")),
        "extension_form": forms.get("extension_form") or ExtensionForm(learners=learners),
        "dates_form": forms.get("dates_form") or AssignmentDatesForm(initial={
            "opens_at": assignment.opens_at, "due_at": assignment.due_at,
            "time_limit_minutes": assignment.time_limit_minutes}),
        "score_chart": charts.score_distribution(f"scores-{assignment.pk}", "Score distribution",
                                                 selectors.score_percents(cells)),
        "time_chart": charts.time_to_complete(f"time-{assignment.pk}", "Time to complete",
                                              selectors.completion_minutes(cells)),
        "status_counts": _status_counts(cells, len(learners)),
        "idle_minutes": int(selectors.IDLE_AFTER.total_seconds() // 60),
    }
    if assignment.kind == Assignment.Kind.LAB:
        insight = selectors.lab_insight(assignment)
        ctx["insight"] = insight
        ctx["pass_chart"] = charts.pass_rate(f"pass-{assignment.pk}", "Pass rate per task", insight["tasks"],
                                             insight["started"])
        ctx["regrade_runs"] = list(assignment.regrade_runs.all()[:5])
    return ctx


def _status_counts(cells: dict, learners: int) -> list[tuple[str, int]]:
    counts = {status: 0 for status in selectors.STATUS_LABELS}
    for cell in cells.values():
        counts[cell.status] += 1
    counts[selectors.NOT_STARTED] = learners - sum(v for k, v in counts.items() if k != selectors.NOT_STARTED)
    return [(selectors.STATUS_LABELS[k], v) for k, v in counts.items()]


@learner_required
@require_POST
def assignment_dates(request, class_id, assignment_id):
    classroom, membership = get_class_for_staff(request, class_id, write=True)
    assignment = get_assignment(classroom, assignment_id)
    form = AssignmentDatesForm(request.POST)
    if form.is_valid():
        try:
            services.update_assignment(assignment, **form.cleaned_data)
        except ClassroomError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Dates saved. Submissions already made keep the lateness they had.")
            return redirect("classroom:assignment", class_id=classroom.pk, assignment_id=assignment.pk)
    ctx = _class_context(classroom, membership, "overview")
    ctx.update(_assignment_context(classroom, assignment, dates_form=form))
    return render(request, "classroom/assignment.html", ctx, status=400)


@learner_required
@require_POST
def extension_grant(request, class_id, assignment_id):
    classroom, membership = get_class_for_staff(request, class_id, write=True)
    assignment = get_assignment(classroom, assignment_id)
    learners = [m.user for m in classroom.memberships.filter(role=Membership.Role.LEARNER).select_related("user")]
    form = ExtensionForm(request.POST, learners=learners)
    if form.is_valid():
        learner = next(u for u in learners if str(u.pk) == form.cleaned_data["learner"])
        try:
            services.grant_extension(assignment, learner, form.cleaned_data["due_at"], form.cleaned_data["reason"],
                                     request.user)
        except ClassroomError as exc:
            form.add_error("due_at", str(exc))
        else:
            messages.success(request, f"{learner.username} now has until {form.cleaned_data['due_at']:%d %b %Y, %H:%M} UTC.")
            return redirect("classroom:assignment", class_id=classroom.pk, assignment_id=assignment.pk)
    ctx = _class_context(classroom, membership, "overview")
    ctx.update(_assignment_context(classroom, assignment, extension_form=form))
    return render(request, "classroom/assignment.html", ctx, status=400)


@learner_required
@require_POST
def extension_remove(request, class_id, assignment_id, extension_id):
    classroom, _ = get_class_for_staff(request, class_id, write=True)
    assignment = get_assignment(classroom, assignment_id)
    deleted, _ = Extension.objects.filter(pk=extension_id, assignment=assignment).delete()
    if not deleted:
        raise Http404
    messages.success(request, "Extension removed.")
    return redirect("classroom:assignment", class_id=classroom.pk, assignment_id=assignment.pk)


# --- Gradebook -------------------------------------------------------------------------------------

SORTS = ("name", "average")


@learner_required
@never_cache
@require_GET
def gradebook_page(request, class_id):
    classroom, membership = get_class_for_staff(request, class_id)
    sort = request.GET.get("sort", "name")
    if sort not in SORTS and not (sort.startswith("a") and sort[1:].isdigit()):
        sort = "name"
    descending = request.GET.get("dir") == "desc"
    status = request.GET.get("status", "")
    if status not in selectors.STATUS_LABELS:
        status = ""
    column = request.GET.get("assignment", "")
    book = selectors.gradebook(
        classroom, sort=sort, descending=descending, query=request.GET.get("q", "").strip(), status=status,
        assignment_filter=int(column) if column.isdigit() else None,
    )
    base = reverse("classroom:gradebook", args=[classroom.pk])
    kept = {k: v for k, v in request.GET.items() if k in ("q", "status", "assignment") and v}

    def sort_link(key):
        # Clicking the column sorted ascending sorts it descending, and the other way round.
        direction = "desc" if sort == key and not descending else "asc"
        return f"{base}?{urlencode({**kept, 'sort': key, 'dir': direction})}"

    def aria_sort(key):
        return ("descending" if descending else "ascending") if sort == key else "none"

    # Cell links are relative to this page (the cell URLs are …/gradebook/<assignment>/<learner>/): there are
    # 8,000 of them in a big class, and an absolute prefix alone would be a fifth of the page.
    columns = [{"assignment": a, "max": selectors.max_points(a), "sort_url": sort_link(f"a{a.pk}"),
                "aria_sort": aria_sort(f"a{a.pk}"), "cell_base": f"{a.pk}/"} for a in book.assignments]
    ctx = _class_context(classroom, membership, "gradebook")
    ctx.update({
        "book": book, "columns": columns, "sort": sort, "descending": descending,
        "name_sort": {"url": sort_link("name"), "aria": aria_sort("name")},
        "average_sort": {"url": sort_link("average"), "aria": aria_sort("average")},
        "statuses": list(selectors.STATUS_LABELS.items()), "status": status, "column": column,
        "q": request.GET.get("q", ""),
        "rows_html": gradebook_rows(book.rows, [col["cell_base"] for col in columns]),
    })
    return render(request, "classroom/gradebook.html", ctx)


@learner_required
@require_GET
def gradebook_export(request, class_id):
    classroom, _ = get_class_for_staff(request, class_id)
    with_tasks = request.GET.get("tasks") == "1"
    response = HttpResponse(gradebook_csv(classroom, tasks=with_tasks), content_type="text/csv; charset=utf-8")
    name = f"gradebook-{classroom.pk}{'-tasks' if with_tasks else ''}-{timezone.now():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@learner_required
@never_cache
@require_GET
def cell_page(request, class_id, assignment_id, user_id):
    """One learner on one assignment: every attempt with per-task results, and the journal timeline."""
    classroom, membership = get_class_for_staff(request, class_id)
    assignment = get_assignment(classroom, assignment_id)
    learner = get_learner(classroom, user_id)
    ctx = _class_context(classroom, membership, "gradebook")
    ctx.update({"assignment": assignment, "learner": learner, **selectors.cell_detail(assignment, learner)})
    return render(request, "classroom/cell.html", ctx)


# --- Regrade ---------------------------------------------------------------------------------------


@learner_required
@require_POST
def regrade_start(request, class_id, assignment_id):
    classroom, _ = get_class_for_staff(request, class_id, write=True)
    assignment = get_assignment(classroom, assignment_id)
    try:
        run = services.start_regrade(assignment, request.user)
    except ClassroomError as exc:
        messages.error(request, str(exc))
        return redirect("classroom:assignment", class_id=classroom.pk, assignment_id=assignment.pk)
    return redirect("classroom:regrade", class_id=classroom.pk, run_id=run.pk)


def _run_context(classroom, run_id) -> dict:
    run = RegradeRun.objects.filter(pk=run_id, assignment__classroom=classroom).select_related(
        "assignment__lab").first()
    if run is None:
        raise Http404
    items = list(run.items.select_related("submission__learner", "submission__attempt").order_by(
        "submission__learner__username"))
    finished = sum(1 for i in items if i.status in RegradeItem.FINISHED)
    for i in items:
        # The regrade page highlights scores the regrade changed, with the difference in points.
        i.change = (i.score - (i.old_score or 0)) if i.status == RegradeItem.Status.DONE and (
            i.score, i.max_score) != (i.old_score, i.old_max_score) and i.score is not None else None
    changed = sum(1 for i in items if i.change is not None)
    return {"run": run, "items": items, "finished": finished, "total": len(items), "changed": changed,
            "done": finished == len(items), "assignment": run.assignment}


def _watched_run_context(request, class_id, run_id) -> dict:
    """The regrade page's context. Someone is watching: items stalled by a lost message or a dead worker
    are enqueued again, so a regrade never stalls silently."""
    classroom, membership = get_class_for_staff(request, class_id)
    ctx = _class_context(classroom, membership, "overview")  # a regrade belongs to an assignment
    ctx.update(_run_context(classroom, run_id))
    if not ctx["done"]:
        services.requeue_stale_items(ctx["run"])
    return ctx


@learner_required
@never_cache
@require_GET
def regrade_page(request, class_id, run_id):
    return render(request, "classroom/regrade.html", _watched_run_context(request, class_id, run_id))


@learner_required
@never_cache
@require_GET
def regrade_progress(request, class_id, run_id):
    """The progress fragment, polled every second by htmx; 286 stops the polling once all are finished."""
    ctx = _watched_run_context(request, class_id, run_id)
    response = render(request, "classroom/regrade.html#progress", ctx)
    if ctx["done"]:
        response.status_code = HTMX_STOP_POLLING
    return response


# --- The learner's side ------------------------------------------------------------------------------


@learner_required
@require_http_methods(["GET", "POST"])
def join(request):
    form = JoinForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid():
        try:
            membership, created = services.join_by_code(request.user, form.cleaned_data["code"])
        except ClassroomError as exc:
            form.add_error("code", str(exc))
        else:
            return _joined(request, membership, created)
    return render(request, "classroom/join.html", {"form": form}, status=400 if form.errors else 200)


@learner_required
@require_http_methods(["GET", "POST"])
def join_link(request, code):
    """The invite link: a page naming the class with a Join button (a GET never joins anyone)."""
    classroom = Classroom.objects.filter(join_code=services.normalise_code(code)).first()
    if classroom is None:
        return render(request, "classroom/join.html", {
            "form": JoinForm(),
            "link_error": "This invite link no longer works; ask your instructor for the class code.",
        }, status=404)
    if request.method == "POST":
        membership, created = services.join_by_code(request.user, code)
        return _joined(request, membership, created)
    return render(request, "classroom/join_link.html", {"classroom": classroom, "code": code,
                                                        "member": classroom.memberships.filter(user=request.user).first()})


def _joined(request, membership, created):
    if membership.role in Membership.STAFF:
        messages.info(request, f"You teach “{membership.classroom.name}”.")
        return redirect("classroom:class", class_id=membership.classroom_id)
    if created:
        messages.success(request, f"You joined “{membership.classroom.name}”. Your assignments are on your home page.")
    else:
        messages.info(request, f"You are already in “{membership.classroom.name}”.")
    return redirect("home")


@learner_required
@require_POST
def submit_lab(request, assignment_id):
    try:
        session_id = uuid.UUID(request.POST.get("session", ""))
    except ValueError:
        raise Http404 from None
    session = get_session_for_user(request, session_id)  # 404 for someone else's session
    assignment = Assignment.objects.filter(pk=assignment_id).select_related("classroom", "lab").first()
    if assignment is None:
        raise Http404
    try:
        submission = services.submit(request.user, session, assignment)
    except ClassroomError as exc:
        messages.error(request, str(exc))
    else:
        text = f"Submitted for grading in “{assignment.classroom.name}”. Your submission is frozen: what you do from now on does not change it."
        if submission.late:
            text += f" It is marked late ({submission.late_reason})."
        messages.success(request, text)
    return redirect("lab", slug=session.lab.slug)


@learner_required
@never_cache
@require_GET
def submission_status(request, assignment_id):
    """The learner's own submission in the lab page, polled by htmx until it is graded (then 286)."""
    submission = (Submission.objects.filter(assignment_id=assignment_id, learner=request.user)
                  .select_related("attempt", "assignment__classroom").first())
    if submission is None:
        raise Http404
    assignment = submission.assignment
    item = {"assignment": assignment, "submission": submission, "open": True,
            "due_at": services.due_for(assignment, request.user)}
    response = render(request, "classroom/_submit_item.html", {"item": item, "now": timezone.now()})
    if submission.attempt.is_done:
        response.status_code = HTMX_STOP_POLLING
    return response
