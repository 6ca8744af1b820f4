"""Queued tasks survive a crash of Redis: the stack's Redis writes an append-only file, so what was
acknowledged before a SIGKILL is there after `up`. On a Redis of its own (own var/ and port)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from stackctl import config

PORT = config.PORTS.redis + 13  # test_lifecycle's drill uses +7


def stack_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(config.ROOT / "bin" / "stack"), *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def own_redis() -> Iterator[dict[str, str]]:
    config.VAR.mkdir(exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="redis-drill-", dir=config.VAR))
    env = {**os.environ, "STACK_VAR_DIR": str(var), "STACK_BUILD_DIR": str(config.BUILD),
           "STACK_REDIS_PORT": str(PORT)}
    try:
        started = stack_cli(env, "up", "redis")
        assert started.returncode == 0, started.stdout + started.stderr
        yield env
    finally:
        stack_cli(env, "down", "redis")
        shutil.rmtree(var, ignore_errors=True)


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the append-only file never got the writes"
        time.sleep(0.1)


def test_a_queued_task_and_a_key_survive_sigkill_and_restart(own_redis: dict[str, str]) -> None:
    client = redis.Redis(host=config.HOST, port=PORT, db=14)
    client.lpush("media", b'{"task": "processing.run", "args": [42]}')  # what Celery's broker queue holds
    client.set("jobs:last", "42")
    client.close()
    # appendfsync everysec: a write reaches the file within about a second (Redis may hold it up to two
    # while a background fsync runs); what the file holds is what a SIGKILL cannot take away.
    var = Path(own_redis["STACK_VAR_DIR"])
    wait_for(lambda: any(b"jobs:last" in path.read_bytes() for path in var.rglob("*.aof")))

    assert stack_cli(own_redis, "kill", "redis").returncode == 0  # SIGKILL: no shutdown save
    recovered = stack_cli(own_redis, "up", "redis")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "redis: ready" in recovered.stdout

    client = redis.Redis(host=config.HOST, port=PORT, db=14)
    assert client.lrange("media", 0, -1) == [b'{"task": "processing.run", "args": [42]}']
    assert client.get("jobs:last") == b"42"
    assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
    client.close()
