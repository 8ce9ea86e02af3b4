"""The lab-file format of reference-solution steps, independent of how commands are run.

A step is either a command string (an AWS CLI v1 command line, templated with the parameters), or a
mapping {run: <command>, save: {<name>: <JMESPath>}} whose JSON output is searched and the results saved
as new template values for later steps (e.g. the version id of a delete marker the command created).
A mapping may also give `env` (extra AWS_* variables) and `files` (files the command reads, made in its
working directory first: name -> text, or name -> a size in bytes), since the runner's sandbox starts
empty for each command. `account: <name>` runs the command as the administrator of that extra account
of the session (`accounts:` in the lab file), as a learner would with that account's credentials.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import jmespath

from .templating import render


def step_command(step) -> str:
    return step if isinstance(step, str) else step["run"]


def step_saves(step) -> dict:
    return {} if isinstance(step, str) else dict(step.get("save") or {})


def saved_names(solution: list) -> set[str]:
    return {name for step in solution or [] for name in step_saves(step)}


def capture(saves: dict, stdout: str, values: dict) -> None:
    """Store each `save` expression's result from a command's output (JSON, else stripped text) in `values`."""
    if not saves:
        return
    try:
        data = json.loads(stdout)
    except ValueError:
        data = None
    for name, expr in saves.items():
        found = jmespath.search(expr, data) if data is not None else stdout.strip()
        if found is None:
            raise ValueError(f"solution step output has nothing at {expr!r} for {{{{ {name} }}}}")
        values[name] = found if isinstance(found, str) else json.dumps(found)


def step_env(step) -> dict:
    return {} if isinstance(step, str) else dict(step.get("env") or {})


def step_account(step) -> str | None:
    return None if isinstance(step, str) else step.get("account")


def step_files(step) -> dict:
    return {} if isinstance(step, str) else dict(step.get("files") or {})


@dataclass
class Step:
    """One solution step, templated with the parameters and the values saved by earlier steps."""

    command: str
    env: dict  # extra environment variables, e.g. temporary credentials from `sts assume-role`
    files: dict  # name -> text, or name -> size in bytes: made in the working directory first
    record: Callable[[str], None]  # call with the command's stdout, so later steps can use saved values
    account: str | None = None  # an extra account of the session to run in (None: the session's own)


def iter_steps(solution: list, params: dict) -> Iterator[Step]:
    """Like `iter_commands`, with each step's extra environment and files."""
    values = dict(params)
    for step in solution or []:
        saves = step_saves(step)
        yield Step(
            command=render(step_command(step), values),
            env={name: render(value, values) for name, value in step_env(step).items()},
            files={name: render(body, values) if isinstance(body, str) else body
                   for name, body in step_files(step).items()},
            record=lambda out, saves=saves: capture(saves, out, values),
            account=step_account(step),
        )


def iter_commands(solution: list, params: dict) -> Iterator[tuple[str, Callable[[str], None]]]:
    """Yield (command line, record) per step; call record(stdout) after running it so later steps can use
    saved values. Templating happens lazily, after earlier steps' outputs are recorded."""
    for step in iter_steps(solution, params):
        yield step.command, step.record
