"""Shared pieces of the headless-Chromium tests: Debian's chromium, driven by Playwright's sync API.

    with chromium() as (new_page, problems):
        page = new_page()
        sign_up(page, live_server.url, "learner1", "a long passphrase")
    assert not problems, problems

Each test skips (with the reason) when Chromium or Playwright is missing; `make test` installs both.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-quic"]


@contextmanager
def chromium(timeout_ms: int = 30_000):
    """Yields (new_page, problems). Every page made by new_page(**context_options), each in a context of
    its own (separate cookies: two users at once), records console errors and uncaught exceptions in
    `problems`, which the test asserts on (CSP violations show up there too)."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    # Playwright's sync API runs an event loop in this thread; Django's ORM (live_server's fixtures) would
    # otherwise refuse to run here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def new_page(**context_options):
            page = browser.new_context(**context_options).new_page()
            page.set_default_timeout(timeout_ms)
            page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            return page

        try:
            yield new_page, problems
        finally:
            browser.close()


def sign_up(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password confirmation").fill(password)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_selector(f"text=Signed in as {username}")


def sign_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector(f"text=Signed in as {username}")


def start_lab_console(page, base_url: str, slug: str):
    """Open a lab, press Start lab and wait (up to a minute) until the workbench swaps itself in without a
    reload; returns the console's command input."""
    page.goto(f"{base_url}/labs/{slug}/")
    page.get_by_role("button", name="Start lab", exact=True).click()
    console = page.get_by_label("AWS CLI command")
    console.wait_for(timeout=60_000)
    return console
