"""Jobs fixtures: the real Redis for progress events and as the task broker, each in a database
of the tests' own (never the developer's db 2 and 3: a developer's worker must never receive a
test's job, nor a developer's open page a test's progress)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.conf import settings

from portal.jobs import progress

DEV_DATABASES = {"0", "2", "3"}  # cache, broker and progress of `make run`


def _test_url(env_name: str, default_db: int) -> str:
    url = os.environ.get(env_name) or f"{settings.REDIS_URL.rsplit('/', 1)[0]}/{default_db}"
    if url.rsplit("/", 1)[1] in DEV_DATABASES:
        url = f"{url.rsplit('/', 1)[0]}/{default_db}"
    return url


@pytest.fixture(autouse=True)
def progress_redis(settings: Any) -> Iterator[redis.Redis]:
    settings.PROGRESS_REDIS_URL = _test_url("PROGRESS_REDIS_URL", 13)
    client = redis.Redis.from_url(settings.PROGRESS_REDIS_URL)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(autouse=True)
def broker_redis(settings: Any) -> Iterator[redis.Redis]:
    """The broker is real Redis too: job_create really sends `processing.run`, into a database no
    worker consumes, where the tests read the message back."""
    settings.CELERY_BROKER_URL = _test_url("JOBS_TEST_BROKER_URL", 14)
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class Subscriber:
    """A real pub/sub subscriber; `next()` returns the next event as a dict (or fails the test)."""

    def __init__(self, client: redis.Redis, channel: str) -> None:
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.pubsub.get_message(timeout=1)  # the subscription's confirmation

    def next(self, timeout: float = 2.0) -> dict[str, Any]:
        message = self.pubsub.get_message(timeout=timeout)
        assert message is not None, "no progress event arrived"
        return json.loads(message["data"])

    def nothing(self, timeout: float = 0.3) -> bool:
        return self.pubsub.get_message(timeout=timeout) is None

    def close(self) -> None:
        self.pubsub.close()


@pytest.fixture
def subscribe(progress_redis: redis.Redis) -> Iterator[Callable[[str], Subscriber]]:
    made: list[Subscriber] = []

    def make(channel: str) -> Subscriber:
        made.append(Subscriber(progress_redis, channel))
        return made[-1]

    yield make
    for subscriber in made:
        subscriber.close()


@pytest.fixture
def queued_messages(broker_redis: redis.Redis) -> Callable[[str], list[dict[str, Any]]]:
    """The task messages waiting in one queue of the test broker (kombu's JSON envelope)."""

    def read(queue: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in broker_redis.lrange(queue, 0, -1)]

    return read


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """`with committed(): ...` runs the block's on-commit callbacks (publish, enqueue) at its end."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def last_state(progress_redis: redis.Redis) -> Callable[[int], dict[str, Any] | None]:
    def read(asset_id: int) -> dict[str, Any] | None:
        raw = progress_redis.get(progress.last_state_key(asset_id))
        return json.loads(raw) if raw else None

    return read
