"""`manage.py runlab` (what `make run` ends with): every process comes up, and SIGTERM stops them all."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from tests.stack import free_port

REPO = Path(__file__).resolve().parents[2]


def test_runlab_serves_with_the_embedded_broker_when_no_redis_answers_and_stops_everything(tmp_path):
    web_port, gateway_port, dead_redis_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL"}}
    env.update(
        LAB_VAR_DIR=str(tmp_path), LAB_WEB_PORT=str(web_port), LAB_GATEWAY_PORT=str(gateway_port),
        REDIS_URL=f"redis://127.0.0.1:{dead_redis_port}/0", LAB_CELERY_QUEUE="runlab-test", PYTHONUNBUFFERED="1",
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True, timeout=120)
    log_path = tmp_path / "runlab.log"
    with open(log_path, "w") as log:
        runlab = subprocess.Popen([sys.executable, "manage.py", "runlab"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "AWS Developer Lab is running" not in log_path.read_text():
            assert runlab.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        output = log_path.read_text()
        assert "Broker: embedded" in output and "no Redis answered" in output
        assert urllib.request.urlopen(f"http://127.0.0.1:{web_port}/").status == 200
        assert urllib.request.urlopen(f"http://127.0.0.1:{gateway_port}/_gateway/health").status == 200
        children = psutil.Process(runlab.pid).children(recursive=True)
        assert len(children) >= 4  # emulator, gateway, worker (+ its pool), web
    finally:
        runlab.send_signal(signal.SIGTERM)
        runlab.wait(30)
    assert "Stopped web, worker, gateway and emulator." in log_path.read_text()
    time.sleep(0.5)
    survivors = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert survivors == [], [c.cmdline() for c in survivors]
