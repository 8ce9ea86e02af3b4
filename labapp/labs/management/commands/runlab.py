"""`manage.py runlab`: the whole lab on one machine, in the foreground.

Starts the emulator, the gateway, a Celery worker (with the reaper schedule) and the web server;
stops all of them on Ctrl-C or SIGTERM, or when any one of them dies.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_GRACE_SECONDS = 10


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def choose_broker() -> tuple[str, str]:
    """(broker URL, sentence saying which and why)."""
    if explicit := os.environ.get("CELERY_BROKER_URL"):
        return explicit, f"Broker: {explicit} (from CELERY_BROKER_URL)"
    if redis_answers(settings.REDIS_URL):
        return settings.REDIS_URL, f"Broker: Redis at {settings.REDIS_URL}"
    return "filesystem://", (
        f"Broker: embedded (queues in {settings.VAR_DIR / 'broker'}), because no Redis answered at "
        f"{settings.REDIS_URL}. Set REDIS_URL to use one."
    )


def wait_for(check, what: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            raise CommandError(f"{what} exited with status {proc.returncode} while starting")
        if time.monotonic() > deadline:
            raise CommandError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.1)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


class Command(BaseCommand):
    help = "Run web, gateway, emulator and worker together until Ctrl-C."

    def handle(self, *args, **options):
        broker_url, broker_note = choose_broker()
        env = {**os.environ, "CELERY_BROKER_URL": broker_url, "PYTHONUNBUFFERED": "1"}
        web_host, web_port = settings.LAB_WEB_HOST, settings.LAB_WEB_PORT
        python = sys.executable
        manage = str(Path(settings.BASE_DIR) / "manage.py")
        self.procs: list[tuple[str, subprocess.Popen]] = []
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        choice_file = settings.BROKER_CHOICE_FILE
        choice_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            choice_file.write_text(broker_url)
            self.stdout.write(broker_note)
            emulator = self.spawn("emulator", [python, manage, "emulator"], env)
            wait_for(lambda: Path(settings.LAB_EMULATOR_SOCKET).exists(), "the emulator", emulator)
            gateway = self.spawn("gateway", [python, manage, "gateway"], env)
            wait_for(lambda: port_open(settings.LAB_GATEWAY_HOST, settings.LAB_GATEWAY_PORT), "the gateway", gateway)
            self.spawn(
                "worker",
                [python, "-m", "celery", "-A", "labapp", "worker", "-B", "--loglevel", "INFO",
                 "--concurrency", str(settings.LAB_WORKER_CONCURRENCY),
                 # In-memory beat schedule: the reaper needs no state across restarts, and the default
                 # shelve file breaks in the forked beat process on Python 3.13 (dbm.sqlite3).
                 "--scheduler", "celery.beat:Scheduler"],
                env,
            )
            web = self.spawn("web", [python, manage, "runserver", "--noreload", f"{web_host}:{web_port}"], env)
            wait_for(lambda: port_open(web_host, web_port), "the web server", web)
            self.stdout.write(
                self.style.SUCCESS(f"\nAWS Developer Lab is running: http://{web_host}:{web_port}/\n")
                + f"Sandbox gateway (for learners' AWS CLI and boto3): {settings.LAB_GATEWAY_URL}\n"
                + "Sign in with the demo accounts printed above. Ctrl-C stops everything.\n"
            )
            while True:
                for name, proc in self.procs:
                    if proc.poll() is not None:
                        raise CommandError(f"the {name} process exited with status {proc.returncode}; stopping")
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            self.stop_all()
            choice_file.unlink(missing_ok=True)

    def spawn(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        # Own process group: Ctrl-C reaches only runlab, which then stops each group in order,
        # worker pool children included.
        proc = subprocess.Popen(argv, env=env, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in {STOP_GRACE_SECONDS} s; killing it")
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        socket_path = Path(settings.LAB_EMULATOR_SOCKET)
        if socket_path.exists():
            socket_path.unlink(missing_ok=True)
        self.stdout.write("Stopped web, worker, gateway and emulator.")
