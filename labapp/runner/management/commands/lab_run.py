"""`manage.py lab_run <slug> --user <username> [--json] -- aws ...` / `--script FILE`.

Runs one console command (or one script) in that learner's live session, through the same sandboxed
runner as the web console, prints its output and exits with its exit status. The `lab` command can offer
this as `lab run` by calling `add_run_arguments(parser)` on its subparser and `lab_run(...)` in its handler.
"""

import json
import shlex
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from labapp.courses.models import Lab
from labapp.labs import services as lab_services


def add_run_arguments(parser) -> None:
    parser.add_argument("slug")
    parser.add_argument("--user", required=True, help="username of the learner")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--script", metavar="FILE", help="a Python (boto3) script to run instead of a command ('-' = stdin)")
    parser.add_argument("command", nargs="*", help="after --: the aws command line, e.g. -- aws s3 ls")


def lab_run(slug: str, user: str, command: list[str] | None = None, script: str | None = None) -> dict:
    """Run it and return {exit_code, stdout, stderr, duration_ms, limit, message, refused, infra_error, run_id}."""
    from labapp.runner.api import run_cli, run_script
    from labapp.runner.pool import Pool, settings_gateway

    if bool(command) == bool(script):
        raise CommandError("give either a command after -- (e.g. -- aws s3 ls) or --script FILE")
    try:
        lab = Lab.objects.get(slug=slug)
    except Lab.DoesNotExist:
        raise CommandError(f"no lab with slug {slug!r}") from None
    try:
        learner = get_user_model().objects.get(username=user)
    except get_user_model().DoesNotExist:
        raise CommandError(f"no user {user!r}") from None
    session = lab_services.live_session(learner, lab)
    if session is None or session.status != "ready":
        raise CommandError(f"{user} has no ready session of {slug} (start it with `lab start {slug} --user {user}`)")
    if script:
        source = sys.stdin.read() if script == "-" else open(script, encoding="utf-8").read()
        kind, text = "script", source
    else:
        kind, text = "cli", shlex.join(command) if len(command) > 1 else command[0]
    from django.conf import settings

    runtime_dir = getattr(settings, "LAB_RUNNER_DIR", None) or f"{settings.VAR_DIR}/runner"
    pool = Pool(size=0, gateway=settings_gateway, runtime_dir=runtime_dir,
                host_uid=getattr(settings, "LAB_RUNNER_UID", 65534))  # one sandbox, built on demand: a one-shot process gains nothing from a warm pool
    try:
        from django.apps import apps

        if apps.is_installed("labapp.runner"):
            from labapp.runner import services

            run = services.run_now(session, kind, text, pool=pool)
            return {
                "run_id": str(run.pk), "exit_code": run.exit_code if run.exit_code is not None else -1,
                "stdout": run.stdout, "stderr": run.stderr, "duration_ms": run.duration_ms, "limit": run.limit or None,
                "message": run.message, "refused": run.refused, "infra_error": run.status == "failed_infra",
            }
        result = run_cli(session, text, pool=pool) if kind == "cli" else run_script(session, text, pool=pool)
        return {"run_id": None, **result.as_dict()}
    finally:
        pool.close()


def print_run(result: dict, as_json: bool, stdout, stderr) -> int:
    if as_json:
        stdout.write(json.dumps(result))
    else:
        if result["stdout"]:
            stdout.write(result["stdout"], ending="")
        if result["stderr"]:
            stderr.write(result["stderr"], ending="")
        if result["message"] and not result.get("refused"):
            stderr.write(result["message"])
    return 0 if result["exit_code"] == 0 else (result["exit_code"] if 0 < result["exit_code"] < 256 else 1)


class Command(BaseCommand):
    help = "Run one aws command or boto3 script in a learner's live lab session, in the sandboxed runner."

    def add_arguments(self, parser):
        add_run_arguments(parser)

    def handle(self, *args, slug, user, json: bool, script, command, **options):
        result = lab_run(slug, user, command=command, script=script)
        code = print_run(result, json, self.stdout, self.stderr)
        if code:
            sys.exit(code)
