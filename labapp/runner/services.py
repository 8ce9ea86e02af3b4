"""Every change to Run rows goes through here (the web panel, `lab run` and the Celery task call in).

A run is claimed exactly once (a conditional UPDATE queued -> running). The sandbox dies with the worker
that runs it (bwrap --die-with-parent), so a run whose worker died can never finish; when its message is
delivered again (acks_late), the new delivery finds it `running`, and marks it `failed_infra` instead of
running the learner's command a second time: as soon as the claiming worker is known to be dead, or once
the run's deadline has passed. `reap_stale_runs` does the same for runs nobody redelivers.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from labapp.labs.models import LabSession

from .api import (
    DEFAULT_LIMITS,
    MAX_SCRIPT_CHARS,
    CommandRefused,
    RunResult,
    run_cli,
    run_script,
    split_command,
)
from .models import Run, ScriptDraft
from .sandbox import STOPPED_BY_YOU

log = logging.getLogger(__name__)

INFRA_MESSAGE = "The runner stopped unexpectedly while running this; it was not run again. Please try again."
# After this long in `running`, a run's worker is certainly gone (limits.wall_seconds + teardown).
DEADLINE = timedelta(seconds=DEFAULT_LIMITS.wall_seconds + 15)
QUEUED_TOO_LONG = timedelta(minutes=2)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class RunnerError(Exception):
    """A request the learner should see as-is (session not ready...)."""


# A learner waits for their output; more than this many unfinished runs per session is a runaway loop
# or a stuck worker, and queueing more would only slow every other learner's runs.
MAX_UNFINISHED_RUNS = 3


def submit(session: LabSession, kind: str, source: str) -> Run:
    """Record a run and hand it to a worker (after commit). Returns the queued row.

    A console line that is not an `aws` command is refused here, at once, and stored as a finished
    run (so it shows in the console's history with its one-line refusal): no worker is bothered."""
    if session.status != LabSession.Status.READY:
        raise RunnerError("The lab is not ready yet." if session.is_live else "This lab session has ended.")
    refusal = _refusal(kind, source)
    if refusal:
        now = timezone.now()
        return Run.objects.create(
            session=session, kind=kind, source=source, status=Run.Status.DONE, refused=True, exit_code=2,
            stderr=refusal, message=refusal, duration_ms=0.0, started_at=now, finished_at=now,
        )
    unfinished = Run.objects.filter(session=session, status__in=[Run.Status.QUEUED, Run.Status.RUNNING])
    if unfinished.count() >= MAX_UNFINISHED_RUNS:
        raise RunnerError("Your earlier commands are still running: wait for one to finish, or press its Stop button.")
    with transaction.atomic():
        run = Run.objects.create(session=session, kind=kind, source=source)
        _enqueue(run)
    return run


def _refusal(kind: str, source: str) -> str:
    if kind == Run.Kind.CLI:
        try:
            split_command(source)
        except CommandRefused as refusal:
            return str(refusal)
    elif len(source) > MAX_SCRIPT_CHARS:
        return f"That script is too long (limit {MAX_SCRIPT_CHARS // 1024} KiB)."
    return ""


def _enqueue(run: Run) -> None:
    from .tasks import execute_run

    execute_run.delay_on_commit(str(run.pk))


def claim(run_id: str, owner: str) -> tuple[Run | None, str]:
    """Take a queued run. Returns (run, "claimed"), or (None, why): "finished", "missing", "failed_infra"
    (it was interrupted and is now marked so) or "running" (another live worker holds it: check later)."""
    now = timezone.now()
    if Run.objects.filter(pk=run_id, status=Run.Status.QUEUED).update(
        status=Run.Status.RUNNING, worker=owner, started_at=now
    ):
        return Run.objects.select_related("session").get(pk=run_id), "claimed"
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        return None, "missing"
    if run.is_finished:
        return None, "finished"
    if _worker_dead(run.worker) or (run.started_at and run.started_at < now - DEADLINE):
        fail_infra(run)
        return None, "failed_infra"
    return None, "running"


def _worker_dead(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only the deadline tells
    if int(pid) == os.getpid():
        return True  # this process claimed it before and is not running it now: it was interrupted
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def fail_infra(run: Run, message: str = INFRA_MESSAGE) -> bool:
    return bool(
        Run.objects.filter(pk=run.pk, status__in=[Run.Status.QUEUED, Run.Status.RUNNING]).update(
            status=Run.Status.FAILED_INFRA, message=message, finished_at=timezone.now()
        )
    )


def request_stop(run: Run) -> Run:
    """The learner's Stop button. A queued run is finished at once without ever running; a running one is
    flagged, and the worker running it kills its sandbox within STOP_POLL_SECONDS or so (see `execute`).
    A run that has already ended is left as it is: pressing Stop late is harmless."""
    now = timezone.now()
    never_started = Run.objects.filter(pk=run.pk, status=Run.Status.QUEUED).update(
        status=Run.Status.DONE, stop_requested=True, limit="stopped", message=STOPPED_BY_YOU,
        stderr="", exit_code=None, duration_ms=0.0, started_at=now, finished_at=now,
    )
    if not never_started:
        Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(stop_requested=True)
    run.refresh_from_db()
    return run


def _stop_check(run: Run):
    """A callable for Sandbox.run: has the learner asked to stop this run? (One indexed read per tick, on
    the worker's own connection; it runs in the thread that runs the job.)"""

    def should_stop() -> bool:
        try:
            return Run.objects.filter(pk=run.pk, stop_requested=True).exists()
        except Exception:  # noqa: BLE001 - a database hiccup must not kill the learner's run
            log.warning("runner: could not read the stop flag of %s", run.pk, exc_info=True)
            return False

    return should_stop


def execute(run: Run, owner: str, *, limits=None, pool=None) -> Run:
    """Run a claimed row in a fresh sandbox and store the output (once: only while it is still ours)."""
    session = run.session
    should_stop = _stop_check(run)
    if session.status != LabSession.Status.READY:
        result = RunResult("", "This lab session has ended.", 2, 0.0, message="This lab session has ended.", refused=True)
    elif should_stop():  # Stop pressed between the claim and now
        result = RunResult("", "", 137, 0.0, limit="stopped", message=STOPPED_BY_YOU)
    elif run.kind == Run.Kind.CLI:
        result = run_cli(session, run.source, limits=limits, pool=pool, should_stop=should_stop)
    else:
        result = run_script(session, run.source, limits=limits, pool=pool, should_stop=should_stop)
    store(run, owner, result)
    run.refresh_from_db()
    return run


def store(run: Run, owner: str, result: RunResult) -> bool:
    if result.infra_error:
        return fail_infra(run, result.message)
    return bool(
        Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, worker=owner).update(
            status=Run.Status.DONE,
            stdout=result.stdout,
            stderr=result.stderr,
            exit_code=result.exit_code,
            duration_ms=result.duration_ms,
            limit=result.limit or "",
            message=result.message,
            refused=result.refused,
            finished_at=timezone.now(),
        )
    )


def run_now(session: LabSession, kind: str, source: str, *, limits=None, pool=None) -> Run:
    """Record and run synchronously in this process (`manage.py lab run`, tests)."""
    owner = worker_id()
    run = Run.objects.create(session=session, kind=kind, source=source, status=Run.Status.RUNNING,
                             worker=owner, started_at=timezone.now())
    return execute(run, owner, limits=limits, pool=pool)


def history(session: LabSession, kind: str = Run.Kind.CLI, limit: int = 100) -> list[Run]:
    """The session's latest runs of a kind, oldest first (console history, arrow keys)."""
    rows = list(Run.objects.filter(session=session, kind=kind).order_by("-created_at")[:limit])
    return rows[::-1]


def save_script(session: LabSession, source: str) -> ScriptDraft:
    draft, _ = ScriptDraft.objects.update_or_create(session=session, defaults={"source": source})
    return draft


def load_script(session: LabSession) -> str:
    draft = ScriptDraft.objects.filter(session=session).first()
    return draft.source if draft else ""


def reap_stale_runs() -> dict:
    """Runs stuck in `running` past their deadline -> failed_infra; queued runs whose message was lost are
    enqueued again (they never started), and given up after QUEUED_TOO_LONG."""
    now = timezone.now()
    stuck = Run.objects.filter(status=Run.Status.RUNNING, started_at__lt=now - DEADLINE).update(
        status=Run.Status.FAILED_INFRA, message=INFRA_MESSAGE, finished_at=now
    )
    expired = Run.objects.filter(status=Run.Status.QUEUED, created_at__lt=now - QUEUED_TOO_LONG).update(
        status=Run.Status.FAILED_INFRA, message="The runner was too busy to start this; please try again.",
        finished_at=now,
    )
    requeued = 0
    for run in Run.objects.filter(status=Run.Status.QUEUED, created_at__lt=now - timedelta(seconds=20))[:200]:
        _enqueue(run)
        requeued += 1
    return {"stuck": stuck, "expired": expired, "requeued": requeued}
