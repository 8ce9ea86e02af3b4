"""Keeping a job's lease while the job runs.

A worker claims a job (provisioning, grading, a regrade item) with a conditional UPDATE that sets
`lease_owner` and `lease_until`; another worker may take the job over once the lease has run out, which
is how a job whose worker died is recovered. A lease that is never renewed would also let a slow but
healthy job be taken over and run twice (a provisioning taken over resets the account under the setup
still running). So while a worker runs a job, a thread renews its lease every third of the lease time;
a worker that dies stops renewing, and recovery still takes at most one lease.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import timedelta

from django.db import connection
from django.utils import timezone

log = logging.getLogger(__name__)


@contextlib.contextmanager
def lease_kept(model, pk, owner: str, lease: timedelta):
    """Renew `model` row `pk`'s lease while the block runs, as long as `owner` still holds it. A lease lost
    meanwhile (taken over) is not fought for: the job's result is then not stored, since storing is
    conditional on `lease_owner` too."""
    stop = threading.Event()

    def renew() -> None:
        try:
            while not stop.wait(lease.total_seconds() / 3):
                renewed = model.objects.filter(pk=pk, lease_owner=owner).update(lease_until=timezone.now() + lease)
                if not renewed:
                    log.warning("%s %s: lease lost to another worker", model.__name__, pk)
                    return
        except Exception:  # the database is briefly unavailable: the lease may lapse, nothing worse
            log.warning("%s %s: could not renew the lease", model.__name__, pk, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=renew, name=f"lease-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
