"""A run interrupted by a dead worker is reported as an infrastructure failure and is not run twice.

With the real Celery worker of the test stack: a learner's script that writes a marker object through
the gateway and then takes a while is submitted like the browser's script runner does; the whole worker
is SIGKILLed mid-run; a new worker gets the run's message again (as the broker redelivers an unacked
message); the run ends `failed_infra` with the learner-facing message, and the marker exists once."""

import time
import uuid

import psutil
import pytest

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]

SCRIPT = """
import time, uuid
import boto3

s3 = boto3.client("s3")
s3.put_object(Bucket="{bucket}", Key=f"ran-{{uuid.uuid4().hex}}", Body=b"side effect")
print("marker written", flush=True)
time.sleep(12)
print("finished")
"""


def wait_for(condition, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def sandbox_processes(root_pid: int) -> list[psutil.Process]:
    """The runner sandboxes (bwrap and the Python inside) under a worker process."""
    found = []
    for proc in psutil.Process(root_pid).children(recursive=True):
        try:
            if any("entry.py" in part or part == "bwrap" for part in proc.cmdline()):
                found.append(proc)
        except psutil.NoSuchProcess:
            pass
    return found


def test_a_run_whose_worker_is_killed_fails_as_infrastructure_and_is_not_run_again(lab_stack):
    from labapp.runner import services
    from labapp.runner.models import Run
    from labapp.runner.tasks import execute_run
    from tests.sandbox.helpers import make_sandbox

    box = make_sandbox(lab_stack.url)
    s3 = box.client("s3")
    bucket = f"killed-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)

    def markers() -> list[str]:
        return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]

    run = services.submit(box.session, "script", SCRIPT.format(bucket=bucket))
    wait_for(markers, "the run to write its marker through the gateway", 60)
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING, run.status
    claimed_by = int(run.worker.rsplit(":", 1)[1])
    assert claimed_by in lab_stack.worker.pool_children()
    sandboxes = sandbox_processes(lab_stack.worker.process.pid)
    assert sandboxes, "the run's sandbox is not under the worker"

    lab_stack.worker.kill()  # SIGKILL to the whole worker, pool children included, mid-run
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING  # nobody finished it
    # The sandboxes died with their worker (bwrap --die-with-parent): nothing is left running the script.
    gone, alive = psutil.wait_procs(sandboxes, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], alive

    lab_stack.worker.start()
    # The broker delivers the unacked message again (Redis does after its visibility timeout; sent here at
    # once). The new worker finds the run claimed by a dead process and fails it instead of running it.
    execute_run.delay(str(run.pk))
    wait_for(lambda: Run.objects.get(pk=run.pk).is_finished, "the run to be marked failed", 30)
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED_INFRA
    assert run.message == services.INFRA_MESSAGE
    assert "not run again" in run.message and "try again" in run.message
    assert run.exit_code is None and "finished" not in run.stdout

    # Even a further duplicate delivery and the reaper leave it alone; the side effect happened once.
    execute_run.delay(str(run.pk))
    services.reap_stale_runs()
    time.sleep(3)
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED_INFRA
    assert len(markers()) == 1
