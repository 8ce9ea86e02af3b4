"""A walk through the main pages a learner and an instructor see, on the real stack with the real courses.

Both the accessibility test (axe-core) and the page-width test (390 px phone) take the same walk:

    for name, page in tour(new_page, live_server.url, viewport=...):
        ...audit `page`, which shows the page called `name`...

The walk builds its state the way people do, through the services layer: a learner answers quiz
questions, takes the practice exam, starts the s3-versioning lab, passes a task and submits the lab to an
assignment; the instructor's class, gradebook, insight, drill-down and regrade pages then have real rows.
Each page is yielded once it has loaded and htmx has finished its first requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from labapp.classroom import services as classroom
from labapp.classroom.models import RegradeItem
from labapp.courses.models import Course, Lab, Lesson
from labapp.labs import services as labs
from labapp.labs.models import Attempt, LabSession
from labapp.quizzes import services as quizzes
from labapp.quizzes.choice_order import token

LAB_SLUG = "s3-versioning"  # its first task passes with one boto3 call (see tests/web/test_browser.py)


def widest_lesson() -> Lesson:
    """The lesson with both a table and the longest line of code: the hardest to fit on a phone."""
    def longest_code_line(markdown: str) -> int:
        longest, in_code = 0, False
        for line in markdown.splitlines():
            if line.lstrip().startswith("```"):
                in_code = not in_code
            elif in_code:
                longest = max(longest, len(line))
        return longest

    with_tables = [lesson for lesson in Lesson.objects.select_related("module__course") if "<table" in lesson.body_html]
    return max(with_tables, key=lambda lesson: longest_code_line(lesson.body_markdown))


def wait_until(predicate: Callable[[], object], what: str, timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
    return result


def settle(page) -> None:
    """Wait for the load event and for htmx's first requests (panels that load themselves) to finish."""
    page.wait_for_load_state("load")
    deadline = time.monotonic() + 10
    time.sleep(0.3)
    while page.evaluate("document.querySelector('.htmx-request') !== null") and time.monotonic() < deadline:
        time.sleep(0.2)


def signed_in_page(new_page, base: str, user, **context_options):
    """A browser page signed in as `user` (a session cookie from Django's test client: no login form)."""
    client = Client()
    client.force_login(user)
    page = new_page(**context_options)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                               "value": client.cookies[settings.SESSION_COOKIE_NAME].value, "url": base}])
    return page


def tour(new_page, base: str, **context_options) -> Iterator[tuple[str, object]]:
    users = get_user_model()
    learner = users.objects.create_user("lena", "lena@example.org", "a perfectly long passphrase")
    teacher = users.objects.create_user("irene", "irene@example.org", "teach aws for a living", is_staff=True)
    course = Course.objects.get(slug="aws-developer")
    lab = Lab.objects.select_related("module").get(slug=LAB_SLUG)
    lesson = widest_lesson()
    module = lesson.module

    def visit(page, path: str, shows: str | None = None):
        page.goto(base + path)
        settle(page)
        if shows:  # the page is in the state its name says
            page.wait_for_selector(shows, state="attached", timeout=10_000)
        return page

    # Signed out.
    visitor = new_page(**context_options)
    yield "home (signed out)", visit(visitor, reverse("home"))
    yield "sign up", visit(visitor, reverse("signup"))
    yield "sign in", visit(visitor, reverse("login"))
    lesson_path = reverse("lesson", args=[lesson.module.course.slug, module.slug, lesson.slug])
    yield "lesson (signed out)", visit(visitor, lesson_path)

    # A learner in a class with a lab assignment and a quiz assignment.
    now = timezone.now()
    cohort = classroom.create_classroom(teacher, "Accessibility cohort")
    classroom.join_by_code(learner, cohort.join_code)
    assignment = classroom.create_assignment(cohort, lab=lab, opens_at=now - timedelta(hours=1),
                                             due_at=now + timedelta(days=7))
    classroom.create_assignment(cohort, module=module, opens_at=now - timedelta(hours=1),
                                due_at=now + timedelta(days=7))
    me = signed_in_page(new_page, base, learner, **context_options)
    yield "home (signed in)", visit(me, reverse("home"))
    yield "course", visit(me, reverse("course", args=[course.slug]))
    yield "module", visit(me, reverse("module", args=[course.slug, module.slug]))
    yield f"lesson ({lesson.slug}: tables and long code)", visit(me, lesson_path)
    yield "lab catalogue", visit(me, reverse("lab-catalogue"))
    yield "lab page (before start)", visit(me, reverse("lab", args=[lab.slug]))

    # The module quiz with one right and one wrong answer, so both verdicts show.
    questions = quizzes.module_questions(module)[:2]
    right, wrong = questions
    quizzes.answer_quiz(learner, module, right, [token(right, cid) for cid in right.correct_ids])
    wrong_id = next(choice["id"] for choice in wrong.choice_rows if not choice["correct"])
    quizzes.answer_quiz(learner, module, wrong, [token(wrong, wrong_id)])
    yield "module quiz (two answers)", visit(me, reverse("quiz", args=[course.slug, module.slug]))

    # The practice exam: its home, an attempt in progress with a few answers, then its results.
    yield "exam home", visit(me, reverse("exam", args=[course.slug]))
    exam = quizzes.start_exam(learner, course)
    for question in quizzes.exam_questions(exam)[:3]:
        quizzes.answer_exam(exam, question.pk, [token(question, question.correct_ids[0])])
    yield "exam (in progress)", visit(me, reverse("exam-attempt", args=[exam.pk]))
    quizzes.finish_exam(exam)
    yield "exam results", visit(me, reverse("exam-results", args=[exam.pk]))

    # The lab, live: provisioned by the worker, one task done with boto3, checked by the worker.
    session = labs.start_session(learner, lab)
    wait_until(lambda: LabSession.objects.get(pk=session.pk).status != LabSession.Status.PROVISIONING,
               "the sandbox to be provisioned")
    session.refresh_from_db()
    assert session.status == LabSession.Status.READY, f"the sandbox did not start: {session.error}"
    enable_versioning(session)
    check = labs.request_check(session)
    wait_until(lambda: Attempt.objects.get(pk=check.pk).status in Attempt.DONE, "the check to be graded")
    use_the_workbench(session)
    yield "home (signed in, live lab and assignments)", visit(me, reverse("home"))
    yield "lab page (live session, checked, console and script used)", visit(me, reverse("lab", args=[lab.slug]),
                                                    shows='[data-credential="access-key-id"]')

    # Submitted for grading, then the instructor's pages.
    submission = classroom.submit(learner, session, assignment)
    wait_until(lambda: Attempt.objects.get(pk=submission.attempt_id).status in Attempt.DONE,
               "the submission to be graded")
    teach = signed_in_page(new_page, base, teacher, **context_options)
    yield "instructor: home (dashboard)", visit(teach, reverse("home"))
    yield "instructor: classes", visit(teach, reverse("classroom:classes"))
    yield "instructor: class", visit(teach, reverse("classroom:class", args=[cohort.pk]))
    yield "instructor: gradebook", visit(teach, reverse("classroom:gradebook", args=[cohort.pk]))
    yield "instructor: assignment insight", visit(
        teach, reverse("classroom:assignment", args=[cohort.pk, assignment.pk]))
    yield "instructor: gradebook cell", visit(
        teach, reverse("classroom:cell", args=[cohort.pk, assignment.pk, learner.pk]))
    run = classroom.start_regrade(assignment, teacher)
    wait_until(lambda: not RegradeItem.objects.filter(run=run).exclude(status__in=RegradeItem.FINISHED).exists(),
               "the regrade to finish")
    yield "instructor: regrade", visit(teach, reverse("classroom:regrade", args=[cohort.pk, run.pk]))


def use_the_workbench(session: LabSession) -> None:
    """Console history with ordinary, table, failing and refused commands, and a script with comments: the
    workbench's colours and its widest output, as a learner leaves them."""
    from labapp.runner import services as runner
    from labapp.runner.models import Run

    bucket = session.params["bucket"]
    script = ("# Which versions does the bucket keep?\nimport boto3\n\ns3 = boto3.client('s3')\n"
              f"print(s3.get_bucket_versioning(Bucket='{bucket}'), 42)\n")
    runner.save_script(session, script)
    runs = [runner.submit(session, Run.Kind.CLI, line) for line in (
        f"aws s3api get-bucket-versioning --bucket {bucket}",
        "aws s3api list-buckets --output table",
        "aws s3api head-bucket --bucket no-such-bucket-anywhere",
    )]
    runs.append(runner.submit(session, Run.Kind.CLI, "ls -la"))  # refused at once: not an aws command
    wait_until(lambda: all(Run.objects.get(pk=run.pk).is_finished for run in runs), "the console commands")
    script_run = runner.submit(session, Run.Kind.SCRIPT, script)
    wait_until(lambda: Run.objects.get(pk=script_run.pk).is_finished, "the script")


def enable_versioning(session: LabSession) -> None:
    import boto3
    from botocore.config import Config

    credentials = session.credentials()
    s3 = boto3.client("s3", aws_access_key_id=credentials["aws_access_key_id"],
                      aws_secret_access_key=credentials["aws_secret_access_key"],
                      region_name=credentials["region"], endpoint_url=credentials["endpoint_url"],
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))
    s3.put_bucket_versioning(Bucket=session.params["bucket"], VersioningConfiguration={"Status": "Enabled"})
