"""Project settings plus the runner app, for running tests/runner before labapp.runner is in INSTALLED_APPS:
`pytest tests/runner --ds=tests.runner.settings_with_runner`. Remove once settings.py lists the app."""

from labapp.settings import *  # noqa: F403

if "labapp.runner" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "labapp.runner"]  # noqa: F405
