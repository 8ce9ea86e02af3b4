"""Run bookkeeping: a run is claimed once; a run interrupted by a dead worker is reported as an
infrastructure failure and never run twice. Needs labapp.runner in INSTALLED_APPS (or
--ds=tests.runner.settings_with_runner)."""

import socket
import subprocess
import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from labapp.runner.sandbox import Outcome

pytestmark = [
    pytest.mark.skipif(not apps.is_installed("labapp.runner"), reason="labapp.runner is not in INSTALLED_APPS"),
    pytest.mark.django_db,
]


class CountingPool:
    def __init__(self):
        self.jobs = []

    def run(self, job, limits, should_stop=None):
        self.jobs.append(job)
        return Outcome(stdout=b"2024-01-01 bucket\n", stderr=b"", exit_code=0, duration_ms=12.0)


@pytest.fixture
def session():
    from django.contrib.auth import get_user_model

    from labapp.courses.models import Course, Lab, Module
    from labapp.labs.models import LabSession

    course = Course.objects.create(slug="runner-tests", uuid=uuid.uuid4(), title="T")
    module = Module.objects.create(course=course, slug="m", uuid=uuid.uuid4(), title="M")
    lab = Lab.objects.create(slug="runner-lab", uuid=uuid.uuid4(), module=module, title="L",
                             definition={"tasks": []}, source_path="-")
    user = get_user_model().objects.create(username=f"learner-{uuid.uuid4().hex[:8]}")
    return LabSession.objects.create(user=user, lab=lab, status="ready", account_id="123456789012",
                                     access_key_id="AKIDRUNNERRUNS000001", secret_access_key="s",
                                     region="us-east-1", expires_at=timezone.now() + timedelta(hours=1))


def queued(session, kind="cli", source="aws s3 ls"):
    from labapp.runner.models import Run

    return Run.objects.create(session=session, kind=kind, source=source)


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_run_is_claimed_once_and_its_output_stored(session):
    from labapp.runner import services
    from labapp.runner.models import Run

    run = queued(session)
    pool = CountingPool()
    owner = f"{socket.gethostname()}:1"  # a live process: the claim must not be taken over
    claimed, state = services.claim(run.pk, owner)
    assert state == "claimed"
    assert services.claim(run.pk, "other-host:42") == (None, "running")
    done = services.execute(claimed, owner, pool=pool)
    assert done.status == Run.Status.DONE and done.stdout == "2024-01-01 bucket\n" and done.exit_code == 0
    assert len(pool.jobs) == 1 and pool.jobs[0]["argv"] == ["aws", "s3", "ls"]
    assert services.claim(run.pk, owner) == (None, "finished")


def test_a_redelivered_run_whose_worker_died_is_failed_not_rerun(session):
    from labapp.runner import services
    from labapp.runner.models import Run

    run = queued(session, "script", "print('side effect')")
    dead = f"{socket.gethostname()}:{dead_pid()}"
    claimed, _ = services.claim(run.pk, dead)  # the first worker took it ... and died mid-run
    pool = CountingPool()
    again, state = services.claim(run.pk, services.worker_id())  # the broker delivers it again
    assert (again, state) == (None, "failed_infra")
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED_INFRA and "not run again" in run.message
    assert pool.jobs == []
    # The dead worker's late result (if it ever came) is not stored over the failure.
    assert services.store(claimed, dead, services.RunResult("x", "", 0, 1.0)) is False


def test_a_run_from_another_machine_fails_once_its_deadline_passed(session):
    from labapp.runner import services
    from labapp.runner.models import Run

    run = queued(session)
    services.claim(run.pk, "elsewhere:123")
    assert services.claim(run.pk, services.worker_id()) == (None, "running")
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - services.DEADLINE - timedelta(seconds=1))
    assert services.claim(run.pk, services.worker_id()) == (None, "failed_infra")


def test_the_reaper_fails_stuck_runs(session):
    from labapp.runner import services
    from labapp.runner.models import Run

    run = queued(session)
    services.claim(run.pk, "elsewhere:1")
    Run.objects.filter(pk=run.pk).update(started_at=timezone.now() - services.DEADLINE - timedelta(seconds=1))
    assert services.reap_stale_runs()["stuck"] == 1
    run.refresh_from_db()
    assert run.status == Run.Status.FAILED_INFRA


def test_an_unusable_sandbox_is_an_infrastructure_failure(session):
    from labapp.runner import services
    from labapp.runner.models import Run
    from labapp.runner.sandbox import RunnerUnavailable

    class BrokenPool:
        def run(self, job, limits, should_stop=None):
            raise RunnerUnavailable("bwrap is not installed")

    run = services.run_now(session, "cli", "aws s3 ls", pool=BrokenPool())
    assert run.status == Run.Status.FAILED_INFRA and "bwrap" in run.message


def test_refusals_are_stored_as_done_with_the_message(session):
    from labapp.runner import services

    run = services.run_now(session, "cli", "ls /", pool=CountingPool())
    assert run.status == "done" and run.refused and run.exit_code == 2 and "Only aws commands" in run.message


def test_submit_needs_a_ready_session_and_scripts_are_saved_per_session(session):
    from labapp.runner import services

    session.status = "ended"
    session.save()
    with pytest.raises(services.RunnerError):
        services.submit(session, "cli", "aws s3 ls")
    assert services.load_script(session) == ""
    services.save_script(session, "import boto3\n")
    services.save_script(session, "import boto3\nprint(1)\n")
    assert services.load_script(session) == "import boto3\nprint(1)\n"
