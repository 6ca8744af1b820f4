"""The one circuit breaker (portal.core.breaker), and two of its users against their real server
made unreachable by pointing them at a closed port: each still answers its fallback, at once. The
third user, search, is proven in tests/search/test_fallback.py and test_port.py."""

from __future__ import annotations

import threading

import pytest

from portal.core.breaker import CircuitBreaker
from portal.integrations import mongo
from portal.integrations.mongo.client import breaker as mongo_breaker
from portal.jobs import progress
from tests.resets import reset_mongo_client

DEAD = "127.0.0.1:9"  # nothing listens: refused at once, like a dead server


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_closed_open_then_one_probe_after_the_cooldown_and_closed_on_its_success():
    clock = Clock()
    breaker = CircuitBreaker("t", 5.0, clock=clock)
    assert breaker.allows()
    assert not breaker.is_open
    breaker.failed()
    assert breaker.is_open
    assert not breaker.allows()
    clock.now += 5.0
    assert breaker.allows()  # the probe
    assert not breaker.allows()  # everyone else waits for the probe's answer
    breaker.succeeded()
    assert breaker.allows()
    assert breaker.allows()


def test_a_failed_probe_opens_it_for_another_cooldown_read_from_the_callable():
    clock, cooldown = Clock(), [5.0]
    breaker = CircuitBreaker("t", lambda: cooldown[0], clock=clock)
    breaker.failed()
    clock.now += 5.0
    cooldown[0] = 30.0
    assert breaker.allows()
    breaker.failed()
    clock.now += 29.0
    assert not breaker.allows()
    clock.now += 1.0
    assert breaker.allows()


def test_a_probe_that_never_reports_back_lets_another_try_one_cooldown_later():
    clock = Clock()
    breaker = CircuitBreaker("t", 5.0, clock=clock)
    breaker.failed()
    clock.now += 5.0
    assert breaker.allows()
    clock.now += 4.9
    assert not breaker.allows()
    clock.now += 0.1
    assert breaker.allows()


def test_after_the_cooldown_exactly_one_of_many_threads_is_let_through():
    clock = Clock()
    breaker = CircuitBreaker("t", 5.0, clock=clock)
    breaker.failed()
    clock.now += 5.0
    start, allowed = threading.Barrier(32), []

    def caller() -> None:
        start.wait()
        allowed.append(breaker.allows())

    threads = [threading.Thread(target=caller) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 1


def test_mongodb_reads_fail_once_then_are_refused_by_the_shared_breaker_then_recover(settings):
    live = settings.MONGODB_URL
    settings.MONGODB_URL, settings.MONGODB_TIMEOUT_MS = f"mongodb://{DEAD}/portal", 200
    settings.MONGODB_BREAKER_SECONDS = 60.0
    reset_mongo_client()
    try:
        with pytest.raises(mongo.MongoUnavailable, match="read failed"):
            mongo.find(mongo.EVENTS, {})
        assert mongo_breaker.is_open
        with pytest.raises(mongo.MongoUnavailable, match="moments ago"):  # refused without trying
            mongo.count(mongo.EVENTS, {})
    finally:
        settings.MONGODB_URL = live
        reset_mongo_client()
    settings.MONGODB_BREAKER_SECONDS = 0.0  # the cooldown is over at once: the next call is the probe
    mongo_breaker.failed()
    assert mongo.count(mongo.EVENTS, {"_id": "no-such-event"}) == 0  # the probe reached the live server...
    assert not mongo_breaker.is_open  # ...and closed the breaker
    reset_mongo_client()


def test_progress_publishing_pauses_on_the_shared_breaker_and_resumes(settings):
    live = settings.PROGRESS_REDIS_URL
    event = progress.make_event(job_id=1, asset_id=987654, stage="hls", percent=5, status="running")
    dead = progress._publisher(f"redis://{DEAD}/0")
    assert isinstance(dead.breaker, CircuitBreaker)
    settings.PROGRESS_REDIS_URL = f"redis://{DEAD}/0"
    assert progress.publish(event) == progress.UNAVAILABLE  # tried, failed: never raises
    assert dead.breaker.is_open
    assert progress.publish(event) == progress.UNAVAILABLE  # refused at once
    settings.PROGRESS_REDIS_URL = live
    assert progress.publish(event) == progress.PUBLISHED
    assert not progress._publisher(live).breaker.is_open
