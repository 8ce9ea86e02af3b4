"""Production settings pass Django's deployment checklist, and fail loudly when misconfigured."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args], cwd=REPO, env={**environment, **env},
        capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    done = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        LAB_PRODUCTION="1", SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="lab.example.org",
        DEBUG="0", LAB_VAR_DIR=str(tmp_path),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    done = manage("check", LAB_PRODUCTION="1", LAB_VAR_DIR=str(tmp_path))
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr


def test_a_malformed_setting_names_the_variable(tmp_path):
    done = manage("check", LAB_GATEWAY_PORT="forty", LAB_VAR_DIR=str(tmp_path))
    assert done.returncode != 0
    assert "LAB_GATEWAY_PORT='forty' is not an integer" in done.stderr
