"""The lab loop as a learner feels it, through the real worker, gateway and emulator:

- start → ready: "Start lab" (session row + Celery message) until the worker has reset the account,
  run the lab's setup through the gateway and marked the session ready;
- check → stored: "Check my progress" until the worker has run every check and stored the result.

Prints median and p95 per lab. Targets (2-core machine): both p50 under 150 ms.
Uses Redis at REDIS_URL when one answers (as `make run` does), else the embedded broker.
"""

from __future__ import annotations

import os
import sys
import time

from _sandbox_bench import REPO, percentiles, setup_database
from _sandbox_bench import wait as _wait

N = int(os.environ.get("BENCH_N", "30"))
LABS = ["iam-users-groups", "s3-versioning", "ec2-security-group"]


def wait(obj, done):
    _wait(obj, done, timeout=30.0, poll=0.002)


def main():
    run_dir, db_env = setup_database()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from labapp.courses.loader import load_courses
    from labapp.courses.models import Lab
    from labapp.labs import services
    from labapp.labs.management.commands.runlab import choose_broker
    from labapp.labs.models import LabSession
    from tests.lab_stack import LabWorker
    from tests.stack import SandboxStack

    broker_url, broker_note = choose_broker()
    print(broker_note)
    load_courses()
    stack = SandboxStack(run_dir / "stack", db_env, {"LAB_INTERNAL_TOKEN": settings.LAB_INTERNAL_TOKEN}).start()
    settings.LAB_GATEWAY_URL = stack.url
    settings.LAB_EMULATOR_SOCKET = stack.socket_path
    queue = f"bench-{os.getpid()}"
    from labapp.celery import app

    app.conf.broker_url = broker_url
    app.conf.task_default_queue = queue
    worker = LabWorker({**stack.env, "CELERY_BROKER_URL": broker_url, "LAB_CELERY_QUEUE": queue}, run_dir).start()
    try:
        user = get_user_model().objects.create_user("bench")
        print(f"{'':<22} {'start → ready':>22} {'check → stored':>22}   (ms, N={N} each)")
        print(f"{'lab':<22} {'p50':>10} {'p95':>11} {'p50':>10} {'p95':>11}")
        for slug in LABS:
            lab = Lab.objects.get(slug=slug)
            start_ms, check_ms = [], []
            for i in range(N + 2):  # the first two warm up the worker's imports and clients
                t0 = time.perf_counter()
                session = services.start_session(user, lab)
                wait(session, lambda s: s.status != LabSession.Status.PROVISIONING)
                t1 = time.perf_counter()
                assert session.status == LabSession.Status.READY, session.error
                attempt = services.request_check(session)
                wait(attempt, lambda a: a.is_done)
                t2 = time.perf_counter()
                assert attempt.status == "graded", attempt.error
                services.end_session(session)
                if i >= 2:
                    start_ms.append((t1 - t0) * 1000)
                    check_ms.append((t2 - t1) * 1000)
            (s50, s95), (c50, c95) = percentiles(start_ms), percentiles(check_ms)
            print(f"{slug:<22} {s50:>10.1f} {s95:>11.1f} {c50:>10.1f} {c95:>11.1f}")
    finally:
        worker.stop()
        stack.stop()


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
