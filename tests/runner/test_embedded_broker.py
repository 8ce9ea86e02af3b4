"""The embedded broker (no Redis) never hands a worker a half-written message.

Kombu's filesystem transport used to create a message file and then write it; a worker polling the folder
in between read an empty file and stopped with an "Unrecoverable error". Polled every 50 ms (so that a
console command does not wait up to a second for a worker to notice it), that happened within seconds
(bench/console_first_command.py with CELERY_BROKER_URL=filesystem:// BENCH_BUSY=1)."""

import json
import subprocess
import sys
from pathlib import Path

from kombu import Connection

from labapp.broker import make_filesystem_puts_atomic

REPO = Path(__file__).resolve().parents[2]
MESSAGES = 400

# The web process's side, in a process of its own as in production: it sends the messages.
PRODUCER = """
import json, sys
sys.path.insert(0, {repo!r})
from kombu import Connection
from labapp.broker import make_filesystem_puts_atomic
make_filesystem_puts_atomic()
folders = json.loads(sys.argv[1])
with Connection("filesystem://", transport_options=folders) as connection:
    queue = connection.SimpleQueue("runs")
    for n in range({count}):
        queue.put({{"run": n, "padding": "x" * 50_000}})
"""


def test_a_tightly_polling_worker_only_ever_reads_whole_messages(tmp_path):
    make_filesystem_puts_atomic()
    folders = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path),
               "processed_folder": str(tmp_path / "done"), "store_processed": False, "polling_interval": 0.0005,
               "control_folder": str(tmp_path / "control")}
    (tmp_path / "done").mkdir()
    (tmp_path / "control").mkdir()
    producer = subprocess.Popen([sys.executable, "-c", PRODUCER.format(repo=str(REPO), count=MESSAGES),
                                 json.dumps(folders)])
    received, errors = [], []
    with Connection("filesystem://", transport_options=folders) as connection:
        queue = connection.SimpleQueue("runs")
        while len(received) + len(errors) < MESSAGES:
            try:
                message = queue.get(timeout=20)
            except queue.Empty:
                errors.append("timed out")
                break
            except Exception as error:  # noqa: BLE001 - what the worker died of
                errors.append(repr(error))
                continue
            received.append(message.payload["run"])
            message.ack()
    assert producer.wait(30) == 0
    assert not errors, errors[:3]
    assert sorted(received) == list(range(MESSAGES))
    assert not list(tmp_path.glob("*.part"))
