"""Stop, end to end with the real Celery worker, gateway and emulator: a learner's endless script that keeps
writing to their bucket is stopped the way the lab page's Stop button does it; within about two seconds the
run says "stopped by you" and the writes through the gateway have ceased, so nothing of it still runs on
the worker."""

import time
import uuid

import pytest

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]

ENDLESS = """
import boto3

s3 = boto3.client("s3")
n = 0
while True:
    s3.put_object(Bucket="{bucket}", Key="tick", Body=str(n).encode())
    n += 1
"""


def wait_for(condition, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def test_stop_ends_an_endless_script_on_the_worker_within_two_seconds(lab_stack):
    from labapp.runner import services
    from labapp.runner.models import Run
    from tests.sandbox.helpers import make_sandbox

    box = make_sandbox(lab_stack.url)
    s3 = box.client("s3")
    bucket = f"stop-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)

    def tick() -> int | None:
        try:
            return int(s3.get_object(Bucket=bucket, Key="tick")["Body"].read())
        except s3.exceptions.NoSuchKey:
            return None

    run = services.submit(box.session, "script", ENDLESS.format(bucket=bucket))
    wait_for(lambda: (tick() or 0) > 3, "the script to be writing through the gateway", 60)
    run.refresh_from_db()
    assert run.status == Run.Status.RUNNING

    pressed = time.monotonic()
    services.request_stop(run)  # what POST /runs/<id>/stop/ does
    wait_for(lambda: Run.objects.get(pk=run.pk).is_finished, "the run to end", 10)
    took = time.monotonic() - pressed
    run.refresh_from_db()
    assert took < 2.0, f"Stop took {took:.1f} s"
    assert run.status == Run.Status.DONE and run.limit == "stopped" and run.message == "stopped by you"

    # Nothing of the script is left on the worker: its writes have stopped for good.
    before = tick()
    time.sleep(1.5)
    assert tick() == before

    # Pressing Stop again, now that it has ended, changes nothing.
    services.request_stop(run)
    assert Run.objects.get(pk=run.pk).message == "stopped by you"
