"""Shared fixtures. `sandbox_stack` starts the real emulator and gateway once per test session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sandbox_stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """Emulator + gateway subprocesses on a temporary socket and a free port, using the test database.

    The settings of this (test) process are pointed at them too, so `labapp.sandbox.client` works."""
    from django.conf import settings
    from django.db import connection

    from tests.stack import SandboxStack

    with django_db_blocker.unblock():
        database = connection.settings_dict
        if database["ENGINE"].endswith("sqlite3"):
            db_env = {"LAB_SQLITE_PATH": str(database["NAME"])}
        else:
            db_env = {
                "DATABASE_URL": (
                    f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or 'localhost'}:"
                    f"{database['PORT'] or 5432}/{database['NAME']}"
                )
            }
    stack = SandboxStack(
        tmp_path_factory.mktemp("stack"),
        db_env,
        {
            "LAB_INTERNAL_TOKEN": settings.LAB_INTERNAL_TOKEN,
            "LAB_REGIONS": ",".join(settings.LAB_REGIONS),
            "LAB_GATEWAY_RATE_PER_SECOND": "50",
            "LAB_GATEWAY_RATE_BURST": "200",
        },
    )
    stack.start()
    saved = {name: getattr(settings, name) for name in ("LAB_GATEWAY_URL", "LAB_EMULATOR_SOCKET")}
    settings.LAB_GATEWAY_URL = stack.url
    settings.LAB_EMULATOR_SOCKET = stack.socket_path
    try:
        yield stack
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
        stack.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure in a test that used the stack, show the tail of the emulator and gateway logs."""
    report = yield
    if report.failed and "sandbox_stack" in getattr(item, "fixturenames", ()):
        stack = item.funcargs.get("sandbox_stack") if hasattr(item, "funcargs") else None
        if stack is not None:
            report.sections.append(("sandbox stack logs", stack.logs()))
    return report
