"""A check kind that takes its time, so tests can kill a worker in the middle of grading."""

import time

from labapp.grading.checks import Check, CheckOutcome, register


@register("test.sleep")
class Sleep(Check):
    params_schema = {
        "type": "object",
        "properties": {"seconds": {"type": "number"}},
        "required": ["seconds"],
        "additionalProperties": False,
    }

    def run(self, ctx, seconds):
        time.sleep(seconds)
        return CheckOutcome(True, f"slept {seconds} s")


@register("test.outage_once")
class OutageOnce(Check):
    """Answers like an emulator that is restarting (500 InternalError) the first time, then passes: the
    first grading must be retried, not stored."""

    params_schema = {
        "type": "object",
        "properties": {"marker": {"type": "string"}},
        "required": ["marker"],
        "additionalProperties": False,
    }

    def run(self, ctx, marker):
        from pathlib import Path

        from botocore.exceptions import ClientError

        path = Path(marker)
        if not path.exists():
            path.write_text("the first grading met an outage")
            raise ClientError(
                {"Error": {"Code": "InternalError", "Message": "the emulator is restarting"},
                 "ResponseMetadata": {"HTTPStatusCode": 500}},
                "GetObject",
            )
        return CheckOutcome(True, "the sandbox answered")
