"""Celery tasks: thin wrappers that take an id, claim the row and call a service.

Delivery is at-least-once (acks_late + reject_on_worker_lost in settings); `services.claim_*` makes
every extra delivery a no-op, and `reap_stale_jobs` re-enqueues work whose worker died.
"""

import logging

from celery import shared_task

from . import services
from .models import LabSession

log = logging.getLogger(__name__)


def _is_infrastructure_error(exc: Exception) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import EndpointConnectionError

    from labapp.sandbox.client import SandboxUnavailable

    return isinstance(exc, (OSError, BotoConnectionError, EndpointConnectionError, SandboxUnavailable))


@shared_task(bind=True, max_retries=5)
def provision_session(self, session_id: str) -> None:
    owner = services.worker_id()
    session = services.claim_provisioning(session_id, owner)
    if session is None:
        return  # already provisioned, ended, or another worker holds it
    try:
        services.provision(session, owner)
    except Exception as exc:
        if _is_infrastructure_error(exc) and self.request.retries < self.max_retries:
            log.warning("provisioning %s: sandbox unreachable (%s); retrying", session_id, exc)
            LabSession.objects.filter(pk=session_id, lease_owner=owner).update(lease_owner="", lease_until=None)
            raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 10)) from exc
        log.exception("provisioning %s failed", session_id)
        services.fail_provisioning(session, owner, f"Setting up the lab failed: {exc}")


@shared_task(bind=True, max_retries=5)
def grade_attempt(self, attempt_id: int) -> None:
    owner = services.worker_id()
    attempt = services.claim_attempt(attempt_id, owner)
    if attempt is None:
        return  # graded already, or another worker is on it
    try:
        services.grade(attempt, owner)
    except Exception as exc:
        if _is_infrastructure_error(exc) and self.request.retries < self.max_retries:
            log.warning("grading attempt %s: sandbox unreachable (%s); retrying", attempt_id, exc)
            services.release_attempt(attempt, owner)
            raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 10)) from exc
        log.exception("grading attempt %s failed", attempt_id)
        services.fail_attempt(attempt, owner, f"Grading failed: {exc}")


@shared_task
def retire_sandbox(session_id: str) -> None:
    session = LabSession.objects.filter(pk=session_id).first()
    if session and not session.is_live and session.status != LabSession.Status.SUBMITTED:
        services.retire(session)


@shared_task
def lock_handed_in_sandbox(session_id: str) -> None:
    """The gateway caches keys for a few seconds; make a handed-in session's keys stop working now."""
    from labapp.sandbox import client as sandbox

    session = LabSession.objects.filter(pk=session_id, status=LabSession.Status.SUBMITTED).first()
    if session:
        sandbox.forget_credentials(session.access_key_id)


@shared_task
def release_handed_in_sandboxes() -> int:
    return services.release_handed_in_sandboxes()


@shared_task
def reap_stale_jobs() -> dict:
    return services.reap_stale_jobs()


@shared_task
def expire_sessions() -> int:
    return services.expire_sessions()
