"""`manage.py lab list|start|check|end|reset|run|test`: labs from the command line, for authors, instructors and CI.

With --json every subcommand prints exactly one JSON object on stdout. `start` and `check` go through
the worker like the web does, and wait for it. `run` runs one console command or script in the learner's
live session through the sandboxed runner, in this process, and exits with its exit status.
"""

import json
import os
import queue
import shlex
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

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
        p = sub.add_parser(
            "run",
            help="run one aws command (after --) or a boto3 script in the learner's live session, in the sandboxed "
                 "runner; exits with its exit status",
        )
        p.add_argument("slug")
        p.add_argument("--user", required=True, help="username of the learner")
        p.add_argument("--json", action="store_true")
        p.add_argument("--script", metavar="FILE", help="a Python (boto3) script to run instead of a command ('-': stdin)")
        p.epilog = "The command comes last, after --: lab run s3-versioning --user learner -- aws s3 ls"
        p = sub.add_parser("test", help="for each lab: an untouched sandbox scores 0, the reference solution full marks")
        p.add_argument("slugs", nargs="*")
        p.add_argument("--json", action="store_true")
        p.add_argument("--timeout", type=float, default=60)
        p.add_argument("--jobs", type=int, default=default_jobs(),
                       help="labs tested at once, each in sessions of its own (default: %(default)s)")

    def create_parser(self, prog_name, subcommand, **kwargs):
        """`lab run ... -- aws s3 ls --output json`: everything after `--` is the command, taken off before
        argparse sees it (argparse's subparsers would read the command's own options as ours)."""
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parse_args = parser.parse_args

        def parse_with_command(args=None, namespace=None):
            args = list(sys.argv[2:] if args is None else args)
            command = []
            if "--" in args and "run" in args[: args.index("--")]:
                cut = args.index("--")
                args, command = args[:cut], args[cut + 1:]
            parsed = parse_args(args, namespace)
            if getattr(parsed, "action", None) == "run":
                parsed.command = command
            return parsed

        parser.parse_args = parse_with_command
        return parser

    def handle(self, *args, action, **options):
        result = getattr(self, f"do_{action}")(**options)
        if action == "run":
            code = self.print_run(result, options["json"])
            if code:
                sys.exit(code)  # the command's own exit status, as a shell would report it
            return
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

    def do_run(self, slug, user, script, command, **_):
        """{run_id, exit_code, stdout, stderr, duration_ms, limit, message, refused, infra_error}"""
        from labapp.runner import services as runner
        from labapp.runner.pool import pool_from_settings
        from labapp.runner.sandbox import RunnerUnavailable

        if bool(command) == bool(script):
            raise CommandError("give either an aws command after -- (e.g. -- aws s3 ls) or --script FILE")
        session = self.get_live_session(slug, user)
        if session.status != LabSession.Status.READY:
            raise CommandError(f"{user}'s session of {slug} is {session.status}, not ready yet; try again in a moment")
        if script:
            try:
                kind, text = "script", sys.stdin.read() if script == "-" else open(script, encoding="utf-8").read()
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"cannot read the script {script}: {error}") from None
        else:
            # One argument is a whole console line (`-- "aws s3 ls"`); several are joined back into one,
            # quoted, so the runner splits them into exactly these arguments again.
            kind, text = "cli", command[0] if len(command) == 1 else shlex.join(command)
        try:
            # A one-shot process gains nothing from a warm pool: one sandbox, built on demand.
            pool = pool_from_settings(size=0)
        except RunnerUnavailable as error:
            raise CommandError(f"the runner is unavailable here: {error}") from None
        try:
            run = runner.run_now(session, kind, text, pool=pool)
        finally:
            pool.close()
        return {
            "run_id": str(run.pk),
            "exit_code": run.exit_code if run.exit_code is not None else -1,
            "stdout": run.stdout,
            "stderr": run.stderr,
            "duration_ms": run.duration_ms,
            "limit": run.limit or None,
            "message": run.message,
            "refused": run.refused,
            "infra_error": run.status == "failed_infra",
        }

    def print_run(self, result: dict, as_json: bool) -> int:
        """Print a run like a terminal would (or as JSON); return the process exit status."""
        if as_json:
            self.stdout.write(json.dumps(result))
        else:
            if result["stdout"]:
                self.stdout.write(result["stdout"], ending="")
            if result["stderr"]:
                self.stderr.write(result["stderr"], ending="" if result["stderr"].endswith("\n") else "\n")
            if result["message"] and result["message"] not in result["stderr"]:
                self.stderr.write(result["message"])
        code = result["exit_code"]
        return code if 0 <= code < 256 else 1

    def do_test(self, slugs, timeout, jobs=1, **_):
        from labapp.runner.pool import ServingSandbox, pool_from_settings
        from labapp.runner.sandbox import RunnerUnavailable

        labs = list(Lab.objects.order_by("slug"))
        if slugs:
            labs = [lab for lab in labs if lab.slug in slugs]
            missing = set(slugs) - {lab.slug for lab in labs}
            if missing:
                raise CommandError(f"no such lab: {', '.join(sorted(missing))}")
        if jobs < 1:
            raise CommandError("--jobs must be 1 or more")
        tester, _ = get_user_model().objects.get_or_create(username=TEST_USER, defaults={"is_active": False})
        try:
            pool = pool_from_settings(size=0)  # the serving sandboxes below are all it needs
        except RunnerUnavailable as error:
            raise CommandError(f"the runner is unavailable here: {error}") from None
        # One serving sandbox per concurrent lab; each solution step runs in a fresh process of it.
        runners: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(min(jobs, len(labs)) or 1):
            runners.put(ServingSandbox(pool))

        def test_one(lab):
            runner = runners.get()
            try:
                return self.test_lab(lab, tester, timeout, runner)
            finally:
                runners.put(runner)
                if jobs > 1:
                    connections.close_all()  # this thread's own database connection

        try:
            if jobs == 1:
                reports = [test_one(lab) for lab in labs]
            else:
                with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="lab-test") as executor:
                    reports = list(executor.map(test_one, labs))
        finally:
            while not runners.empty():
                runners.get().close()
            pool.close()
        return {"passed": all(r["passed"] for r in reports), "labs": reports}

    def test_lab(self, lab: Lab, tester, timeout: float, runner=None) -> dict:
        """Untouched sandbox: 0 points and no task passed. Reference solution: full marks. Each
        alternative correct route, in a sandbox of its own: full marks too, every command succeeding. Each
        near miss, in a sandbox of its own: less than full marks."""
        started = time.monotonic()
        report = {"slug": lab.slug, "max_score": lab.max_score, "problems": [], "alternatives": [], "near_misses": []}
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
                solved = self.run_and_grade(session, None, timeout, problems, runner)
                report["solution_score"] = solved.score
                if solved.status != Attempt.Status.GRADED or solved.score != lab.max_score:
                    failing = [f"{t['id']}: {t['feedback']}" for t in solved.results or [] if not t["passed"]]
                    problems.append(f"reference solution scored {solved.score}/{lab.max_score} {solved.error}; failing: {failing}")
        for route in lab.definition.get("alternatives", []):
            with self.fresh_session(lab, tester, timeout, problems) as session:
                if session:
                    route_problems: list[str] = []
                    graded = self.run_and_grade(session, route["solution"], timeout, route_problems, runner)
                    report["alternatives"].append({"title": route["title"], "score": graded.score})
                    if graded.status != Attempt.Status.GRADED or graded.score != lab.max_score:
                        failing = [f"{t['id']}: {t['feedback']}" for t in graded.results or [] if not t["passed"]]
                        route_problems.append(
                            f"scored {graded.score}/{lab.max_score} {graded.error}; failing: {failing}".replace("  ", " ")
                        )
                    problems += [f"alternative {route['title']!r}: {p}" for p in route_problems]
        for miss in lab.definition.get("near_misses", []):
            with self.fresh_session(lab, tester, timeout, problems) as session:
                if session:
                    graded = self.run_and_grade(session, miss["solution"], timeout, None, runner)
                    report["near_misses"].append({"title": miss["title"], "score": graded.score})
                    if graded.status != Attempt.Status.GRADED or graded.score >= lab.max_score:
                        problems.append(f"near miss {miss['title']!r} scored {graded.score}/{lab.max_score}: it must not get full marks")
        report["passed"] = not problems
        report["seconds"] = round(time.monotonic() - started, 1)
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
            # Ending must free the sandbox: a retire that fails (an emulator error on some resource
            # the solution made) would leave the account behind for good.
            from labapp.sandbox import client as sandbox

            # Every account of the session: its own and the extra accounts its lab declares.
            deadline = time.monotonic() + min(timeout, 30.0)
            accounts = set(session.all_account_ids())
            while left := accounts & set(sandbox.emulator_stats()["accounts"]):
                if time.monotonic() > deadline:
                    problems.extend(f"the sandbox {account} was not retired after the session ended"
                                    for account in sorted(left))
                    break
                time.sleep(0.2)

    def run_and_grade(self, session, steps, timeout: float, problems: list | None, runner=None) -> Attempt:
        """Run solution steps through the console runner and grade. A failing command is a problem for the
        reference solution; a near miss may legitimately stop at an error, and is judged by its score alone."""
        for step in run_solution(session, steps, runner=runner):
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
        lab = self.get_lab(slug)
        session = services.live_session(self.get_user(username), lab)
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
                    f"solution {r.get('solution_score')}/{r['max_score']} ({r['seconds']} s)"
                )
                lines += [f"     alternative scored {m['score']}/{r['max_score']}: {m['title']}" for m in r["alternatives"]]
                lines += [f"     near miss scored {m['score']}/{r['max_score']}: {m['title']}" for m in r["near_misses"]]
                lines += [f"     {problem}" for problem in r["problems"]]
            return "\n".join(lines)
        return json.dumps(result, indent=2, default=str)


def default_jobs() -> int:
    """Labs at once in `lab test`: most of a lab's time is waiting (for the worker to provision and grade,
    for the gateway), so a few more than the cores."""
    return min(4, (os.cpu_count() or 1) + 1)


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
        # Extra accounts of the session (labs with `accounts:`), each with its own credentials.
        "accounts": {a.name: {"account_id": a.account_id, "credentials": a.credentials()}
                     for a in session.extra_accounts.all()},
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
