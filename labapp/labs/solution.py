"""Runs a lab's reference solution: real AWS CLI commands against the session's sandbox.

Each command is split like a shell would (shlex), never given to a shell, and run by the AWS CLI
installed beside this Python, with only the session's credentials and the gateway in its environment.
"""

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from labapp.grading.solution import iter_steps

from .models import LabSession

AWS_CLI = str(Path(sys.executable).with_name("aws"))


@dataclass
class CommandResult:
    command: str
    exit_code: int
    stdout: str
    stderr: str


def sandbox_environment(session: LabSession) -> dict[str, str]:
    """The environment a learner's terminal would have after `aws configure`: nothing else."""
    creds = session.credentials()
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": "/nonexistent",
        "AWS_ACCESS_KEY_ID": creds["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": creds["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": creds["region"],
        "AWS_ENDPOINT_URL": creds["endpoint_url"],
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    }


def run_cli(session: LabSession, command: str, timeout: float = 60, env: dict | None = None) -> CommandResult:
    argv = shlex.split(command)
    if not argv or argv[0] != "aws":
        return CommandResult(command, 2, "", "only `aws` commands can be run")
    try:
        # --endpoint-url explicitly: AWS CLI v1 ignores AWS_ENDPOINT_URL for a few services in us-east-1
        # (rds, sqs, docdb, neptune: awscli/customizations/overridesslcommonname.py).
        done = subprocess.run(
            [AWS_CLI, "--endpoint-url", session.credentials()["endpoint_url"], *argv[1:]],
            env={**sandbox_environment(session), **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return CommandResult(command, 124, "", f"timed out after {timeout:.0f} s")
    return CommandResult(command, done.returncode, done.stdout, done.stderr)


def run_solution(session: LabSession, steps: list | None = None) -> list[CommandResult]:
    """Run the lab's reference solution (or the given steps, e.g. a near miss) in order; stop at the
    first failure, since later commands depend on earlier ones."""
    if steps is None:
        steps = session.lab.definition.get("solution", [])
    results = []
    for command, env, record_output in iter_steps(steps, session.params):
        result = run_cli(session, command, env=env)
        results.append(result)
        if result.exit_code != 0:
            break
        record_output(result.stdout)  # a step may save values from its output for later steps
    return results
