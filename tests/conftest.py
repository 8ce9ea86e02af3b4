"""Shared fixtures. `sandbox_stack` starts the real emulator and gateway once per test session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sandbox_stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """Emulator + gateway subprocesses on a temporary socket and a free port, using the test database.

    The settings of this (test) process are pointed at them too, so `labapp.sandbox.client` works."""
    from django.conf import UserSettingsHolder, settings
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
            "LAB_SANDBOX_S3_QUOTA_MB": "64",  # above any lab's needs; small enough to test filling it
        },
    )
    stack.start()
    # Set on the root settings: the stack may first start inside a test's override_settings (live_server
    # enables one before any other fixture), and what is set on an override vanishes with it.
    root = settings._wrapped
    while isinstance(root, UserSettingsHolder):
        root = root.default_settings
    saved = {name: getattr(root, name) for name in ("LAB_GATEWAY_URL", "LAB_EMULATOR_SOCKET")}
    def set_root(name, value):
        setattr(root, name, value)
        settings.__dict__.pop(name, None)  # LazySettings caches what it read; setting on root bypasses that

    set_root("LAB_GATEWAY_URL", stack.url)
    set_root("LAB_EMULATOR_SOCKET", stack.socket_path)
    try:
        yield stack
    finally:
        for name, value in saved.items():
            set_root(name, value)
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


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Django's default hasher is slow on purpose (hundreds of ms per password); tests create hundreds of
    accounts. override_settings sends setting_changed, which clears the hashers' cache."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


# --- The whole lab stack: emulator + gateway + Celery worker --------------------------------------

TEST_QUEUE = f"lab-tests-{__import__('uuid').uuid4().hex[:8]}"


@pytest.fixture(scope="session", autouse=True)
def _private_celery_queue():
    """Tests enqueue on a queue of their own, so a `make run` worker on this machine never takes them."""
    from django.conf import settings

    from labapp.celery import app

    app.conf.task_default_queue = TEST_QUEUE
    app.conf.broker_url = settings.REDIS_URL  # real Redis, whatever broker a `make run` beside us chose
    yield


@pytest.fixture(scope="session")
def lab_worker(sandbox_stack, tmp_path_factory):
    from django.conf import settings

    from labapp.celery import app
    from tests.lab_stack import LabWorker

    env = {
        **sandbox_stack.env,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "LAB_CELERY_QUEUE": TEST_QUEUE,
        "LAB_EXTRA_CHECK_MODULES": "tests.support.slow_checks",
    }
    worker = LabWorker(env, tmp_path_factory.mktemp("worker")).start()
    yield worker
    worker.stop()


@pytest.fixture
def lab_stack(sandbox_stack, lab_worker, transactional_db):
    """Emulator, gateway and worker running against the test database, with the real courses loaded.

    Function-scoped because transactional tests empty the database after each test."""
    from labapp.courses.loader import load_courses

    load_courses()
    if lab_worker.process.poll() is not None:  # a test killed it: bring it back for the next one
        lab_worker.start()
    sandbox_stack.worker = lab_worker
    return sandbox_stack
