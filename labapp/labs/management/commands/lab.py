"""`manage.py lab list|start|check|end|reset|test`: labs from the command line, for authors, instructors and CI.

With --json every subcommand prints exactly one JSON object on stdout. `start` and `check` go through
the worker like the web does, and wait for it.
"""

import json
import time
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from labapp.courses.models import Lab
from labapp.labs import services
from labapp.labs.models import Attempt, LabSession
from labapp.labs.solution import run_solution

TEST_USER = "lab-test-bot"


class Command(BaseCommand):
    help = "Start, check, end and test hands-on labs (see docs/architecture.md, 'Lab command line')."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="labs with slug, title and module").add_argument("--json", action="store_true")
        for name, text in [
            ("start", "start (or return) the learner's live session and wait until it is ready"),
            ("check", "grade the learner's live session through the worker and print the results"),
            ("end", "end the learner's live session and retire its sandbox"),
            ("reset", "end the live session and start the lab again in a fresh sandbox"),
        ]:
            p = sub.add_parser(name, help=text)
            p.add_argument("slug")
            p.add_argument("--user", required=True, help="username of the learner")
            p.add_argument("--json", action="store_true")
            p.add_argument("--timeout", type=float, default=60, help="seconds to wait for the worker")
        p = sub.add_parser("test", help="for each lab: an untouched sandbox scores 0, the reference solution full marks")
        p.add_argument("slugs", nargs="*")
        p.add_argument("--json", action="store_true")
        p.add_argument("--timeout", type=float, default=60)

    def handle(self, *args, action, **options):
        result = getattr(self, f"do_{action}")(**options)
        if options["json"]:
            self.stdout.write(json.dumps(result, default=str))
        else:
            self.stdout.write(self.describe(action, result))
        if action == "test" and not result["passed"]:
            raise CommandError("lab test failed: " + ", ".join(r["slug"] for r in result["labs"] if not r["passed"]))

    # --- subcommands ------------------------------------------------------------------------

    def do_list(self, **_):
        labs = Lab.objects.select_related("module").order_by("module__order", "order", "slug")
        return {"labs": [{"slug": lab.slug, "title": lab.title, "module": lab.module.slug} for lab in labs]}

    def do_start(self, slug, user, timeout, **_):
        session = services.start_session(self.get_user(user), self.get_lab(slug))
        return session_json(wait_until_provisioned(session, timeout))

    def do_check(self, slug, user, timeout, **_):
        session = self.get_live_session(slug, user)
        try:
            attempt = services.request_check(session)
        except services.LabError as exc:
            raise CommandError(str(exc)) from None
        return attempt_json(wait_until_graded(attempt, timeout))

    def do_end(self, slug, user, **_):
        return session_json(services.end_session(self.get_live_session(slug, user)))

    def do_reset(self, slug, user, timeout, **_):
        session = services.reset_session(self.get_live_session(slug, user))
        return session_json(wait_until_provisioned(session, timeout))

    def do_test(self, slugs, timeout, **_):
        labs = Lab.objects.order_by("slug")
        if slugs:
            labs = labs.filter(slug__in=slugs)
            missing = set(slugs) - {lab.slug for lab in labs}
            if missing:
                raise CommandError(f"no such lab: {', '.join(sorted(missing))}")
        tester, _ = get_user_model().objects.get_or_create(username=TEST_USER, defaults={"is_active": False})
        reports = [self.test_lab(lab, tester, timeout) for lab in labs]
        return {"passed": all(r["passed"] for r in reports), "labs": reports}

    def test_lab(self, lab: Lab, tester, timeout: float) -> dict:
        """Untouched sandbox: 0 points and no task passed. Reference solution: full marks. Each near
        miss, in a sandbox of its own: less than full marks."""
        report = {"slug": lab.slug, "max_score": lab.max_score, "problems": [], "near_misses": []}
        problems = report["problems"]
        with self.fresh_session(lab, tester, timeout, problems) as session:
            if session:
                untouched = wait_until_graded(services.request_check(session), timeout)
                report["untouched_score"] = untouched.score
                passed_untouched = [t["id"] for t in untouched.results or [] if t["passed"]]
                if untouched.status != Attempt.Status.GRADED or untouched.score or passed_untouched:
                    problems.append(
                        f"untouched sandbox scored {untouched.score} (tasks passed: {passed_untouched or 'none'}) "
                        f"{untouched.error}".strip()
                    )
                solved = self.run_and_grade(session, None, timeout, problems)
                report["solution_score"] = solved.score
                if solved.status != Attempt.Status.GRADED or solved.score != lab.max_score:
                    failing = [f"{t['id']}: {t['feedback']}" for t in solved.results or [] if not t["passed"]]
                    problems.append(f"reference solution scored {solved.score}/{lab.max_score} {solved.error}; failing: {failing}")
        for miss in lab.definition.get("near_misses", []):
            with self.fresh_session(lab, tester, timeout, problems) as session:
                if session:
                    graded = self.run_and_grade(session, miss["solution"], timeout, problems=None)
                    report["near_misses"].append({"title": miss["title"], "score": graded.score})
                    if graded.status != Attempt.Status.GRADED or graded.score >= lab.max_score:
                        problems.append(f"near miss {miss['title']!r} scored {graded.score}/{lab.max_score}: it must not get full marks")
        report["passed"] = not problems
        return report

    @contextmanager
    def fresh_session(self, lab: Lab, tester, timeout: float, problems: list):
        """A ready session in a new sandbox (None if setup failed, noted in problems); ended afterwards."""
        if live := services.live_session(tester, lab):
            services.end_session(live)
        session = wait_until_provisioned(services.start_session(tester, lab), timeout)
        try:
            if session.status != LabSession.Status.READY:
                problems.append(f"setup failed: {session.error}")
                yield None
            else:
                yield session
        finally:
            services.end_session(session)

    def run_and_grade(self, session, steps, timeout: float, problems: list | None) -> Attempt:
        """Run solution steps and grade. A failing command is a problem for the reference solution; a
        near miss may legitimately stop at an error, and is judged by its score alone."""
        for step in run_solution(session, steps):
            if step.exit_code != 0 and problems is not None:
                problems.append(f"solution command failed ({step.exit_code}): {step.command}\n{step.stderr}")
        return wait_until_graded(services.request_check(session), timeout)

    # --- helpers -----------------------------------------------------------------------------

    def get_user(self, username):
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user named {username!r}") from None

    def get_lab(self, slug):
        try:
            return Lab.objects.get(slug=slug)
        except Lab.DoesNotExist:
            raise CommandError(f"no lab {slug!r}; `manage.py lab list` shows them") from None

    def get_live_session(self, slug, username):
        session = services.live_session(self.get_user(username), self.get_lab(slug))
        if session is None:
            raise CommandError(f"{username} has no live session of {slug}; start one with `lab start`")
        return session

    def describe(self, action, result) -> str:
        if action == "list":
            return "\n".join(f"{lab['slug']:<28} {lab['module']:<8} {lab['title']}" for lab in result["labs"])
        if action == "test":
            lines = []
            for r in result["labs"]:
                verdict = "ok  " if r["passed"] else "FAIL"
                lines.append(
                    f"{verdict} {r['slug']}: untouched {r.get('untouched_score')}, "
                    f"solution {r.get('solution_score')}/{r['max_score']}"
                )
                lines += [f"     near miss scored {m['score']}/{r['max_score']}: {m['title']}" for m in r["near_misses"]]
                lines += [f"     {problem}" for problem in r["problems"]]
            return "\n".join(lines)
        return json.dumps(result, indent=2, default=str)


def wait_until_provisioned(session: LabSession, timeout: float) -> LabSession:
    deadline = time.monotonic() + timeout
    while session.status == LabSession.Status.PROVISIONING:
        if time.monotonic() > deadline:
            raise CommandError(f"session {session.pk} still provisioning after {timeout:.0f} s: is a worker running?")
        time.sleep(0.02)
        session.refresh_from_db()
    return session


def wait_until_graded(attempt: Attempt, timeout: float) -> Attempt:
    deadline = time.monotonic() + timeout
    while not attempt.is_done:
        if time.monotonic() > deadline:
            raise CommandError(f"attempt {attempt.pk} not graded after {timeout:.0f} s: is a worker running?")
        time.sleep(0.02)
        attempt.refresh_from_db()
    return attempt


def session_json(session: LabSession) -> dict:
    return {
        "session_id": str(session.pk),
        "lab": session.lab.slug,
        "status": session.status,
        "account_id": session.account_id,
        "credentials": session.credentials(),
        "params": session.params,
        "expires_at": session.expires_at.isoformat(),
        "error": session.error,
    }


def attempt_json(attempt: Attempt) -> dict:
    return {
        "session_id": str(attempt.session_id),
        "attempt_id": attempt.pk,
        "status": attempt.status,
        "score": attempt.score,
        "max_score": attempt.max_score,
        "tasks": attempt.results or [],
        "error": attempt.error,
    }
