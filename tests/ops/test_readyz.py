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

pytestmark = pytest.mark.django_db(transaction=True)
NAMES = {"database", "cache", "search", "mongodb", "storage"}


@pytest.fixture(autouse=True)
def _fresh_probe() -> Iterator[None]:
    readiness.forget()
    yield
    readiness.forget()


def ready(client: Client) -> tuple[int, dict]:
    readiness.forget()  # the 1 s memo would hide the change the test just made
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


def test_readyz_is_answered_from_a_one_second_memo_between_probes(client: Client):
    first = json.loads(client.get("/readyz").content)
    second = json.loads(client.get("/readyz").content)
    assert second == first, "the same probe, latencies and all, when polled again within a second"
    time.sleep(readiness.POLL_MEMO_SECONDS)
    assert json.loads(client.get("/readyz").content)["checks"] != first["checks"]


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
