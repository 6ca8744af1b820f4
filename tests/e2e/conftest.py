"""Real-browser fixtures: Debian's Chromium driven by Playwright against a live Django server.

The live server here serves static files the way production does (WhiteNoise, hashed names
from STATIC_ROOT), so a test that sees `window.htmx` proves the real asset pipeline works.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test.testcases import LiveServerThread
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = "/usr/bin/chromium"  # Debian's package; never `playwright install`
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
TIMEOUT_MS = 30_000  # a slow two-core machine: wait long, but always on a condition
LIVE_HOST = "127.0.0.1"  # not "localhost": Chromium may try ::1 first while the server binds IPv4


def _app_serves_static(application: Any) -> Any:
    """The live server's static handler: none. WhiteNoise, in the middleware, serves /static/.

    pytest-django's default (staticfiles' StaticFilesHandler) answers /static/ from the finders,
    which know `htmx-2.0.10.min.js` but not the hashed `htmx-2.0.10.min.6b99da76b7f7.js` that
    ManifestStaticFilesStorage puts in the page: htmx would 404 and every HTMX test would
    silently test the no-JavaScript path.
    """
    return application


@pytest.fixture(scope="session")
def _collected_static() -> None:
    """Pages name hashed files from STATIC_ROOT's manifest; `make test` collects, a bare pytest may not."""
    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session")
def live_server(_collected_static: None) -> Iterator[LiveServer]:
    """pytest-django's live server (same object, so its transactional_db wiring still applies),
    with production's static file path instead of the finders."""
    server = LiveServer(LIVE_HOST, start=False)
    server.thread = LiveServerThread(
        LIVE_HOST,
        static_handler=_app_serves_static,  # type: ignore[arg-type]  # any WSGI wrapper works; stubs want a class
        connections_override=server.thread.connections_override,
    )
    server.thread.daemon = True
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Playwright for this package only: its sync API keeps an asyncio loop running in the main
    thread, and while it lives no other test can start its own (tests/stack does)."""
    # With that loop running, Django refuses ORM calls from the test body (factories, the
    # transactional flush) unless told this thread is not really async. Only for as long as the loop runs.
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as runtime:
            yield runtime
    finally:
        if previous is None:
            del os.environ[ASYNC_UNSAFE]
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    expect.set_options(timeout=TIMEOUT_MS)
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=TIMEOUT_MS * 2
    )
    yield chromium
    chromium.close()


def _context(browser: Browser, **options: Any) -> BrowserContext:
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS * 2)
    return context


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = _context(browser)
    yield context.new_page()
    context.close()


@pytest.fixture
def page_without_js(browser: Browser) -> Iterator[Page]:
    """A visitor with JavaScript turned off: every HTMX interaction must still work as a link or form."""
    context = _context(browser, java_script_enabled=False)
    yield context.new_page()
    context.close()
