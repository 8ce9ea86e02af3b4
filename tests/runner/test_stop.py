"""The Stop button: a running command or script is killed on the worker within a moment, whole sandbox
included, and the result says "stopped by you"; a queued run never starts; a finished one is untouched."""

import time

import pytest

from labapp.runner.api import run_job, session_env
from labapp.runner.sandbox import Limits

from .conftest import survivors

# Long enough that only Stop can end these runs within the test's bounds.
LONG = Limits(wall_seconds=20, cpu_seconds=15, memory_mb=256, processes=32, output_bytes=64 * 1024, tmpfs_mb=16)


def stop_after(seconds: float):
    """A should_stop callback that answers True from `seconds` after its first call (the run's start)."""
    state = {}

    def should_stop():
        state.setdefault("start", time.monotonic())
        if time.monotonic() - state["start"] >= seconds:
            state.setdefault("stopped_at", time.monotonic())
            return True
        return False

    return should_stop, state


@pytest.mark.parametrize("source", [
    "while True:\n    pass\n",  # burns CPU
    "import os, time\nfor _ in range(3):\n    os.fork()\ntime.sleep(60)\n",  # many processes, asleep
])
def test_stop_kills_the_whole_sandbox_within_a_moment(runner_pool, fake_session, source):
    should_stop, state = stop_after(1.0)
    result, outcome = run_job({"mode": "script", "source": source, "env": session_env(fake_session)}, LONG,
                              runner_pool, should_stop)
    gone_after = time.monotonic() - state["stopped_at"]
    assert result.limit == "stopped" and result.message == "stopped by you"
    assert gone_after < 1.5, gone_after  # torn down, output returned, within a moment of the request
    assert not survivors(outcome), "processes of the stopped run are still alive"


def test_without_stop_a_run_ends_by_itself(runner_pool, fake_session):
    should_stop, state = stop_after(60)
    result, _ = run_job({"mode": "script", "source": "print('done')", "env": session_env(fake_session)}, LONG,
                        runner_pool, should_stop)
    assert result.stdout == "done\n" and result.limit is None and result.exit_code == 0
