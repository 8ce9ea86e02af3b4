"""Grades one attempt: runs every task's checks against the sandbox and scores them.

`grade(definition, params, ctx)` -> {score, max_score, tasks: [{id, title, points, max_points, passed,
feedback, hint}]}. A task passes when all its checks pass. Its points are split across its checks by
`weight` (default 1) for partial credit, rounded down; a fully passed task always gets all its points.
A check that raises never breaks grading: "not found" errors become failed checks with plain feedback,
anything else fails the check with "could not check: ..." and is logged. Except an outage: a sandbox that
cannot be reached or answers 5xx raises SandboxUnavailable, so that nothing is stored and the grading is
retried (a grade must never record an outage as the learner's score).
"""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from labapp.sandbox.client import SandboxUnavailable

from .checks import RESERVED_KEYS, CheckContext, CheckFailed, CheckOutcome, get_check
from .templating import TemplateError, render, render_data

log = logging.getLogger(__name__)

# Error codes meaning "the thing the check looks at is not there", and how to say it.
NOT_FOUND = {
    "NoSuchBucket": "bucket {bucket} does not exist",
    "NoSuchKey": "{key} does not exist in bucket {bucket}",
    "NoSuchEntity": "{message}",
    "InvalidGroup.NotFound": "security group {group} does not exist",
    "InvalidInstanceID.NotFound": "instance {name} does not exist",
    "InvalidVpcID.NotFound": "VPC {vpc} does not exist",
}


class _Blank(dict):
    def __missing__(self, key):
        return "?"


# Error codes of an unhealthy service, not of the learner's resources.
OUTAGE_CODES = frozenset({"InternalError", "InternalFailure", "ServiceUnavailable", "SlowDown"})


def is_outage(err: Exception) -> bool:
    if isinstance(err, SandboxUnavailable | HTTPClientError | BotoConnectionError):  # refused, reset, timed out
        return True
    if isinstance(err, ClientError):
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return status >= 500 or err.response.get("Error", {}).get("Code") in OUTAGE_CODES
    return False


def outcome_for_error(err: Exception, args: dict) -> CheckOutcome:
    if isinstance(err, CheckFailed):
        return CheckOutcome(False, err.feedback)
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in NOT_FOUND:
            values = _Blank({k: v for k, v in args.items() if isinstance(v, str | int)})
            values["message"] = error.get("Message") or code
            return CheckOutcome(False, NOT_FOUND[code].format_map(values))
        if code in {"404", "NotFound"} and "bucket" in args:
            target = f"{args['key']} in bucket {args['bucket']}" if "key" in args else f"bucket {args['bucket']}"
            return CheckOutcome(False, f"{target} does not exist")
        log.warning("check failed with %s: %s", code, err)
        return CheckOutcome(False, f"could not check: {code or 'error'}: {error.get('Message', '')}".rstrip(": "))
    if isinstance(err, BotoCoreError):
        log.warning("check could not reach the sandbox: %s", err)
        return CheckOutcome(False, f"could not check: {err}")
    log.exception("check crashed", exc_info=err)
    return CheckOutcome(False, f"could not check: {type(err).__name__}: {err}")


def run_check(check: dict, params: dict, ctx: CheckContext) -> CheckOutcome:
    """Run one check entry of a lab file (templated with `params`), never raising."""
    args = {k: v for k, v in check.items() if k not in RESERVED_KEYS}
    try:
        if check.get("account"):  # a check of another account of the session (`accounts:` in the lab file)
            ctx = ctx.accounts[check["account"]]
        args = render_data(args, params)
        kind = get_check(check["kind"])
        outcome = kind.run(ctx, **args)
        if not isinstance(outcome, CheckOutcome):
            raise TypeError(f"check {check['kind']} returned {outcome!r}")
        return outcome
    except Exception as err:  # noqa: BLE001 - a broken check must not break grading
        if is_outage(err):
            raise SandboxUnavailable(f"check {check.get('kind')}: {err}") from err
        return outcome_for_error(err, args)


def grade_task(task: dict, params: dict, ctx: CheckContext) -> dict:
    checks = task.get("checks", [])
    outcomes = [(c, run_check(c, params, ctx)) for c in checks]
    total_weight = sum(c.get("weight", 1) for c in checks) or 1
    passed_weight = sum(c.get("weight", 1) for c, o in outcomes if o.passed)
    all_passed = bool(outcomes) and all(o.passed for _, o in outcomes)
    max_points = task["points"]
    points = max_points if all_passed else (max_points * passed_weight) // total_weight
    failing = [o for _, o in outcomes if not o.passed]
    feedback = failing[0].feedback if failing else "; ".join(o.feedback for _, o in outcomes)
    return {
        "id": task["id"],
        "title": _text(task.get("title", task["id"]), params),
        "points": int(points),
        "max_points": max_points,
        "passed": all_passed,
        "feedback": feedback,
        "hint": _text(task.get("hint", ""), params),
    }


def _text(text: str, params: dict) -> str:
    try:
        return render(text, params)
    except TemplateError:
        return text


def grade(definition: dict, params: dict, ctx: CheckContext) -> dict:
    """Grade every task of a lab definition; ctx.params is filled from `params` if empty. Raises
    SandboxUnavailable on an outage (nothing is graded then)."""
    if not ctx.params:
        ctx.params = dict(params)
    tasks = [grade_task(task, params, ctx) for task in definition.get("tasks", [])]
    return {
        "score": sum(t["points"] for t in tasks),
        "max_score": sum(t["max_points"] for t in tasks),
        "tasks": tasks,
    }
