"""The instructor's gradebook for a class of 200 learners by 40 assignments (30 labs, 10 module quizzes),
in a throwaway SQLite database: server time to render the page (through Django's whole request path,
middleware and template included; wall time, and CPU time, which other processes on a busy machine do not
inflate; SQLite runs in this process, so its work is counted) and the number of SQL queries, then the same
for the CSV export and a lab's insight page.

Most learners have started most labs, with checks, about two thirds have submitted, some late, some
with extensions; most have quiz attempts. Target: median under 300 ms (p95 printed too), queries
independent of class size.
"""

from __future__ import annotations

import os
import random
import sys
import time
import uuid
from datetime import timedelta

from _sandbox_bench import percentiles, setup_database

LEARNERS = int(os.environ.get("BENCH_LEARNERS", "200"))
LABS, QUIZZES = 30, 10
N = int(os.environ.get("BENCH_N", "20"))


def build():
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from labapp.classroom import services
    from labapp.classroom.models import Assignment, Extension, Membership, Submission
    from labapp.courses.models import Course, Lab, Module
    from labapp.labs.models import Attempt, LabSession, TaskResult
    from labapp.quizzes.models import Question, QuizAttempt

    rng = random.Random(5)
    now = timezone.now()
    User = get_user_model()
    teacher = User.objects.create_user("bench-teacher", password="x", is_staff=True)
    course = Course.objects.create(uuid=uuid.uuid4(), slug="bench", title="Bench", summary="")
    modules = [Module.objects.create(uuid=uuid.uuid4(), course=course, slug=f"m{i}", title=f"Module {i}", order=i)
               for i in range(QUIZZES)]
    tasks = [{"id": f"t{k}", "title": f"Task {k}", "points": 2, "hint": "", "checks": []} for k in range(4)]
    labs = [Lab.objects.create(uuid=uuid.uuid4(), module=modules[i % QUIZZES], slug=f"lab-{i}", title=f"Lab {i}",
                               definition={"tasks": tasks}, source_path="x") for i in range(LABS)]
    Question.objects.bulk_create(
        Question(uuid=uuid.uuid4(), module=m, type="single", answers=1, prompt_html="q", choices=[],
                 explanation_html="e", order=k) for m in modules for k in range(10))
    classroom = services.create_classroom(teacher, "Bench class")
    # A course of about eight weeks: assignments open in weekly batches and are due days later.
    assignments = [Assignment(classroom=classroom, kind="lab", lab=lab, opens_at=now - timedelta(days=60 - 7 * (i // 4)),
                              due_at=now + timedelta(days=i - 15)) for i, lab in enumerate(labs)]
    assignments += [Assignment(classroom=classroom, kind="quiz", module=m, opens_at=now - timedelta(days=60 - 7 * i),
                               due_at=now + timedelta(days=i - 5)) for i, m in enumerate(modules)]
    assignments = Assignment.objects.bulk_create(assignments)
    users = User.objects.bulk_create(User(username=f"learner{i:03d}", email=f"l{i}@example.org",
                                          first_name=f"Learner {i}", password="!") for i in range(LEARNERS))
    Membership.objects.bulk_create(Membership(classroom=classroom, user=u) for u in users)
    sessions = []
    for u in users:
        for lab in labs:
            if rng.random() < 0.85:
                n = len(sessions)
                sessions.append(LabSession(user=u, lab=lab, status="ended", account_id=f"{300000000000 + n}",
                                           access_key_id=f"LKIABENCH{n:09d}", secret_access_key="s" * 40,
                                           region="us-east-1", expires_at=now))
    sessions = LabSession.objects.bulk_create(sessions, batch_size=2000)
    attempts = []
    for s in sessions:
        for kind in ("check", "check", "submit") if rng.random() < 0.7 else ("check",):
            score = rng.randint(0, 4) * 2
            attempts.append(Attempt(session=s, kind=kind, status="graded", score=score, max_score=8,
                                    graded_at=now, results=[{"id": t["id"], "title": t["title"], "points": 2,
                                                             "max_points": 2, "passed": True, "feedback": ""}
                                                            for t in tasks]))
    attempts = Attempt.objects.bulk_create(attempts, batch_size=2000)
    TaskResult.objects.bulk_create(
        (TaskResult(attempt=a, task_id=t["id"], points=2, max_points=2, passed=rng.random() < 0.6,
                    feedback="" if rng.random() < 0.5 else f"Feedback {rng.randint(0, 5)}")
         for a in attempts for t in tasks), batch_size=5000)
    by_lab = {a.lab_id: a for a in assignments if a.kind == "lab"}
    Submission.objects.bulk_create(
        (Submission(assignment=by_lab[a.session.lab_id], learner_id=a.session.user_id, session=a.session, attempt=a,
                    submitted_at=now, started_at=now - timedelta(minutes=rng.randint(5, 90)),
                    due_at=by_lab[a.session.lab_id].due_at, late=rng.random() < 0.1)
         for a in attempts if a.kind == "submit"), batch_size=2000)
    QuizAttempt.objects.bulk_create(
        (QuizAttempt(user=u, module=m, correct=rng.randint(0, 10), total=10, finished_at=now)
         for u in users for m in modules for _ in range(rng.randint(0, 2))), batch_size=5000)
    Extension.objects.bulk_create(Extension(assignment=rng.choice(assignments), learner=u,
                                            due_at=now + timedelta(days=40)) for u in users[::7])
    return teacher, classroom


def measure(client, url, n):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: templates compiled, the session loaded once
    wall, cpu = [], []
    for _ in range(n):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return percentiles(wall), percentiles(cpu), len(queries), len(response.content)


def main():
    setup_database()
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()  # lets CaptureQueriesContext record queries, as in the tests
    started = time.perf_counter()
    teacher, classroom = build()
    print(f"built {LEARNERS} learners x {LABS + QUIZZES} assignments in {time.perf_counter() - started:.1f}s")
    client = Client()
    client.force_login(teacher)
    failed = False
    for name, url in [("gradebook page", reverse("classroom:gradebook", args=[classroom.pk])),
                      ("gradebook sorted by average", reverse("classroom:gradebook", args=[classroom.pk])
                       + "?sort=average&dir=desc"),
                      ("CSV export with per-task detail", reverse("classroom:gradebook-csv", args=[classroom.pk])
                       + "?tasks=1"),
                      ("a lab's insight and charts", reverse("classroom:assignment", args=[
                          classroom.pk, classroom.assignments.filter(kind="lab").first().pk]))]:
        (median, p95), (cpu_median, cpu_p95), queries, size = measure(client, url, N)
        print(f"{name:<32} median {median:6.1f} ms   p95 {p95:6.1f} ms   (CPU {cpu_median:5.1f} / {cpu_p95:5.1f} ms)"
              f"   {queries} queries   {size / 1000:.0f} kB")
        # The budget is judged on the median: on a shared machine (the tests of others running beside
        # it) single requests are slowed by other processes, and p95 mostly measures them; both are printed.
        if name == "gradebook page" and median >= 300:
            failed = True
    if failed:
        sys.exit("the gradebook page is over its 300 ms budget (median)")


if __name__ == "__main__":
    main()
