"""Grade a sandbox with a real lab file's tasks, so tests assert what the lab itself accepts or refuses."""

from pathlib import Path

import yaml

from labapp.grading.grader import grade

COURSES = Path(__file__).resolve().parents[2] / "courses"


def lab_definition(slug: str) -> dict:
    (path,) = COURSES.glob(f"*/*/labs/{slug}.yaml")
    return yaml.safe_load(path.read_text())


def grade_lab(sandbox, slug: str, **params) -> dict[str, dict]:
    """task id -> {passed, feedback, points, ...} for the lab's tasks against the sandbox as it is now."""
    result = grade(lab_definition(slug), params, sandbox.ctx(params=params))
    return {task["id"]: task for task in result["tasks"]}


def passed_tasks(sandbox, slug: str, **params) -> set[str]:
    return {task_id for task_id, task in grade_lab(sandbox, slug, **params).items() if task["passed"]}
