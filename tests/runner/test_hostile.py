"""Hostile learner code: each case ends within the limits with a clear message, leaves no process
behind, and the host stays responsive. Short test limits (conftest.TEST_LIMITS): wall 3 s, CPU 2 s,
memory 256 MB, 32 processes, 64 KiB of output per stream, 16 MB tmpfs."""

import subprocess
import threading
import time

import pytest

from .conftest import TEST_LIMITS, describe, survivors

GRACE = 2.5  # teardown after the wall limit


def ends_cleanly(result, outcome, limit):
    assert result.limit == limit, (result, result.stderr[-2000:])
    assert result.message == TEST_LIMITS.messages()[limit if limit != "time" or "CPU" not in result.message else "cpu"]
    assert result.duration_ms < (TEST_LIMITS.wall_seconds + GRACE) * 1000
    assert survivors(outcome) == []


def test_fork_bomb_is_stopped_by_the_process_limit(run):
    start = time.monotonic()
    result, outcome = run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n")
    assert time.monotonic() - start < TEST_LIMITS.wall_seconds + GRACE
    assert result.limit == "processes" and result.message == "stopped: process limit 32"
    left = survivors(outcome)
    assert left == [], [describe(p) for p in left] + [outcome.pidns, outcome.pids[:5]]


def test_two_gigabyte_allocation_is_stopped_by_the_memory_limit(run):
    result, outcome = run("x = bytearray(2 * 1024 ** 3)\nprint('allocated')\n")
    assert result.limit == "memory" and result.message == "stopped: memory limit 256 MB"
    assert "allocated" not in result.stdout
    assert survivors(outcome) == []


def test_growing_allocation_is_stopped_by_the_memory_cgroup(run):
    result, outcome = run("chunks = []\nwhile True:\n    chunks.append(b'x' * (8 * 1024 * 1024))\n")
    assert result.limit == "memory" and result.message == "stopped: memory limit 256 MB"
    assert survivors(outcome) == []


def test_infinite_loop_is_stopped(run):
    result, outcome = run("while True:\n    pass\n")
    assert result.limit == "time"
    assert result.message in {"stopped: CPU time limit 2 s", "stopped: time limit 3 s"}
    assert result.duration_ms < (TEST_LIMITS.wall_seconds + GRACE) * 1000
    assert survivors(outcome) == []


def test_sleep_an_hour_is_stopped_at_the_wall_clock_limit(run):
    result, outcome = run("import time\nprint('sleeping', flush=True)\ntime.sleep(3600)\n")
    assert result.limit == "time" and result.message == "stopped: time limit 3 s"
    assert result.stdout == "sleeping\n"  # output before the limit is kept
    assert 2900 < result.duration_ms < (TEST_LIMITS.wall_seconds + GRACE) * 1000
    assert survivors(outcome) == []


def test_disk_fill_hits_the_private_tmpfs_limit(run):
    source = (
        "block = b'x' * (1024 * 1024)\n"
        "with open('/home/learner/fill', 'wb') as f:\n"
        "    while True:\n        f.write(block)\n        f.flush()\n"
    )
    result, outcome = run(source)
    assert result.limit == "disk" and result.message.startswith("stopped: disk limit 16 MB")
    assert "No space left on device" in result.stderr or "File too large" in result.stderr
    assert survivors(outcome) == []


def test_printing_a_gigabyte_is_cut_at_the_output_limit(run):
    result, outcome = run("import sys\nchunk = 'x' * (1024 * 1024)\nfor _ in range(1024):\n    sys.stdout.write(chunk)\n")
    assert result.limit == "output" and result.message == "stopped: output limit 64 KiB"
    assert len(result.stdout) == TEST_LIMITS.output_bytes
    assert result.duration_ms < 2000
    assert survivors(outcome) == []


def test_double_forked_daemon_does_not_survive_the_run(run):
    source = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(3600)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
        "print('parent done')\n"
    )
    result, outcome = run(source)
    assert result.stdout == "parent done\n" and result.exit_code == 0 and result.limit is None
    assert result.duration_ms < 2000  # the run ends with its main process, not at the wall limit
    time.sleep(0.2)
    assert survivors(outcome) == []


def test_threads_are_limited_too(run):
    source = (
        "import threading, time\nn = 0\n"
        "try:\n    while True:\n        threading.Thread(target=time.sleep, args=(30,), daemon=True).start(); n += 1\n"
        "except RuntimeError as e:\n    print('stopped at', n, e)\n    raise\n"
    )
    result, outcome = run(source)
    assert "can't start new thread" in result.stdout + result.stderr
    assert result.limit == "processes"
    assert survivors(outcome) == []


def test_host_stays_responsive_during_a_fork_bomb_and_a_busy_loop(run):
    results = []
    workers = [
        threading.Thread(target=lambda s=s: results.append(run(s)))
        for s in ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                  "while True:\n    pass\n")
    ]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    latencies = []
    while any(worker.is_alive() for worker in workers):
        start = time.monotonic()
        subprocess.run(["true"], check=True)
        latencies.append(time.monotonic() - start)
        time.sleep(0.05)
    for worker in workers:
        worker.join()
    assert latencies and max(latencies) < 0.5, latencies
    for result, outcome in results:
        assert result.limit in {"processes", "time"}
        left = survivors(outcome)
        assert left == [], [describe(p) for p in left] + [outcome.pidns]


@pytest.mark.parametrize("signal_name", ["SIGKILL"])
def test_killing_the_learner_process_itself_is_an_ordinary_exit(run, signal_name):
    result, outcome = run(f"import os, signal\nos.kill(os.getpid(), signal.{signal_name})\n")
    assert result.exit_code == 128 + 9 and result.limit is None
    assert survivors(outcome) == []
