"""Every change to lab sessions and attempts goes through these functions.

Views, management commands and Celery tasks stay thin and call in here. Background work is always a
database row first (a session in `provisioning`, an attempt in `queued`) and a Celery message second,
sent only after the row is committed; see `claim_*` for how workers take a job exactly once.
"""

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from labapp.courses.models import Lab
from labapp.sandbox.credentials import new_access_key_id, new_account_id, new_secret

from .leases import lease_kept
from .models import Attempt, LabSession, SessionAccount, TaskResult

log = logging.getLogger(__name__)

# How long a job's lease lasts. The worker renews it while it works (`leases.lease_kept`), so a short
# lease means quick recovery after a worker dies without ever taking over a slow, live job;
# `reap_stale_jobs` runs every few seconds.
JOB_LEASE = timedelta(seconds=settings.LAB_JOB_LEASE_SECONDS)
# A queued job whose message has not been picked up for this long is enqueued again (lost message).
REQUEUE_AFTER = timedelta(seconds=settings.LAB_REQUEUE_AFTER_SECONDS)
# Attempts are given up (marked failed, not graded) after this many claims: a check that kills its
# worker every time must not loop forever.
MAX_TRIES = 3


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LabError(Exception):
    """A request the learner can fix or should know about (shown as-is)."""


# --- Sessions -------------------------------------------------------------------------------


def live_session(user, lab: Lab) -> LabSession | None:
    return LabSession.objects.filter(user=user, lab=lab, status__in=LabSession.LIVE).first()


def start_session(user, lab: Lab) -> LabSession:
    """Return the learner's live session for this lab, or create one and enqueue its provisioning."""
    from labapp.grading.parameters import generate_params

    if existing := live_session(user, lab):
        return existing
    account_id = new_account_id()
    # Labs that need several accounts (a partner to trust, a role to assume across accounts) declare them:
    # each is a fresh account of this session, with its own keys, `{{ <name>_account_id }}` in templates.
    extra = {name: new_account_id() for name in lab.definition.get("accounts") or ()}
    now = timezone.now()
    try:
        with transaction.atomic():
            params = generate_params(lab.definition, user_id=user.pk, account_id=account_id)
            params.update({f"{name}_account_id": extra_id for name, extra_id in extra.items()})
            session = LabSession.objects.create(
                user=user,
                lab=lab,
                account_id=account_id,
                access_key_id=new_access_key_id(),
                secret_access_key=new_secret(),
                region=settings.LAB_DEFAULT_REGION,
                params=params,
                expires_at=now + timedelta(minutes=settings.LAB_SESSION_MINUTES),
                enqueued_at=now,
            )
            SessionAccount.objects.bulk_create(
                SessionAccount(session=session, name=name, account_id=extra_id,
                               access_key_id=new_access_key_id(), secret_access_key=new_secret())
                for name, extra_id in extra.items()
            )
            _enqueue_provisioning(session)
    except IntegrityError:
        # Two "Start lab" clicks raced; the unique constraint let one through. Return that one.
        if existing := live_session(user, lab):
            return existing
        raise
    return session


def _send_on_commit(task, *args) -> None:
    """Enqueue after the row is committed. If the broker is down the job is not lost: its row stays
    queued and `reap_stale_jobs` enqueues it again once the broker answers."""

    def send():
        try:
            task.delay(*args)
        except Exception as exc:  # kombu raises several types for an unreachable broker
            log.warning("could not enqueue %s%s (%s); the reaper will retry", task.name, args, exc)

    transaction.on_commit(send)


def _enqueue_provisioning(session: LabSession) -> None:
    from .tasks import provision_session

    _send_on_commit(provision_session, str(session.pk))


def claim_provisioning(session_id: str, owner: str) -> LabSession | None:
    """Take the provisioning job of a session, or None if it is done or another worker holds it."""
    now = timezone.now()
    claimed = LabSession.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        pk=session_id,
        status=LabSession.Status.PROVISIONING,
    ).update(lease_owner=owner, lease_until=now + JOB_LEASE)
    if not claimed:
        return None
    return LabSession.objects.select_related("lab", "user").get(pk=session_id)


def provision(session: LabSession, owner: str) -> None:
    """Run the lab's setup in a clean account and mark the session ready. Safe to run again."""
    from labapp.grading.setup import run_setup
    from labapp.sandbox import client as sandbox

    # A previous try may have died half-way through setup: start again from an empty account.
    extra = {a.name: a for a in session.extra_accounts.all()}
    with lease_kept(LabSession, session.pk, owner, JOB_LEASE):
        for account_id in [session.account_id, *(a.account_id for a in extra.values())]:
            sandbox.reset_account(account_id)
        run_setup(
            session.lab.definition,
            session.params,
            lambda service, account=None: sandbox.client(
                session, service, source="setup", account=extra[account] if account else None
            ),
        )
    LabSession.objects.filter(
        pk=session.pk, status=LabSession.Status.PROVISIONING, lease_owner=owner
    ).update(status=LabSession.Status.READY, ready_at=timezone.now(), lease_owner="", lease_until=None)


def fail_provisioning(session: LabSession, owner: str, error: str) -> None:
    LabSession.objects.filter(
        pk=session.pk, status=LabSession.Status.PROVISIONING, lease_owner=owner
    ).update(status=LabSession.Status.FAILED, error=error[:2000], lease_owner="", lease_until=None)
    _forget_keys_on_commit(session)
    _enqueue_retire(session)


def end_session(session: LabSession, status: str = LabSession.Status.ENDED) -> LabSession:
    """End a live session; its sandbox is retired (memory freed, credentials refused) by a worker."""
    updated = LabSession.objects.filter(pk=session.pk, status__in=LabSession.LIVE).update(
        status=status, ended_at=timezone.now(), lease_owner="", lease_until=None
    )
    if updated:
        # Queued checks of an ended session will never be graded.
        session.attempts.filter(status=Attempt.Status.QUEUED).update(
            status=Attempt.Status.FAILED, error="The lab session ended before this check ran."
        )
        _forget_keys_on_commit(session)
        _enqueue_retire(session)
    session.refresh_from_db()
    return session


def hand_in(session: LabSession) -> bool:
    """Freeze a ready session as submitted work: the learner's keys stop working at once, and the
    sandbox stays as it is (platform calls only) so that a regrade looks at what was submitted. It is
    retired after LAB_SUBMISSION_RETENTION_DAYS by `release_handed_in_sandboxes`."""
    updated = LabSession.objects.filter(pk=session.pk, status=LabSession.Status.READY).update(
        status=LabSession.Status.SUBMITTED, ended_at=timezone.now(), lease_owner="", lease_until=None
    )
    if updated:
        from .tasks import lock_handed_in_sandbox

        _forget_keys_on_commit(session)
        _send_on_commit(lock_handed_in_sandbox, str(session.pk))  # again from a worker, if the gateway was away
    session.refresh_from_db()
    return bool(updated)


def release_handed_in_sandboxes() -> int:
    """Retire handed-in sandboxes older than the retention time (their grades stay; regrades skip them)."""
    cutoff = timezone.now() - timedelta(days=settings.LAB_SUBMISSION_RETENTION_DAYS)
    released = 0
    for session in LabSession.objects.filter(status=LabSession.Status.SUBMITTED, ended_at__lt=cutoff)[:500]:
        if LabSession.objects.filter(pk=session.pk, status=LabSession.Status.SUBMITTED).update(
            status=LabSession.Status.ENDED
        ):
            _enqueue_retire(session)
            released += 1
    return released


def extension_step() -> timedelta:
    """How much one "Extend" adds: half a session, at most 30 minutes."""
    return min(timedelta(minutes=30), timedelta(minutes=settings.LAB_SESSION_MINUTES) / 2)


def latest_expiry(session: LabSession):
    """A session lives at most twice LAB_SESSION_MINUTES from its start, however often it is extended."""
    return session.created_at + 2 * timedelta(minutes=settings.LAB_SESSION_MINUTES)


def extend_session(session: LabSession) -> LabSession:
    """Push a live session's expiry back by `extension_step()`, capped at `latest_expiry()`.

    The reaper (`expire_sessions`) and the gateway both read `expires_at` from the row. The gateway
    caches a key with its expiry for a few seconds, so it is told to forget the account's keys once the
    new expiry is committed: an extension made in the last seconds still lets the next call through."""
    now = timezone.now()
    if not session.is_live or session.expires_at <= now:
        raise LabError("This lab session has already ended.")
    cap = latest_expiry(session)
    new_expiry = min(max(session.expires_at, now) + extension_step(), cap)
    if new_expiry <= session.expires_at:
        raise LabError(
            f"This session cannot be extended further: a lab session lasts at most "
            f"{2 * settings.LAB_SESSION_MINUTES} minutes. End it and start a new one if you need more time."
        )
    with transaction.atomic():
        # Conditional on the expiry we read and a live status: a reaper that just expired it wins.
        updated = LabSession.objects.filter(
            pk=session.pk, status__in=LabSession.LIVE, expires_at=session.expires_at, expires_at__gt=now
        ).update(expires_at=new_expiry)
        if updated:
            _forget_keys_on_commit(session)
    session.refresh_from_db()
    if not updated and not session.is_live:
        raise LabError("This lab session has already ended.")
    return session


def can_extend(session: LabSession) -> bool:
    return session.is_live and session.expires_at < latest_expiry(session)


def reset_session(session: LabSession) -> LabSession:
    """Throw the sandbox away and start the same lab again in a fresh account."""
    end_session(session)
    return start_session(session.user, session.lab)


def _enqueue_retire(session: LabSession) -> None:
    from .tasks import retire_sandbox

    _send_on_commit(retire_sandbox, str(session.pk))


def _forget_keys_on_commit(session: LabSession) -> None:
    """Make the gateway drop what it cached about the session's account as soon as the new status is
    committed: the session's key and every key moto issued in the account (IAM user keys, STS
    credentials) are refused from the next call, not after the cache's few seconds. Best effort: if
    the gateway does not answer, its cache expires within seconds anyway and retire() forgets again."""
    access_key_ids = [session.access_key_id, *session.extra_accounts.values_list("access_key_id", flat=True)]

    def forget():
        from labapp.sandbox import client as sandbox

        for access_key_id in access_key_ids:
            try:
                sandbox.forget_credentials(access_key_id)
            except Exception as exc:
                log.warning("could not make the gateway forget %s now (%s); its cache expires soon",
                            access_key_id, exc)

    transaction.on_commit(forget)


def retire(session: LabSession) -> None:
    from labapp.sandbox import client as sandbox

    extra = list(session.extra_accounts.all())
    for access_key_id in [session.access_key_id, *(a.access_key_id for a in extra)]:
        sandbox.forget_credentials(access_key_id)
    for account_id in [session.account_id, *(a.account_id for a in extra)]:
        sandbox.reset_account(account_id)
    sandbox.forget_clients(session)  # this process's cached clients of the session, and their connections


# Sessions in these statuses must have no state left in the emulator (submitted ones keep theirs
# until `release_handed_in_sandboxes`).
RETIRED_STATUSES = (LabSession.Status.ENDED, LabSession.Status.EXPIRED, LabSession.Status.FAILED)


def retire_leftover_sandboxes() -> int:
    """Retire again every ended session whose account still holds state in the emulator: a retire
    whose message was lost, or that failed (emulator down, an error in the reset), is not forgotten.
    Accounts no session owns are freed too. Run by the reaper; returns how many accounts it acted on."""
    from labapp.sandbox import client as sandbox

    try:
        accounts = sandbox.emulator_stats()["accounts"]
    except Exception as exc:
        log.warning("cannot list the emulator's accounts (%s); leftover sandboxes are retired later", exc)
        return 0
    leftovers = list(
        LabSession.objects.filter(
            Q(account_id__in=accounts) | Q(extra_accounts__account_id__in=accounts), status__in=RETIRED_STATUSES
        ).distinct().only("pk")[:500]
    )
    for session in leftovers:
        _send_now(_retire_task(), str(session.pk))
    # State of an account no session owns (its session was deleted; moto's default account) is freed here:
    # there is no session to retire. A new session's account gets state only after its row is committed.
    owned = set(LabSession.objects.filter(account_id__in=accounts).values_list("account_id", flat=True))
    owned |= set(SessionAccount.objects.filter(account_id__in=accounts).values_list("account_id", flat=True))
    orphans = [account for account in accounts if account not in owned][:500]
    for account in orphans:
        try:
            sandbox.reset_account(account)
        except Exception as exc:
            log.warning("could not free the orphaned sandbox account %s (%s); next time", account, exc)
    return len(leftovers) + len(orphans)


def _retire_task():
    from .tasks import retire_sandbox

    return retire_sandbox


def _send_now(task, *args) -> None:
    try:
        task.delay(*args)
    except Exception as exc:
        log.warning("could not enqueue %s%s (%s); the reaper will retry", task.name, args, exc)


# --- Attempts -------------------------------------------------------------------------------


def request_check(session: LabSession, kind: str = Attempt.Kind.CHECK) -> Attempt:
    """Queue a grading run. One pending check per session: a second click returns the pending one."""
    if session.status != LabSession.Status.READY:
        raise LabError("The lab is not ready yet." if session.is_live else "This lab session has ended.")
    pending = session.attempts.filter(status__in=[Attempt.Status.QUEUED, Attempt.Status.RUNNING]).first()
    if pending and kind == Attempt.Kind.CHECK:
        return pending
    with transaction.atomic():
        attempt = Attempt.objects.create(session=session, kind=kind, enqueued_at=timezone.now())
        _enqueue_grading(attempt)
    return attempt


def _enqueue_grading(attempt: Attempt) -> None:
    from .tasks import grade_attempt

    _send_on_commit(grade_attempt, attempt.pk)


def claim_attempt(attempt_id: int, owner: str) -> Attempt | None:
    """Take an attempt to grade: a queued one, or a running one whose worker's lease ran out."""
    now = timezone.now()
    claimed = Attempt.objects.filter(
        Q(status=Attempt.Status.QUEUED) | Q(status=Attempt.Status.RUNNING, lease_until__lt=now),
        pk=attempt_id,
    ).update(status=Attempt.Status.RUNNING, lease_owner=owner, lease_until=now + JOB_LEASE, tries=F("tries") + 1)
    if not claimed:
        return None
    return Attempt.objects.select_related("session__lab", "session__user").get(pk=attempt_id)


def check_sandbox(session: LabSession, journal_until=None) -> dict:
    """The lab's checks run against the session's sandbox, with the learner's journal (up to
    `journal_until`, for a regrade of a submission): the grader's outcome. Raises SandboxUnavailable on
    an outage, so that no grade ever records one. Grading and regrading both come through here."""
    from labapp.grading.checks import CheckContext
    from labapp.grading.grader import grade as run_checks
    from labapp.sandbox import client as sandbox

    sandbox.flush_journal()  # the gateway writes the journal in batches; graders need all of it
    calls = session.api_calls.filter(source="learner")
    if journal_until is not None:
        calls = calls.filter(at__lte=journal_until)
    journal = list(
        calls.order_by("id").values("id", "at", "service", "action", "params", "status", "error_code", "source")
    )
    params = {**session.params, "account_id": session.account_id}  # sessions started before it was implicit
    ctx = CheckContext(
        params=params,
        client=lambda service: sandbox.client(session, service, source="platform"),
        journal=journal,
    )
    for extra in session.extra_accounts.all():
        ctx.accounts[extra.name] = CheckContext(
            params={**params, "account_id": extra.account_id},
            client=lambda service, extra=extra: sandbox.client(session, service, source="platform", account=extra),
            journal=journal,
        )
    return run_checks(session.lab.definition, params, ctx)


def grade(attempt: Attempt, owner: str) -> bool:
    """Run the lab's checks against the sandbox and store the result once. Returns False if another
    worker stored it first (this run's result is then discarded)."""
    session = attempt.session
    if attempt.tries > MAX_TRIES:
        return fail_attempt(attempt, owner, "Grading failed repeatedly; please try again.")
    with lease_kept(Attempt, attempt.pk, owner, JOB_LEASE):
        outcome = check_sandbox(session)
    with transaction.atomic():
        stored = Attempt.objects.filter(
            pk=attempt.pk, status=Attempt.Status.RUNNING, lease_owner=owner
        ).update(
            status=Attempt.Status.GRADED,
            score=outcome["score"],
            max_score=outcome["max_score"],
            results=outcome["tasks"],
            graded_at=timezone.now(),
            lease_owner="",
            lease_until=None,
        )
        if not stored:
            log.info("attempt %s was stored by another worker; discarding this result", attempt.pk)
            return False
        TaskResult.objects.bulk_create(
            TaskResult(
                attempt_id=attempt.pk,
                task_id=task["id"],
                points=task["points"],
                max_points=task["max_points"],
                passed=task["passed"],
                feedback=task["feedback"],
            )
            for task in outcome["tasks"]
        )
    return True


def fail_attempt(attempt: Attempt, owner: str, error: str) -> bool:
    return bool(
        Attempt.objects.filter(pk=attempt.pk, status=Attempt.Status.RUNNING, lease_owner=owner).update(
            status=Attempt.Status.FAILED, error=error, graded_at=timezone.now(), lease_owner="", lease_until=None
        )
    )


def release_attempt(attempt: Attempt, owner: str) -> None:
    """Give a job back after an infrastructure error, so the next delivery can take it at once."""
    Attempt.objects.filter(pk=attempt.pk, status=Attempt.Status.RUNNING, lease_owner=owner).update(
        status=Attempt.Status.QUEUED, lease_owner="", lease_until=None, enqueued_at=timezone.now()
    )


# --- Recovery -------------------------------------------------------------------------------


def reap_stale_jobs() -> dict:
    """Re-enqueue jobs whose worker died (lease expired) or whose message was lost (queued too long).

    Safe to run anywhere, any number of times: re-enqueued jobs are claimed atomically."""
    now = timezone.now()
    stale_attempts = list(
        Attempt.objects.filter(
            Q(status=Attempt.Status.RUNNING, lease_until__lt=now)
            | Q(status=Attempt.Status.QUEUED, enqueued_at__lt=now - REQUEUE_AFTER)
        ).values_list("pk", flat=True)[:500]
    )
    for attempt_id in stale_attempts:
        Attempt.objects.filter(pk=attempt_id).update(enqueued_at=now)
        _enqueue_grading(Attempt(pk=attempt_id))
    stale_sessions = list(
        LabSession.objects.filter(
            Q(lease_until__lt=now) | Q(lease_until__isnull=True, enqueued_at__lt=now - REQUEUE_AFTER),
            status=LabSession.Status.PROVISIONING,
        ).values_list("pk", flat=True)[:500]
    )
    for session_id in stale_sessions:
        LabSession.objects.filter(pk=session_id).update(enqueued_at=now)
        _enqueue_provisioning(LabSession(pk=session_id))
    return {"attempts": len(stale_attempts), "sessions": len(stale_sessions), "retired": _maybe_retire_leftovers()}


_leftovers_checked = 0.0
LEFTOVER_CHECK_SECONDS = 60.0


def _maybe_retire_leftovers() -> int:
    """The reaper runs every few seconds; the leftover check asks the emulator, so once a minute."""
    import time

    global _leftovers_checked
    if time.monotonic() - _leftovers_checked < LEFTOVER_CHECK_SECONDS:
        return 0
    _leftovers_checked = time.monotonic()
    return retire_leftover_sandboxes()


def expire_sessions() -> int:
    expired = LabSession.objects.filter(status__in=LabSession.LIVE, expires_at__lt=timezone.now())
    count = 0
    for session in expired:
        end_session(session, status=LabSession.Status.EXPIRED)
        count += 1
    return count
