"""PostgreSQL stopped and started under signed-in load on a real gunicorn (gthread, persistent
connections as in production): every answer meanwhile is a 200 or the portal's own 503 with
Retry-After, never a 500, and the requests after PostgreSQL is back all succeed (no request pays
for a connection that died with the server). Stops the shared PostgreSQL for a few seconds: run rarely."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import Client

from portal.ops.views import drop_dead_connections
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
THREADS = 4


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def web(tmp_path: Path) -> Iterator[str]:
    """One gunicorn worker with four threads on this run's test database and cache."""
    port, database = free_port(), settings.DATABASES["default"]
    url = f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    env = {**os.environ, "DJANGO_ENV": "test", "DATABASE_URL": url, "GUNICORN_BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": str(THREADS), "DATABASE_CONN_MAX_AGE": "600",
           "GUNICORN_ACCESS_LOG": str(tmp_path / "access.log")}
    with (tmp_path / "gunicorn.log").open("w") as log:
        argv = [str(ROOT / ".venv/bin/gunicorn"), "-c", "config/gunicorn.py"]
        server = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still importing Django
                time.sleep(0.1)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # its own process group: this gunicorn and its worker only
        server.wait(timeout=30)


class Load:
    """THREADS signed-in browsers asking for a database-backed page in a loop, each answer noted."""

    def __init__(self, url: str, cookies: dict[str, str]) -> None:
        self.url, self.cookies = url, cookies
        self.answers: list[tuple[float, int, str, str]] = []  # (asked at, status, Retry-After, body start)
        self.running = True
        self.threads = [threading.Thread(target=self.browse, daemon=True) for _ in range(THREADS)]

    def browse(self) -> None:
        session = requests.Session()
        session.cookies.update(self.cookies)
        while self.running:
            asked = time.monotonic()
            try:
                response = session.get(self.url, timeout=15, allow_redirects=False)
            except requests.RequestException:
                self.answers.append((asked, 0, "", ""))
                continue
            self.answers.append((asked, response.status_code, response.headers.get("Retry-After", ""),
                                 response.text[:2000]))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running = False
        for thread in self.threads:
            thread.join(timeout=30)


def test_postgresql_stopped_and_started_under_signed_in_load_no_500_and_recovery_costs_no_error(web, stopped):
    editor = UserFactory(username="outage-editor", editor=True)
    browser = Client()
    browser.force_login(editor)
    cookies = {settings.SESSION_COOKIE_NAME: browser.cookies[settings.SESSION_COOKIE_NAME].value}
    assert requests.get(f"{web}/studio/", cookies=cookies, timeout=10).status_code == 200

    with Load(f"{web}/studio/", cookies) as load:
        time.sleep(1.5)  # every thread holds a persistent connection
        with stopped("postgres"):
            time.sleep(4)
        back_at = time.monotonic()
        time.sleep(3)
    drop_dead_connections()  # this test's own connection died with the server too

    statuses = [status for _, status, _, _ in load.answers]
    assert 500 not in statuses
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    unavailable = [answer for answer in load.answers if answer[1] == 503]
    assert unavailable, "the outage was seen"
    assert all(retry == "10" and "Back in a moment" in body for _, _, retry, body in unavailable)
    after = [status for asked, status, _, _ in sorted(load.answers) if asked > back_at]
    print(f"{statuses.count(200)} answered 200 and {len(unavailable)} answered 503 in all; "
          f"{len(after)} asked after PostgreSQL was back, all 200")
    assert len(after) >= THREADS
    assert set(after) == {200}, after[:20]
