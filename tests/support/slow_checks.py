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
