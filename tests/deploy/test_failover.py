"""Under a bounded load through the balancer (anonymous and signed-in browsers, full pages and
htmx partials, a few hundred requests per second over loopback), losing an instance fails no
request and logs nobody out, and a restarted instance rejoins; a rolling restart fails nothing."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
from stackctl import config

from tests.deploy.conftest import Balancer
from tests.deploy.load import Outcome, Visit, load, signed_in_session
from tests.factories import AssetFactory, CollectionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

LB_SOURCE = config.LB_SOURCE_ADDRESS
RATE = 250  # requests per second, all clients together
SIGNED_IN = 4
ANONYMOUS = 8


@pytest.fixture
def visits() -> list[Visit]:
    collection = CollectionFactory()
    assets = AssetFactory.create_batch(6, collections=[collection])
    return [Visit("/"), Visit("/browse/"), Visit("/browse/", htmx=True), Visit("/browse/?kind=video"),
            Visit(f"/assets/{assets[0].slug}/"), Visit(f"/assets/{assets[1].slug}/"),
            Visit(f"/collections/{collection.slug}/"), Visit("/browse/?page=1", htmx=True)]


@pytest.fixture
def browsers(balancer: Balancer) -> list:
    users = [UserFactory(username=f"load{number}") for number in range(SIGNED_IN)]
    return [signed_in_session(balancer.base, username=user.username, password="pw-for-tests", verify=balancer.cafile)
            for user in users]


def report(outcome: Outcome) -> str:
    return (f"{outcome.requests} requests in {outcome.seconds:.1f}s ({outcome.rate:.0f}/s), "
            f"{len(outcome.cut)} cut off by the kill, statuses "
            f"{dict(outcome.statuses)}, p95 {outcome.percentile(0.95) * 1000:.0f} ms, "
            f"first failures: {outcome.failures[:5]}")


def test_killing_an_instance_under_load_fails_nothing_and_it_rejoins_after_a_restart(balancer, visits, browsers):
    with load(balancer.base, visits=visits, signed_in=browsers, anonymous=ANONYMOUS, rate=RATE,
              verify=balancer.cafile) as outcome:
        time.sleep(5)
        before = outcome.instances_since(0)
        killing_at = time.monotonic()
        balancer.cli("kill", "web1")  # SIGKILL to the whole instance: master and workers
        killed_at = time.monotonic()
        time.sleep(5)
        while_down = outcome.instances_since(killed_at + 0.5)
        balancer.cli("up", "web1")
        balancer.wait_serving("web1")
        back_at = time.monotonic()
        time.sleep(6)
    print(report(outcome))
    assert outcome.failures == []
    assert outcome.logged_out == 0
    # The one loss no balancer can hide: an answer the killed instance was writing at that instant
    # (headers sent, body not yet) cannot be retried, since the client already has part of it. Any
    # such answer must have been under way at the kill, and nothing else may break.
    for started, ended in outcome.cut:
        assert started < killed_at, "under way when the instance was killed"
        assert killing_at < ended < killed_at + 1, "and broken off by the kill"
    assert before == {"web1", "web2"}
    assert while_down == {"web2"}
    assert outcome.instances_since(back_at) == {"web1", "web2"}, "the restarted instance serves again"


def test_a_rolling_restart_under_load_fails_nothing(balancer, visits, browsers):
    with load(balancer.base, visits=visits, signed_in=browsers, anonymous=ANONYMOUS, rate=RATE,
              verify=balancer.cafile) as outcome:
        time.sleep(3)
        balancer.cli("rolling-restart")  # web1 then web2: SIGTERM, start, ready, back in the pool
        restarted_at = time.monotonic()
        time.sleep(4)
    print(report(outcome))
    assert outcome.failures == []
    assert outcome.cut == [], "a graceful stop finishes every answer it started"
    assert outcome.logged_out == 0
    assert outcome.instances_since(restarted_at) == {"web1", "web2"}
    assert "Handling signal: term" in balancer.log("web1"), "stopped gracefully, not killed"


def test_sigterm_lets_a_request_in_flight_finish_while_new_connections_are_refused(balancer: Balancer):
    host, port = "127.0.0.1", int(balancer.instance("web1").rsplit(":", 1)[1])
    body = b"username=someone&password=wrong"
    # From the balancer's address, so the instance believes X-Forwarded-Proto and does not redirect:
    # the request reaches the CSRF check, which waits for the whole body.
    with socket.create_connection((host, port), timeout=30, source_address=(LB_SOURCE, 0)) as conn:
        conn.sendall(b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Proto: https\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:10])
        time.sleep(1)  # the instance is now inside the request, reading its body
        pid = int((balancer.var / "run" / "web1.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        refused = False
        deadline = time.monotonic() + 10
        while not refused and time.monotonic() < deadline:
            try:
                socket.create_connection((host, port), timeout=1).close()
                time.sleep(0.1)
            except ConnectionRefusedError:
                refused = True
        assert refused, "a stopping instance stops accepting"
        conn.sendall(body[10:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]  # the CSRF check's real answer, not a reset
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:  # then it exits
        time.sleep(0.1)
    balancer.cli("up", "web1")
    balancer.wait_serving("web1")
