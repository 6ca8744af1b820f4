"""The database replica under a live server (SCALE=2): /readyz reports its replay lag, and stopping it
while a client keeps reading pages costs no request (reads fall back to the primary through the
breaker), and reads return to it once it is back. The replica is started again whatever happens."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from pytest_django.live_server_helper import LiveServer

from portal.library.models import Asset
from tests.factories import AssetFactory, UserFactory
from tests.replica import (  # noqa: F401 - fixtures
    replay_paused,
    replica_server,
    replica_transactions,
    router_on,
    wait_for_replay,
)
from tests.resets import forget_readiness

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])
MAX_REQUESTS = 2000  # the load's bound; it stops far earlier, when the test says so
WAIT_SECONDS = 120.0  # bounds on waiting for a condition, never a measure


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_SECONDS:.0f}s: {what}")
        time.sleep(0.05)


def readyz(client: Client) -> tuple[int, dict]:
    forget_readiness()
    response = client.get("/readyz")
    return response.status_code, json.loads(response.content)


def test_readyz_reports_the_replicas_lag(router_on, client: Client):
    status, body = readyz(client)
    assert status == 200
    assert body["checks"]["replica"]["status"] == "ok"
    # Other writers (workers, autovacuum) may have WAL in flight: only the paused replica's lag is known.
    assert body["checks"]["replica"]["lag_bytes"] >= 0
    assert body["checks"]["replica"]["lag_seconds"] >= 0
    asset = AssetFactory(title="Before the pause")
    wait_for_replay(router_on)
    with replay_paused(router_on):
        Asset.objects.filter(pk=asset.pk).update(title="Received, not replayed")
        until(lambda: readyz(client)[1]["checks"]["replica"]["lag_bytes"] > 0, "the replica receives the change")
        status, body = readyz(client)
        assert status == 200
        assert body["status"] == "ok"  # a lagging replica degrades nothing: the pinned reads cover it
        assert body["checks"]["replica"]["lag_seconds"] > 0


def test_stopping_the_replica_under_load_fails_no_request(router_on, live_server: LiveServer, client: Client):
    editor = UserFactory(editor=True)
    assets = AssetFactory.create_batch(3)
    wait_for_replay(router_on)
    browser = Client()
    browser.force_login(editor)
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    urls = [f"{live_server.url}/studio/", *(f"{live_server.url}/studio/assets/{a.pk}/edit/" for a in assets)]
    database = connection.settings_dict["NAME"]
    statuses: list[tuple[str, int]] = []
    phase, stop = ["up"], threading.Event()

    def load() -> None:  # one reader, one request at a time, bounded
        with requests.Session() as http:
            http.cookies.set(settings.SESSION_COOKIE_NAME, cookie)
            for n in range(MAX_REQUESTS):
                if stop.is_set():
                    return
                current = phase[0]
                response = http.get(urls[n % len(urls)], timeout=60, allow_redirects=False)
                statuses.append((current, response.status_code))

    def served(name: str) -> int:
        return sum(1 for p, _ in statuses if p == name)

    # A short cooldown so the test sees the replica taken back soon after it returns.
    with override_settings(DATABASE_REPLICA_COOLDOWN_SECONDS=0.5):
        reader = threading.Thread(target=load, daemon=True)
        before = replica_transactions(router_on, database)
        reader.start()
        try:
            until(lambda: served("up") >= 10, "ten pages with the replica up")
            until(lambda: replica_transactions(router_on, database) > before, "the replica serves the reads")
            try:
                router_on.stop()  # a fast shutdown: it ends the connections it has
                phase[0] = "down"
                until(lambda: served("down") >= 20, "twenty pages with the replica stopped")
                status, body = readyz(client)
                assert status == 200
                assert body["status"] == "degraded"
                assert body["checks"]["replica"]["status"] == "error"
            finally:
                router_on.start()
            phase[0] = "back"
            back = replica_transactions(router_on, database)
            until(lambda: replica_transactions(router_on, database) > back, "reads return to the replica")
            until(lambda: served("back") >= 10, "ten pages with the replica back")
        finally:
            stop.set()
            reader.join(timeout=WAIT_SECONDS)
    failed = [(p, code) for p, code in statuses if code != 200]
    assert not failed, failed
    assert not reader.is_alive()
