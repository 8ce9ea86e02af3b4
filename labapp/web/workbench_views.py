"""The lab page's workbench: the AWS CLI console and the boto3 script runner.

Both hand the learner's input to the runner (labapp.runner.services), which records a Run and lets a
Celery worker execute it in a throw-away bubblewrap sandbox. The page shows a pending entry that polls
its own URL (204 while the run is unfinished, the final entry once it has ended), so the web process
never waits for a learner's command.

Output is only ever shown through auto-escaping templates, inside elements with hx-disable: whatever a
learner prints (`<script>`, `hx-get=`) stays text.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from labapp.labs.models import LabSession
from labapp.runner import services as runner
from labapp.runner.models import Run

from .access import get_run_for_user, get_session_for_user, learner_required

NO_CHANGE = 204
TEMPLATE = "labs/_workbench.html"
HISTORY_SHOWN = 30  # console entries rendered with the page; older ones stay in the database

STARTER_SCRIPT = '''\
import boto3

# Your sandbox's credentials, region and endpoint are already in the environment.
s3 = boto3.client("s3")
for bucket in s3.list_buckets()["Buckets"]:
    print(bucket["Name"])
'''


def workbench_context(session: LabSession | None) -> dict:
    ctx = {"session": session, "workbench_cursor": session.status if session else "none"}
    if session is not None and session.status == LabSession.Status.READY:
        ctx["console_runs"] = runner.history(session, Run.Kind.CLI, limit=HISTORY_SHOWN)
        ctx["script_source"] = runner.load_script(session) or STARTER_SCRIPT
        ctx["last_script_run"] = (
            Run.objects.filter(session=session, kind=Run.Kind.SCRIPT).order_by("-created_at").first()
        )
    return ctx


def _back_to_console(session: LabSession, anchor: str):
    return redirect(reverse("lab", args=[session.lab.slug]) + anchor)


def _error(request, session: LabSession, message: str, anchor: str):
    """Shown in the tool's alert region (not in its output), or as a message after a plain POST."""
    if request.htmx:
        response = render(request, f"{TEMPLATE}#runner_error", {"message": message})
        return reswap(retarget(response, f"{anchor}-status"), "innerHTML")
    messages.error(request, message)
    return _back_to_console(session, anchor)


# Per kind of run: the tool's anchor on the lab page and the partial showing one run of it.
TOOLS = {Run.Kind.CLI: ("#console", "console_entry"), Run.Kind.SCRIPT: ("#script", "script_result")}


def _submit(request, session: LabSession, kind: str, source: str):
    """Hand a console line or a script to the runner; answer with its pending entry (htmx) or go back."""
    anchor, partial = TOOLS[kind]
    try:
        run = runner.submit(session, kind, source)
    except runner.RunnerError as error:
        return _error(request, session, str(error), anchor)
    if request.htmx:
        return render(request, f"{TEMPLATE}#{partial}", {"run": run})
    return _back_to_console(session, anchor)


@learner_required
@never_cache
@require_GET
def workbench_panel(request, session_id):
    """While the sandbox is being prepared the workbench polls this; it appears once the session is ready."""
    session = get_session_for_user(request, session_id)
    if request.GET.get("cursor") == session.status:
        return HttpResponse(status=NO_CHANGE)
    return render(request, f"{TEMPLATE}#workbench", workbench_context(session))


@learner_required
@require_POST
def console_run(request, session_id):
    session = get_session_for_user(request, session_id)
    command = request.POST.get("command", "").strip()
    if not command:
        return HttpResponse(status=NO_CHANGE) if request.htmx else _back_to_console(session, "#console")
    return _submit(request, session, Run.Kind.CLI, command)


@learner_required
@require_POST
def script_save(request, session_id):
    """The editor saves as the learner types (debounced); the answer is the "saved at" note."""
    session = get_session_for_user(request, session_id)
    source = request.POST.get("source", "")
    if len(source) > runner.MAX_SCRIPT_CHARS:
        return render(request, f"{TEMPLATE}#script_saved",
                      {"error": f"Not saved: the script is over {runner.MAX_SCRIPT_CHARS // 1024} KiB."})
    draft = runner.save_script(session, source)
    if request.htmx:
        return render(request, f"{TEMPLATE}#script_saved", {"saved_at": draft.updated_at})
    return _back_to_console(session, "#script")


@learner_required
@require_POST
def script_run(request, session_id):
    session = get_session_for_user(request, session_id)
    source = request.POST.get("source", "")
    if not source.strip():
        return _error(request, session, "The script is empty: write some Python first.", "#script")
    if len(source) <= runner.MAX_SCRIPT_CHARS:
        runner.save_script(session, source)  # running a script saves it, as an editor would
    return _submit(request, session, Run.Kind.SCRIPT, source)


@learner_required
@never_cache
@require_GET
def run_entry(request, run_id):
    """A run's entry, polled while it is unfinished: 204 until it ends, then its output."""
    run = get_run_for_user(request, run_id)
    if not run.is_finished:
        return HttpResponse(status=NO_CHANGE)
    _anchor, partial = TOOLS[run.kind]
    return render(request, f"{TEMPLATE}#{partial}", {"run": run})


@learner_required
@require_POST
def run_stop(request, run_id):
    """The Stop button of a running command or script: only the run's own learner reaches it (404 for
    anyone else). A run that already ended is left as it is; the answer is always its current entry."""
    run = get_run_for_user(request, run_id)
    run = runner.request_stop(run)
    anchor, partial = TOOLS[run.kind]
    if request.htmx:
        return render(request, f"{TEMPLATE}#{partial}", {"run": run})
    return _back_to_console(run.session, anchor)
