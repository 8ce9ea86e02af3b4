"""The runner's Python API: run one AWS CLI command line or one boto3 script for a lab session.

    from labapp.runner.api import run_cli, run_script
    result = run_cli(session, "aws s3 ls")          # RunResult
    result = run_script(session, "import boto3 ...")

Both block until the run has ended (at most `limits.wall_seconds` plus teardown) and never raise for
anything the learner typed; an unusable sandbox (e.g. bwrap missing) gives `infra_error=True`.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path

from .sandbox import HOME, Limits, Outcome, RunnerUnavailable

MAX_COMMAND_CHARS = 8 * 1024
MAX_SCRIPT_CHARS = 64 * 1024
REFUSAL = "Only aws commands run here; try `aws s3 ls`."
DEFAULT_LIMITS = Limits()


@dataclass
class RunResult:
    stdout: str
    stderr: str
    exit_code: int
    duration_ms: float
    limit: str | None = None  # None | "memory" | "time" | "output" | "processes" | "disk" | "stopped"
    message: str = ""  # learner-facing, e.g. "stopped: memory limit 512 MB"; also refusals
    refused: bool = False  # the command line was not run at all (not `aws`, unparsable, too long)
    infra_error: bool = False  # the platform failed, not the learner's command

    def as_dict(self) -> dict:
        return asdict(self)


class CommandRefused(ValueError):
    pass


def split_command(command_line: str) -> list[str]:
    """Split a console line like a POSIX shell would, without ever running one. argv[0] must be `aws`.

    Shell metacharacters (; | & $() ` > <) are not special: they end up inside the arguments."""
    if len(command_line) > MAX_COMMAND_CHARS:
        raise CommandRefused(f"That command is too long (limit {MAX_COMMAND_CHARS} characters).")
    try:
        argv = shlex.split(command_line, comments=False, posix=True)
    except ValueError as error:  # "No closing quotation", "No escaped character"
        raise CommandRefused(f"Could not read that command: {error}.") from None
    if not argv:
        raise CommandRefused(REFUSAL)
    if argv[0] != "aws":
        raise CommandRefused(REFUSAL)
    if any("\x00" in arg for arg in argv):
        raise CommandRefused("That command contains a NUL character.")
    return argv


_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(data: bytes) -> str:
    """Bytes from the sandbox as plain text: UTF-8 (invalid bytes replaced), no ANSI escapes or control
    characters except newline and tab. HTML escaping is the template's job (it auto-escapes)."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", _ANSI.sub("", text))


def session_env(session) -> dict[str, str]:
    """Everything the learner's process sees in os.environ: the session's credentials and region, the
    in-sandbox gateway endpoint, and nothing of the worker."""
    return {
        "HOME": HOME,
        "PATH": "/nonexistent",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "MALLOC_ARENA_MAX": "2",
        "AWS_ACCESS_KEY_ID": session.access_key_id,
        "AWS_SECRET_ACCESS_KEY": session.secret_access_key,
        "AWS_DEFAULT_REGION": session.region,
        "AWS_REGION": session.region,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": f"{HOME}/.aws/config",
        "AWS_SHARED_CREDENTIALS_FILE": f"{HOME}/.aws/credentials",
        "AWS_PAGER": "",
    }


def _result(outcome: Outcome) -> RunResult:
    return RunResult(
        stdout=clean_text(outcome.stdout),
        stderr=clean_text(outcome.stderr),
        exit_code=outcome.exit_code,
        duration_ms=round(outcome.duration_ms, 1),
        limit=outcome.limit,
        message=outcome.message,
    )


def _infra(error: Exception) -> RunResult:
    return RunResult("", "", -1, 0.0, message=f"The runner is unavailable: {error}", infra_error=True)


def run_job(job: dict, limits: Limits | None = None, pool=None, should_stop=None) -> tuple[RunResult, Outcome | None]:
    """Run a prepared job (mode cli/script + env) in a fresh sandbox. Returns the result and the raw
    outcome (pids, pid namespace: used by tests). `should_stop`: see Sandbox.run (the Stop button)."""
    from .pool import default_pool

    extra = {"should_stop": should_stop} if should_stop is not None else {}
    try:
        outcome = (pool or default_pool()).run(job, limits or DEFAULT_LIMITS, **extra)
    except RunnerUnavailable as error:
        return _infra(error), None
    return _result(outcome), outcome


def run_cli(session, command_line: str, *, limits: Limits | None = None, pool=None,
            env: dict | None = None, files: dict | None = None, should_stop=None) -> RunResult:
    """`env`: extra AWS_* variables for this command (e.g. temporary credentials a reference solution
    saved from `sts assume-role`); `files`: files to create in the command's working directory first
    (see `job_files`). Both come from lab authors, not from the console."""
    try:
        argv = split_command(command_line)
        extra = job_env(env)
        made = job_files(files)
    except CommandRefused as refusal:
        return RunResult("", str(refusal), 2, 0.0, message=str(refusal), refused=True)
    job_environment = {**session_env(session), **extra}
    if cli_service(argv) in services_ignoring_endpoint_env() and "--endpoint-url" not in argv:
        argv = [argv[0], "--endpoint-url", job_environment["AWS_ENDPOINT_URL"], *argv[1:]]
    job = {"mode": "cli", "argv": argv, "env": job_environment}
    if made:
        job["files"] = made
    return run_job(job, limits, pool, should_stop)[0]


# Extra variables may only be the AWS SDK's own settings: nothing that changes how Python or the loader
# behave (PYTHONPATH, LD_PRELOAD...), and never the sandbox's HOME or PATH.
_EXTRA_ENV_NAME = re.compile(r"AWS_[A-Z0-9_]{1,60}")
MAX_EXTRA_ENV_CHARS = 16 * 1024
# A file name in the working directory: no directories, no dot files (so no `.aws/` overrides).
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")
MAX_FILES = 8


def job_env(env: dict | None) -> dict[str, str]:
    """Check extra environment variables for a job: AWS_* names with string values only."""
    env = dict(env or {})
    for name, value in env.items():
        if not isinstance(name, str) or not _EXTRA_ENV_NAME.fullmatch(name):
            raise CommandRefused(f"Only AWS_* variables can be set for a command, not {name!r}.")
        if not isinstance(value, str) or "\x00" in value:
            raise CommandRefused(f"The value of {name} must be text.")
    if sum(len(k) + len(v) for k, v in env.items()) > MAX_EXTRA_ENV_CHARS:
        raise CommandRefused("Those environment variables are too long.")
    return env


def job_files(files: dict | None) -> dict[str, str | int]:
    """Check files to create in the job's working directory before it runs: name -> text (written as
    UTF-8), or name -> a size in bytes (filler bytes, like `head -c N /dev/urandom > name` would give a
    learner). They live in the sandbox's small tmpfs, so the tmpfs limit bounds them."""
    files = dict(files or {})
    if len(files) > MAX_FILES:
        raise CommandRefused(f"At most {MAX_FILES} files can be made for a command.")
    for name, content in files.items():
        if not isinstance(name, str) or not _FILE_NAME.fullmatch(name):
            raise CommandRefused(f"{name!r} is not a plain file name.")
        if isinstance(content, bool) or not isinstance(content, (str, int)) or (isinstance(content, int) and content < 0):
            raise CommandRefused(f"The file {name} needs text or a size in bytes.")
    return files


@functools.cache
def services_ignoring_endpoint_env() -> frozenset[str]:
    """AWS CLI v1 replaces the configured endpoint of a few services (sqs and emr everywhere; rds, docdb
    and neptune in us-east-1...) with the real AWS one unless --endpoint-url is given on the command
    line; the sandbox cannot reach real AWS, so those commands get it explicitly. The list is read from
    the installed CLI, so a new CLI version cannot silently add one.

    It is read from the CLI's source, not imported: importing `awscli` in this process would change
    which service models every later boto3 client here uses (the CLI's older ones: Athena as JSON, not
    rest-json), in the web, the worker and the emulator alike."""
    spec = importlib.util.find_spec("awscli")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    source = Path(spec.submodule_search_locations[0]) / "customizations" / "overridesslcommonname.py"
    try:
        tree = ast.parse(source.read_text())
    except OSError:  # a CLI without that customisation honours AWS_ENDPOINT_URL everywhere
        return frozenset()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SSL_COMMON_NAMES" for t in node.targets):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()
# Global options of `aws` that take a value (the value is not the service name).
_GLOBAL_OPTIONS_WITH_VALUE = {"--region", "--output", "--query", "--profile", "--endpoint-url", "--color",
                              "--ca-bundle", "--cli-read-timeout", "--cli-connect-timeout", "--cli-binary-format"}


def cli_service(argv: list[str]) -> str | None:
    """The service of an `aws` command line (`aws --region eu-west-1 sqs list-queues` -> "sqs")."""
    words = iter(argv[1:])
    for word in words:
        if word.startswith("--"):
            if word in _GLOBAL_OPTIONS_WITH_VALUE:
                next(words, None)
            continue
        return word
    return None


def run_script(session, source: str, *, limits: Limits | None = None, pool=None, should_stop=None) -> RunResult:
    if len(source) > MAX_SCRIPT_CHARS:
        text = f"That script is too long (limit {MAX_SCRIPT_CHARS // 1024} KiB)."
        return RunResult("", text, 2, 0.0, message=text, refused=True)
    job = {"mode": "script", "source": source, "env": session_env(session)}
    return run_job(job, limits, pool, should_stop)[0]
