"""Every setting is read in one place, documented in the README, and a bad value is one clear line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTING_READ = re.compile(r'env(?:_int|_bool)?\(\s*"((?:LAB_|LOG_)[A-Z0-9_]+)"')
# Read outside settings.py on purpose: inside the runner's sandbox (no Django there), and a developer's
# profiling switch for the gateway.
READ_ELSEWHERE = {"LAB_STATUS_FD", "LAB_GATEWAY_PROFILE", "LAB_GATEWAY_PROFILE_CLOCK"}


def documented() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`((?:LAB_|LOG_)[A-Z0-9_]+)`", section))


def test_every_setting_read_is_documented_and_every_documented_setting_is_read():
    read = set(SETTING_READ.findall((ROOT / "labapp" / "settings.py").read_text()))
    assert read - documented() == set(), "settings read but not in the README's Configuration table"
    assert documented() - read == set(), "settings in the README that nothing reads"


def test_no_code_reads_lab_settings_from_the_environment_itself():
    offenders = []
    for path in (ROOT / "labapp").rglob("*.py"):
        if path.name == "settings.py":
            continue
        for name in re.findall(r'(?:environ\.get|environ\[|getenv)\(?\s*"((?:LAB_|LOG_)[A-Z0-9_]+)"', path.read_text()):
            if name not in READ_ELSEWHERE:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def manage_check(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )


def test_a_bad_value_stops_start_up_with_one_clear_line():
    done = manage_check(LAB_JOB_LEASE_SECONDS="fifteen")
    assert done.returncode != 0
    assert done.stderr.strip() == "Configuration error: LAB_JOB_LEASE_SECONDS='fifteen' is not an integer"
    done = manage_check(LAB_RUNNER_POOL_SIZE="-2")
    assert done.stderr.strip() == "Configuration error: LAB_RUNNER_POOL_SIZE='-2' must be at least 0"


def test_the_runner_pool_size_setting_sizes_the_pool(settings, monkeypatch):
    from labapp.runner import pool

    created = {}

    class FakePool:
        def __init__(self, **kwargs):
            created.update(kwargs)

    monkeypatch.setattr(pool, "Pool", FakePool)
    settings.LAB_RUNNER_POOL_SIZE = 5
    pool.pool_from_settings()
    assert created["size"] == 5
