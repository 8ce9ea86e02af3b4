"""The lab-file format of reference-solution steps, independent of how commands are run.

A step is either a command string (an AWS CLI v1 command line, templated with the parameters), or a
mapping {run: <command>, save: {<name>: <JMESPath>}} whose JSON output is searched and the results saved
as new template values for later steps (e.g. the version id of a delete marker the command created).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

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


def iter_steps(solution: list, params: dict) -> Iterator[tuple[str, dict, Callable[[str], None]]]:
    """Like `iter_commands`, with each step's extra environment (templated), e.g. temporary credentials
    saved from an earlier `sts assume-role` step."""
    values = dict(params)
    for step in solution or []:
        saves = step_saves(step)
        env = {name: render(value, values) for name, value in step_env(step).items()}
        yield render(step_command(step), values), env, (lambda out, saves=saves: capture(saves, out, values))


def iter_commands(solution: list, params: dict) -> Iterator[tuple[str, Callable[[str], None]]]:
    """Yield (command line, record) per step; call record(stdout) after running it so later steps can use
    saved values. Templating happens lazily, after earlier steps' outputs are recorded."""
    for command, _env, record in iter_steps(solution, params):
        yield command, record
