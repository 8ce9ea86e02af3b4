"""The console's first commands of a lab session against its later ones, through the real Celery worker,
gateway and emulator, as the lab page runs them (issue 9: "the first commands of a session as fast as later
ones", seen 2.6 s against 0.3-0.7 s warm).

For each of N fresh sessions of a lab: start it, wait until ready, then type the same commands a learner
would, THINK seconds apart (a learner reads between commands, so the pool refills). Each figure is
"Run row created -> output stored", split into the wait for a worker (queue) and the sandbox's own time
(run); the page's poll adds up to 300 ms on top of either. Prints median and p95 for command 1, command 2
and commands 3+, side by side.

    .venv/bin/python bench/console_first_command.py          # BENCH_SESSIONS=8 BENCH_THINK=1.5
    CELERY_BROKER_URL=filesystem:// BENCH_BUSY=1 .venv/bin/python bench/console_first_command.py

What it found (2-core VM): with Redis, command 1 = later ones (~0.1 s), even with another learner busy.
With the embedded broker (no Redis, what `make run` falls back to) every run waited for Kombu's once-a-second
poll of its folder: command 1 p50/p95 566/1554 ms and commands 3+ 1488/1615 ms while another learner was
busy, the review's 1.4-2.6 s. Polled every 50 ms (labapp/broker.py makes that safe): 130/150 and 134/202 ms.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from _sandbox_bench import REPO, percentiles, setup_database
from _sandbox_bench import wait as _wait

SESSIONS = int(os.environ.get("BENCH_SESSIONS", "8"))
THINK = float(os.environ.get("BENCH_THINK", "1.5"))
SETTLE = float(os.environ.get("BENCH_SETTLE", "5"))  # seconds between the worker's start and the first session
# BENCH_BUSY=1: another learner starts labs and checks progress all along (the review saw its slow first
# commands "while other work was running").
BUSY = os.environ.get("BENCH_BUSY", "") == "1"
LAB = os.environ.get("BENCH_LAB", "iam-users-groups")
COMMANDS = ["aws iam list-users", "aws iam list-groups", "aws sts get-caller-identity", "aws iam list-users",
            "aws s3 ls"]


def wait(obj, done):
    _wait(obj, done, timeout=60.0, poll=0.005)


def main():
    run_dir, db_env = setup_database()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from labapp.courses.loader import load_courses
    from labapp.courses.models import Lab
    from labapp.labs import services
    from labapp.labs.management.commands.runlab import choose_broker
    from labapp.labs.models import LabSession
    from labapp.runner import services as runner
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
    worker_env = {**stack.env, "CELERY_BROKER_URL": broker_url, "LAB_CELERY_QUEUE": queue,
                  "LAB_RUNNER_GATEWAY_HOST": "127.0.0.1", "LAB_RUNNER_GATEWAY_PORT": str(stack.port)}
    worker = LabWorker(worker_env, run_dir).start()
    time.sleep(SETTLE)  # the worker's pools fill (as they would long before a learner arrives)
    rows = {"total": {}, "queue": {}, "run": {}}
    busy = threading.Event()
    try:
        user = get_user_model().objects.create_user("bench-console")
        lab = Lab.objects.get(slug=LAB)
        if BUSY:
            other = get_user_model().objects.create_user("bench-other")
            threading.Thread(target=other_learner, args=(other, lab, busy, wait), daemon=True).start()
        for _ in range(SESSIONS):
            session = services.start_session(user, lab)
            wait(session, lambda s: s.status != LabSession.Status.PROVISIONING)
            assert session.status == LabSession.Status.READY, session.error
            time.sleep(THINK)  # the learner reads the page
            for n, command in enumerate(COMMANDS, start=1):
                t0 = time.perf_counter()
                run = runner.submit(session, "cli", command)
                wait(run, lambda r: r.is_finished)
                total = (time.perf_counter() - t0) * 1000
                assert run.status == "done" and run.exit_code == 0, (run.stderr, run.message)
                key = str(n) if n <= 2 else "3+"
                rows["total"].setdefault(key, []).append(total)
                rows["queue"].setdefault(key, []).append((run.started_at - run.created_at).total_seconds() * 1000)
                rows["run"].setdefault(key, []).append(run.duration_ms)
                time.sleep(THINK)
            services.end_session(session)
    finally:
        busy.set()
        worker.stop()
        stack.stop()

    print(f"lab {LAB}, {SESSIONS} sessions, {THINK:g} s between commands"
          f"{', another learner starting labs and checking all along' if BUSY else ''}; ms (median / p95)")
    print(f"{'':<26}{'command 1':>18}{'command 2':>18}{'commands 3+':>18}")
    for name, label in (("total", "created -> stored"), ("queue", "  waiting for a worker"),
                        ("run", "  in the sandbox")):
        cells = []
        for key in ("1", "2", "3+"):
            p50, p95 = percentiles(rows[name][key])
            cells.append(f"{p50:7.0f} / {p95:6.0f}")
        print(f"{label:<26}" + "".join(f"{c:>18}" for c in cells))
    first50, first95 = percentiles(rows["total"]["1"])
    later50, _ = percentiles(rows["total"]["3+"])
    ok = first50 <= 1.5 * later50 and first95 < 1000
    print(f"target (command 1 p50 within 1.5x of commands 3+, p95 under 1 s): {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


def other_learner(user, lab, stop, wait):
    """Start a session, check progress twice, end it; again and again until told to stop."""
    from django.db import connection

    from labapp.labs import services
    from labapp.labs.models import LabSession

    try:
        while not stop.is_set():
            session = services.start_session(user, lab)
            wait(session, lambda s: s.status != LabSession.Status.PROVISIONING)
            for _ in range(2):
                attempt = services.request_check(session)
                wait(attempt, lambda a: a.is_done)
            services.end_session(session)
    finally:
        connection.close()


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
