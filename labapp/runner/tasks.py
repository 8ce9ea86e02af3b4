"""Celery tasks of the runner. The broker carries run ids only; the Run row is the source of truth."""

from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=10,
             soft_time_limit=services.DEADLINE.total_seconds() + 30, time_limit=services.DEADLINE.total_seconds() + 40)
def execute_run(self, run_id: str) -> str:
    owner = services.worker_id()
    run, state = services.claim(run_id, owner)
    if run is None:
        if state == "running":
            # Another delivery is (or was) running it; check again once its deadline could have passed.
            raise self.retry(countdown=services.DEADLINE.total_seconds())
        return state
    services.execute(run, owner)
    return "done"


@shared_task
def reap_stale_runs() -> dict:
    return services.reap_stale_runs()


def warm_pool_on_worker_start(**_):
    """Fill this worker process's pool at start, so the first learner command is fast too."""
    from .pool import default_pool

    try:
        default_pool()
    except Exception:  # noqa: BLE001 - reported on first use instead
        pass


try:  # connect only inside Celery workers
    from celery.signals import worker_process_init

    worker_process_init.connect(warm_pool_on_worker_start, weak=False)
except ImportError:  # pragma: no cover
    pass
