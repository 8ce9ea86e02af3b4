"""Grading survives dead workers and duplicate deliveries, and stores each result exactly once.

These kill real Celery worker processes with SIGKILL while they grade (a check kind that sleeps, from
tests/support/slow_checks.py, keeps the grade in flight long enough)."""

import time

import pytest
from django.contrib.auth import get_user_model

from labapp.courses.models import Lab, Module
from labapp.labs import services
from labapp.labs.models import Attempt, LabSession, TaskResult
from labapp.labs.tasks import grade_attempt

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]

SLOW_LAB = {
    "parameters": {},
    "setup": [],
    "resources": [],
    "solution": [],
    "tasks": [
        {"id": "slow", "title": "A slow check", "points": 3, "hint": "", "checks": [{"kind": "test.sleep", "seconds": 2}]},
        {"id": "quick", "title": "A quick check", "points": 1, "hint": "", "checks": [{"kind": "test.sleep", "seconds": 0}]},
    ],
}


@pytest.fixture
def slow_session(lab_stack):
    lab = Lab.objects.create(
        uuid="00000000-0000-4000-8000-00000000510e",
        module=Module.objects.first(),
        slug="slow-lab",
        title="Slow lab",
        definition=SLOW_LAB,
        source_path="tests",
    )
    user = get_user_model().objects.create_user("bob", password="a-long-password")
    session = services.start_session(user, lab)
    wait_for(lambda: reload(session).status == LabSession.Status.READY, "provisioning", 20)
    return session


def reload(obj):
    obj.refresh_from_db()
    return obj


def wait_for(condition, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def assert_stored_once(attempt: Attempt):
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.GRADED
    assert attempt.score == 4 and attempt.max_score == 4
    assert TaskResult.objects.filter(attempt=attempt).count() == 2


@pytest.fixture(autouse=True)
def slow_checks_in_worker(lab_stack):
    # The worker must know the test-only check kind; it imports it from LAB_EXTRA_CHECK_MODULES.
    assert "tests.support.slow_checks" in lab_stack.worker.env.get("LAB_EXTRA_CHECK_MODULES", "")
    import tests.support.slow_checks  # noqa: F401  (and this process, for the loader's validation)


def test_whole_worker_killed_mid_grade_the_attempt_is_graded_once_by_the_next_worker(lab_stack, slow_session):
    attempt = services.request_check(slow_session)
    wait_for(lambda: reload(attempt).status == Attempt.Status.RUNNING, "a worker to claim the attempt", 20)
    lab_stack.worker.kill()
    assert reload(attempt).status == Attempt.Status.RUNNING  # nobody finished it
    lab_stack.worker.start()
    # The new worker's reaper sees the expired lease and grades it again.
    wait_for(lambda: reload(attempt).is_done, "the attempt to be graded after the kill", 45)
    assert_stored_once(attempt)
    assert attempt.tries == 2


def test_pool_child_killed_mid_grade_the_attempt_is_graded_once(lab_stack, slow_session):
    import os
    import signal

    attempt = services.request_check(slow_session)
    wait_for(lambda: reload(attempt).status == Attempt.Status.RUNNING, "a worker to claim the attempt", 20)
    owner_pid = int(reload(attempt).lease_owner.rsplit(":", 1)[1])
    assert owner_pid in lab_stack.worker.pool_children()
    os.kill(owner_pid, signal.SIGKILL)
    wait_for(lambda: reload(attempt).is_done, "the attempt to be graded after the kill", 45)
    assert_stored_once(attempt)
    assert attempt.tries >= 2


def test_duplicate_deliveries_store_one_result(lab_stack, slow_session):
    attempt = services.request_check(slow_session)
    for _ in range(3):
        grade_attempt.delay(attempt.pk)  # the same job delivered three more times
    wait_for(lambda: reload(attempt).is_done, "the attempt to be graded", 30)
    time.sleep(3)  # let the duplicates run (they must find nothing to do)
    assert_stored_once(attempt)
    assert attempt.tries == 1


def test_a_second_check_while_one_is_pending_returns_the_pending_one(lab_stack, slow_session):
    first = services.request_check(slow_session)
    assert services.request_check(slow_session).pk == first.pk
    wait_for(lambda: reload(first).is_done, "the attempt to be graded", 30)
    assert services.request_check(slow_session).pk != first.pk


def make_lab(slug: str, tasks: list[dict]) -> Lab:
    return Lab.objects.create(
        uuid=f"00000000-0000-4000-8000-{abs(hash(slug)) % 10**12:012d}",
        module=Module.objects.first(),
        slug=slug,
        title=slug,
        definition={**SLOW_LAB, "tasks": tasks},
        source_path="tests",
    )


def ready_session(lab: Lab, username: str) -> LabSession:
    user = get_user_model().objects.create_user(username, password="a-long-password")
    session = services.start_session(user, lab)
    wait_for(lambda: reload(session).status == LabSession.Status.READY, "provisioning", 20)
    return session


def test_a_grade_slower_than_the_lease_is_not_taken_over(lab_stack):
    """The test worker's lease is 4 s; a 10 s grade keeps it by renewing it, so it runs once."""
    lab = make_lab("slower-than-lease", [
        {"id": "slow", "title": "Slow", "points": 2, "hint": "", "checks": [{"kind": "test.sleep", "seconds": 10}]},
    ])
    attempt = services.request_check(ready_session(lab, "carol"))
    wait_for(lambda: reload(attempt).is_done, "the slow attempt to be graded", 60)
    assert attempt.status == Attempt.Status.GRADED and attempt.score == 2
    assert attempt.tries == 1  # claimed once: never taken over while it ran


def test_an_outage_during_grading_is_retried_not_stored_as_a_score(lab_stack, tmp_path):
    marker = tmp_path / "outage"
    lab = make_lab("outage-once", [
        {"id": "a", "title": "A", "points": 3, "hint": "", "checks": [{"kind": "test.outage_once", "marker": str(marker)}]},
    ])
    attempt = services.request_check(ready_session(lab, "dave"))
    wait_for(lambda: reload(attempt).is_done, "the attempt to be graded after the outage", 60)
    assert marker.exists()  # the first grading did meet the outage
    assert attempt.status == Attempt.Status.GRADED
    assert attempt.score == 3 and attempt.tries == 2  # the second try stored the real result
    assert "could not check" not in str(attempt.results)
