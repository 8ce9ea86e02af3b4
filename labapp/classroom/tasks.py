"""Celery tasks of the instructor workspace: thin wrappers that take an id, claim the row, call a service.

Submissions need no task of their own: a submission's grading is an Attempt graded by
`labapp.labs.tasks.grade_attempt`, like any check.
"""

import logging

from celery import shared_task

from labapp.labs import services as lab_services
from labapp.labs.tasks import _is_infrastructure_error

from . import services

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5)
def regrade_submission(self, item_id: int) -> None:
    owner = lab_services.worker_id()
    item = services.claim_regrade_item(item_id, owner)
    if item is None:
        return  # finished already, or another worker holds it
    try:
        services.regrade(item, owner)
    except Exception as exc:
        if _is_infrastructure_error(exc) and self.request.retries < self.max_retries:
            log.warning("regrade item %s: sandbox unreachable (%s); retrying", item_id, exc)
            services.release_item(item, owner)
            raise self.retry(exc=exc, countdown=min(2 ** self.request.retries, 10)) from exc
        log.exception("regrade item %s failed", item_id)
        services.fail_item(item, owner, f"Regrading failed: {exc}")
