"""The lab page, its actions (start, check, reset, end) and its live panels.

Each live panel is a named partial of labs/lab.html, fetched by htmx every second from its own URL with
a cursor. When nothing changed since the cursor the answer is an empty 204 (htmx leaves the panel
alone), so an idle panel costs one or two indexed queries. When the session is no longer live the
final content is sent with status 286, which stops the polling.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from labapp.labs import services
from labapp.labs.models import LabSession
from labapp.labs.services import LabError

from . import selectors
from .access import get_attempt_for_user, get_lab, get_session_for_user, learner_required
from .workbench_views import workbench_context

NO_CHANGE = 204


# --- Context --------------------------------------------------------------------------------


def instructions_html(lab, session):
    """The lab's instructions, with the learner's values when a session exists (sanitised upstream)."""
    params = session.params if session else None  # None: placeholders are shown as written
    try:
        from labapp.courses.markdown import render_lab_instructions
    except ImportError:
        return format_html('<pre class="instructions-raw">{}</pre>', lab.definition.get("instructions", ""))
    return mark_safe(render_lab_instructions(lab, params))  # noqa: S308 - sanitised by the renderer


SECRET_MASK = "****************"  # shown in snippets instead of the secret, which "Show secret" hides


def credential_snippets(creds: dict, mask: bool = False) -> dict:
    """The three snippets with the real secret (what Copy copies), or with the secret masked (what the page
    shows: the secret stays behind "Show secret")."""
    key, secret = creds["aws_access_key_id"], creds["aws_secret_access_key"]
    if mask:
        secret = SECRET_MASK
    region, endpoint = creds["region"], creds["endpoint_url"]
    return {
        "configure": "\n".join(
            [
                f"aws configure set aws_access_key_id {key} --profile lab",
                f"aws configure set aws_secret_access_key {secret} --profile lab",
                f"aws configure set region {region} --profile lab",
                f"aws configure set endpoint_url {endpoint} --profile lab",
                "export AWS_PROFILE=lab",
            ]
        ),
        "env": (
            f"export AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret} "
            f"AWS_DEFAULT_REGION={region} AWS_ENDPOINT_URL={endpoint}"
        ),
        "boto3": "\n".join(
            [
                "import boto3",
                "",
                "session = boto3.Session(",
                f'    aws_access_key_id="{key}",',
                f'    aws_secret_access_key="{secret}",',
                f'    region_name="{region}",',
                ")",
                f's3 = session.client("s3", endpoint_url="{endpoint}")',
            ]
        ),
    }


# The sandbox panel shows its expiry warning (and "Extend") from this much time left; lab.js announces
# it at 10, 5 and 1 minutes.
WARN_BEFORE_EXPIRY = timedelta(minutes=10)


def session_cursor(session: LabSession | None) -> str:
    """Changes when the status or the expiry changes (an extension made in another tab shows too)."""
    if session is None:
        return "none"
    return f"{session.status}.{int(session.expires_at.timestamp())}"


def session_context(session: LabSession | None) -> dict:
    ctx = {"session": session, "session_cursor": session_cursor(session)}
    if session is None:
        return ctx
    if session.status == LabSession.Status.READY:
        creds = session.credentials()
        ctx["credentials"] = creds
        ctx["snippets"] = credential_snippets(creds)
        ctx["snippets_shown"] = credential_snippets(creds, mask=True)
        ctx["extra_accounts"] = [
            {"name": a.name, "account_id": a.account_id, "credentials": a.credentials()}
            for a in session.extra_accounts.all()
        ]
    if session.is_live:
        ctx["can_extend"] = services.can_extend(session)
        ctx["extend_minutes"] = int(services.extension_step().total_seconds() // 60)
        ctx["expiring_soon"] = session.expires_at - timezone.now() <= WARN_BEFORE_EXPIRY
    else:
        ctx["ended"] = selectors.session_end_summary(session)
    return ctx


def tasks_context(lab, session: LabSession | None) -> dict:
    attempt = selectors.latest_attempt(session)
    complete = selectors.is_complete(attempt)
    return {
        "lab": lab,
        "session": session,
        "attempt": attempt,
        "tasks": selectors.task_rows(lab, attempt),
        "tasks_cursor": selectors.tasks_cursor(session, attempt),
        "max_score": lab.max_score,
        "check_summary": selectors.check_summary(attempt),
        "lab_complete": complete,
        "next_step": selectors.next_step(lab) if complete else None,
    }


def resources_context(session: LabSession) -> dict:
    # The cursor is read before listing: a change made while listing shows on the next poll.
    cursor = selectors.resources_cursor(session)
    tables = selectors.resource_tables(session) if session.status == LabSession.Status.READY else []
    return {"session": session, "resources_cursor": cursor, "resource_tables": tables}


def journal_context(session: LabSession, after: int | None = None) -> dict:
    rows = selectors.journal_rows(session, after=after)
    return {
        "session": session,
        "journal_rows": rows,
        "journal_cursor": selectors.journal_cursor(rows, after or 0),
    }


def lab_context(request, lab, session: LabSession | None) -> dict:
    ctx = {
        "lab": lab,
        "module": lab.module,
        "course": lab.module.course,
        "instructions_html": instructions_html(lab, session),
        "has_params": bool(lab.definition.get("parameters")),
        "past_sessions": selectors.past_sessions(request.user, lab),
        "best_result": selectors.best_result(request.user, lab),
        "other_live_sessions": selectors.other_live_sessions(request.user, lab),
        "gateway_url": settings.LAB_GATEWAY_URL,
        "session_minutes": settings.LAB_SESSION_MINUTES,
    }
    ctx.update(session_context(session))
    ctx.update(tasks_context(lab, session))
    ctx.update(workbench_context(session))
    if session is not None:
        ctx.update(resources_context(session) if session.is_live else {"resources_cursor": ""})
        ctx.update(journal_context(session))
    return ctx


def lab_url(session: LabSession) -> str:
    if session.is_live:
        return reverse("lab", args=[session.lab.slug])
    return reverse("session", args=[session.pk])


# --- Pages ----------------------------------------------------------------------------------


@learner_required
@never_cache
@require_GET
def lab_page(request, slug):
    lab = get_lab(slug)
    session = services.live_session(request.user, lab)
    ctx = lab_context(request, lab, session)
    if session is None:
        # A sandbox that failed to provision is no longer live, but the learner should hear why.
        ctx["failed_session"] = selectors.recent_failed_session(request.user, lab)
    return render(request, "labs/lab.html", ctx)


@learner_required
@never_cache
@require_GET
def session_page(request, session_id):
    """One session, live or finished: the results and journal it left behind."""
    session = get_session_for_user(request, session_id)
    if session.is_live:
        return redirect("lab", slug=session.lab.slug)
    return render(request, "labs/lab.html", lab_context(request, session.lab, session))


@learner_required
@never_cache
@require_GET
def attempt_page(request, attempt_id):
    attempt = get_attempt_for_user(request, attempt_id)
    session = attempt.session
    return render(
        request,
        "labs/attempt.html",
        {
            "attempt": attempt,
            "session": session,
            "lab": session.lab,
            "tasks": selectors.task_rows(session.lab, attempt),
        },
    )


# --- Actions (POST; htmx-boosted forms, plain forms without JavaScript) ---------------------------


@learner_required
@require_POST
def start_lab(request, slug):
    lab = get_lab(slug)
    try:
        services.start_session(request.user, lab)
    except LabError as exc:
        messages.error(request, str(exc))
    return redirect("lab", slug=lab.slug)


@learner_required
@require_POST
def check_progress(request, session_id):
    session = get_session_for_user(request, session_id)
    error = ""
    try:
        services.request_check(session)
    except LabError as exc:
        error = str(exc)
    if request.htmx and not request.htmx.boosted:
        ctx = tasks_context(session.lab, session)
        ctx["check_error"] = error
        return render(request, "labs/lab.html#tasks_panel", ctx)
    if error:
        messages.error(request, error)
    return redirect(lab_url(session))


@learner_required
@require_POST
def reset_lab(request, session_id):
    session = get_session_for_user(request, session_id)
    if not session.is_live:
        messages.error(request, "This lab session has already ended.")
        return redirect(lab_url(session))
    try:
        services.reset_session(session)
    except LabError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "The lab was reset: you have a fresh sandbox and new credentials.")
    return redirect("lab", slug=session.lab.slug)


@learner_required
@require_POST
def end_lab(request, session_id):
    session = get_session_for_user(request, session_id)
    if session.is_live:
        session = services.end_session(session)
        messages.success(request, f"The lab “{session.lab.title}” has ended and its sandbox was removed.")
    # "End it" beside another lab's Start button comes back to that lab.
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("session", session_id=session.pk)


@learner_required
@require_POST
def extend_lab(request, session_id):
    """Give a live session more time (see services.extend_session for the cap)."""
    session = get_session_for_user(request, session_id)
    error = ""
    try:
        session = services.extend_session(session)
    except LabError as exc:
        error = str(exc)
    if request.htmx and not request.htmx.boosted:
        ctx = {"lab": session.lab, **session_context(session), "extend_error": error}
        if not error:
            ctx["extended"] = True
        return _panel(request, "session_panel", ctx, session)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Your lab now runs until {session.expires_at:%H:%M} UTC.")
    return redirect(lab_url(session))


# --- Live panels ----------------------------------------------------------------------------


def _panel(request, partial: str, ctx: dict, session: LabSession) -> HttpResponse:
    response = render(request, f"labs/lab.html#{partial}", ctx)
    if not session.is_live:
        response.status_code = HTMX_STOP_POLLING
    return response


@learner_required
@never_cache
@require_GET
def session_panel(request, session_id):
    session = get_session_for_user(request, session_id)
    if request.GET.get("cursor") == session_cursor(session):
        return HttpResponse(status=NO_CHANGE)
    ctx = {"lab": session.lab, **session_context(session)}
    return _panel(request, "session_panel", ctx, session)


@learner_required
@never_cache
@require_GET
def tasks_panel(request, session_id):
    session = get_session_for_user(request, session_id)
    if request.GET.get("cursor") == selectors.current_tasks_cursor(session):
        return HttpResponse(status=NO_CHANGE)
    return _panel(request, "tasks_panel", tasks_context(session.lab, session), session)


@learner_required
@never_cache
@require_GET
def resources_panel(request, session_id):
    session = get_session_for_user(request, session_id)
    if request.GET.get("cursor") == selectors.resources_cursor(session):
        return HttpResponse(status=NO_CHANGE)
    return _panel(request, "resources_panel", resources_context(session), session)


@learner_required
@never_cache
@require_GET
def journal_panel(request, session_id):
    """New journal rows after the cursor, followed by the next poller (swapped over the old one)."""
    session = get_session_for_user(request, session_id)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    ctx = journal_context(session, after=after)
    if not ctx["journal_rows"] and session.is_live:
        return HttpResponse(status=NO_CHANGE)
    return _panel(request, "journal_rows", ctx, session)
