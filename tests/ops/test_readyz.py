"""/healthz and /readyz against the real servers: each dependency stopped for real (the
`stopped` fixture restarts it). PostgreSQL down is the only 503; the rest is "degraded"."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from portal.ops import readiness
from tests.resets import forget_readiness

pytestmark = pytest.mark.django_db(transaction=True)
NAMES = {"database", "cache", "search", "mongodb", "storage"}


@pytest.fixture(autouse=True)
def _fresh_probe() -> Iterator[None]:
    forget_readiness()
    yield
    forget_readiness()


def ready(client: Client) -> tuple[int, dict]:
    forget_readiness()  # the 1 s memo would hide the change the test just made
    response = client.get("/readyz")
    assert "no-store" in response["Cache-Control"]
    return response.status_code, json.loads(response.content)


def test_healthz_answers_without_touching_anything(client: Client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_readyz_reports_each_dependency_and_reveals_nothing_else(client: Client):
    status, body = ready(client)
    assert status == 200
    assert body["status"] == "ok", body
    assert set(body["checks"]) == NAMES
    for check in body["checks"].values():
        assert set(check) == {"status", "latency_ms"}
        assert check["status"] == "ok"
        assert check["latency_ms"] >= 0
    text = json.dumps(body)
    for secret_or_detail in ("127.0.0.1", "localhost", "version", settings.SECRET_KEY, settings.S3_SECRET_ACCESS_KEY):
        assert secret_or_detail not in text


class _Clock:
    """readiness's own view of time: monotonic() moved by the test, perf_counter() real."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    perf_counter = staticmethod(time.perf_counter)


def test_readyz_is_answered_from_a_one_second_memo_between_probes(client: Client, monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(readiness, "time", clock)  # this module's name only; nothing else's clock
    probes = []
    real_cache_check = readiness.CHECKS["cache"]

    def counted_cache_check() -> None:  # the real round trip to Redis, counted
        probes.append(clock.now)
        real_cache_check()

    monkeypatch.setitem(readiness.CHECKS, "cache", counted_cache_check)
    first = json.loads(client.get("/readyz").content)
    clock.now += readiness.POLL_MEMO_SECONDS - 0.01
    second = json.loads(client.get("/readyz").content)
    assert len(probes) == 1, "polled again within the memo: no second round of probes"
    assert second == first
    clock.now += 0.01
    third = json.loads(client.get("/readyz").content)
    assert len(probes) == 2, "the memo expired: the dependencies are probed again"
    assert third["status"] == "ok"


@pytest.mark.parametrize(("server", "check"), [("redis", "cache"), ("opensearch", "search"), ("ferretdb", "mongodb"),
                                               ("s3", "storage")])
def test_a_dead_optional_dependency_is_reported_degraded_and_stays_200(client: Client, stopped, server, check):
    with stopped(server):
        status, body = ready(client)
        assert status == 200
        assert body["status"] == "degraded"
        assert body["checks"][check]["status"] in {"error", "timeout"}
        assert body["checks"]["database"]["status"] == "ok"
        assert {name for name, result in body["checks"].items() if result["status"] != "ok"} == {check}
    assert ready(client)[1]["checks"][check]["status"] == "ok"


def test_readyz_is_503_while_postgresql_is_down_and_200_when_it_returns(client: Client, stopped):
    with stopped("postgres"):
        started = time.monotonic()
        status, body = ready(client)
        probe_seconds = time.monotonic() - started
        assert status == 503
        assert body["status"] == "down"
        assert body["checks"]["database"]["status"] in {"error", "timeout"}
        assert body["checks"]["cache"]["status"] == "ok"
    connections.close_all()  # this thread's connection died with the server
    status, body = ready(client)
    assert status == 200, body
    assert body["checks"]["database"]["status"] == "ok"
    print(f"readyz with PostgreSQL down answered in {probe_seconds:.2f}s")
