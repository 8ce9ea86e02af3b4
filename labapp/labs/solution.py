"""Runs a lab's reference solution (or a near miss) through the learners' console runner.

Each step goes through `labapp.runner.api.run_cli`, exactly as a line typed into the browser console:
split like a shell would (never given to one), `aws` only, run by the AWS CLI inside a bubblewrap sandbox
whose only way out is the gateway, with the session's credentials. So `lab test` proves, lab by lab, that
the console can do every lab. A step's `env` (extra AWS_* variables) and `files` (files it reads, made in
its working directory first) go with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from labapp.grading.solution import iter_steps

from .models import LabSession


@dataclass
class CommandResult:
    command: str
    exit_code: int
    stdout: str
    stderr: str
    message: str = ""  # the runner's note: a limit hit, a refusal, an infrastructure failure


def run_solution(session: LabSession, steps: list | None = None, *, runner=None) -> list[CommandResult]:
    """Run the lab's reference solution (or the given steps, e.g. a near miss) in order; stop at the
    first failure, since later commands depend on earlier ones.

    `runner` is what runs each job: a `labapp.runner.pool.ServingSandbox` (what `lab test` uses: one warm
    sandbox, a fresh process per step) or a `Pool` (a fresh sandbox per step, like the console); by
    default this process's pool."""
    from labapp.runner.api import run_cli

    if steps is None:
        steps = session.lab.definition.get("solution", [])
    results = []
    extra = {a.name: a for a in session.extra_accounts.all()}
    for step in iter_steps(steps, session.params):
        env = step.env
        if step.account:  # the learner would export that account's credentials
            keys = extra[step.account]
            env = {"AWS_ACCESS_KEY_ID": keys.access_key_id, "AWS_SECRET_ACCESS_KEY": keys.secret_access_key, **env}
        run = run_cli(session, step.command, pool=runner, env=env, files=step.files)
        stderr = run.stderr
        if run.message and run.message not in stderr:
            stderr = f"{stderr}\n{run.message}".strip()
        result = CommandResult(step.command, run.exit_code, run.stdout, stderr, run.message)
        results.append(result)
        if result.exit_code != 0:
            break
        try:
            step.record(result.stdout)  # a step may save values from its output for later steps
        except ValueError as error:  # the output lacks a value the lab file says to save
            result.exit_code, result.stderr = 1, f"{result.stderr}\n{error}".strip()
            break
    return results
