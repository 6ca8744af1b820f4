"""The task broker as the jobs app sees it: enqueue by name, revoke, queue lengths, worker health.

Every call opens its connection from `settings.CELERY_BROKER_URL` at call time, with short
timeouts, so a dashboard never hangs on a dead broker and tests can point it at their own
Redis database. Queue lengths are read with LLEN of kombu's Redis keys: the queue's own name
for priority 0 and `<name>\\x06\\x16<priority>` for the other priority steps, as kombu's Redis
transport names them (`Channel._q_for_pri`); `unacked` is the hash of messages a worker holds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import redis
from django.conf import settings
from kombu import Connection, pools
from kombu.exceptions import KombuError
from kombu.transport.redis import PRIORITY_STEPS, Channel

from portal.core.tasks import TaskName
from portal.integrations import redis_client

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)

TASK_NAME = str(TaskName.PROCESSING_RUN)
TIMEOUT_S = 0.5
# The sweeper reads at most this many messages of a queue; a longer backlog is left for a later sweep.
SCAN_LIMIT = 10_000
# A broker hiccup at enqueue time is retried briefly; longer, and the editor's request would hang.
RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
UNACKED_KEY = "unacked"

# What a broken connection raises, whichever layer notices first.
BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuError, redis.RedisError, OSError)


class BrokerUnavailable(Exception):
    pass


class SendFailed(Exception):
    """`send_each` failed after sending its first `sent` tasks."""

    def __init__(self, sent: int) -> None:
        super().__init__(f"the broker failed after {sent} task(s) were sent")
        self.sent = sent


def celery_app() -> Celery:
    # Imported on first use, not at module import: workers.celery imports every task module
    # when it loads (autodiscover with force=True), and the processing task imports the
    # services that import this module, so a top-level import here would be a cycle.
    from workers.celery import app  # noqa: PLC0415 - see above

    return app


def queue_names() -> list[str]:
    return [queue.name for queue in celery_app().conf.task_queues or []]


@contextmanager
def _connection(*, pooled: bool = True) -> Iterator[Connection]:
    """A connection for the current CELERY_BROKER_URL. Pooled (kombu's pool) for sends: a request that
    queues a task reuses an open one (a new connection per send cost each request a handshake; the
    editor's publish sends two), and one that died with the broker is re-opened by send_task's retry.
    Broadcasts (ping, revoke) do not retry, so they take a fresh one: a pooled connection made before
    Redis restarted would fail them once."""
    conn = celery_app().connection_for_write(settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT_S)
    if not pooled:
        with conn:
            yield conn
        return
    with pools.connections[conn].acquire(block=True, timeout=TIMEOUT_S) as from_pool:
        yield from_pool


def enqueue(*, job_id: int, queue: str, task_id: str, name: str = TASK_NAME) -> None:
    """Send the job's task (`processing.run(job_id)` unless told) by name; the task lives in workers/,
    never imported here."""
    with _connection() as conn:
        celery_app().send_task(name, args=[job_id], queue=queue, task_id=task_id, connection=conn,
                               retry=True, retry_policy=RETRY_POLICY)


def send_each(*, name: str, queue: str, calls: Sequence[Sequence[object]]) -> None:
    """Send task `name` once per argument list, over one connection. For any app: the tasks live
    in workers/ and are sent by name, never imported by portal/. Raises SendFailed, which says how
    many were sent before the broker failed, so the caller knows which calls are left."""
    sent = 0
    try:
        with _connection() as conn:
            for args in calls:
                celery_app().send_task(name, args=list(args), queue=queue, connection=conn,
                                       retry=True, retry_policy=RETRY_POLICY)
                sent += 1
    except BROKER_ERRORS as error:
        raise SendFailed(sent) from error


def revoke(*, task_id: str) -> None:
    """Ask every worker to skip this task id (a queued task is then dropped when it is reached).

    Not `terminate=True`: killing a worker's child mid-transcode leaves temporary files and a
    half-written rendition; a running job sees its cancellation at its next progress report
    (services.job_progress returns False) and stops cleanly.
    """
    with _connection(pooled=False) as conn:
        celery_app().control.revoke(task_id, connection=conn)


@dataclass(frozen=True)
class QueueDepth:
    name: str
    waiting: int


@dataclass(frozen=True)
class BrokerStatus:
    reachable: bool
    queues: list[QueueDepth] = field(default_factory=list)
    reserved: int = 0  # delivered to a worker, not yet acknowledged (acks_late: running or prefetched)
    workers: list[str] = field(default_factory=list)
    error: str = ""


def _priority_keys(queue: str) -> list[str]:
    return [queue if step == 0 else f"{queue}{Channel.sep}{step}" for step in PRIORITY_STEPS]


def queue_depths() -> tuple[list[QueueDepth], int]:
    """LLEN of every queue (all priority steps) and HLEN of the unacked hash, in one round trip."""
    client = redis_client.client(settings.CELERY_BROKER_URL, socket_timeout=TIMEOUT_S,
                                 socket_connect_timeout=TIMEOUT_S)
    names = queue_names()
    try:
        pipe = client.pipeline(transaction=False)
        for name in names:
            for key in _priority_keys(name):
                pipe.llen(key)
        pipe.hlen(UNACKED_KEY)
        counts = pipe.execute()
    except redis.RedisError as error:
        raise BrokerUnavailable(str(error)) from error
    finally:
        client.close()
    steps = len(PRIORITY_STEPS)
    depths = [QueueDepth(name, sum(counts[i * steps:(i + 1) * steps])) for i, name in enumerate(names)]
    return depths, int(counts[-1])


def _task_id(raw: bytes, *, wrapped: bool) -> str:
    """The task id of one stored message (an `unacked` entry wraps it: [message, exchange, key])."""
    try:
        message = json.loads(raw)
        return str((message[0] if wrapped else message)["headers"]["id"])
    except (ValueError, TypeError, KeyError, IndexError):
        return ""  # not a Celery task message: nothing of ours


def task_ids_held(*, queues: Sequence[str]) -> dict[str, set[str] | None]:
    """Per queue, the ids of the tasks the broker still holds for it: waiting (every priority step)
    or delivered to a worker and not yet acknowledged (shared `unacked` hash, counted for every
    queue). None for a queue longer than SCAN_LIMIT: its messages are not read."""
    client = redis_client.client(settings.CELERY_BROKER_URL, socket_timeout=TIMEOUT_S * 4,
                                 socket_connect_timeout=TIMEOUT_S)
    try:
        unacked = {_task_id(raw, wrapped=True) for raw in client.hvals(UNACKED_KEY)}
        held: dict[str, set[str] | None] = {}
        for queue in queues:
            keys = _priority_keys(queue)
            if sum(client.llen(key) for key in keys) > SCAN_LIMIT:
                held[queue] = None
                continue
            held[queue] = unacked | {_task_id(raw, wrapped=False) for key in keys
                                     for raw in client.lrange(key, 0, SCAN_LIMIT)}
    except redis.RedisError as error:
        raise BrokerUnavailable(str(error)) from error
    finally:
        client.close()
    return held


def workers_answering(timeout: float = TIMEOUT_S) -> list[str]:
    """Names of the workers that answer a ping within the timeout (waits the whole timeout)."""
    try:
        with _connection(pooled=False) as conn:
            replies = celery_app().control.ping(timeout=timeout, connection=conn)
    except BROKER_ERRORS as error:
        raise BrokerUnavailable(str(error)) from error
    return sorted(name for reply in replies or [] for name in reply)


def broker_status() -> BrokerStatus:
    """What the dashboard shows; a dead broker is a status, never an exception."""
    try:
        queues, reserved = queue_depths()
    except BrokerUnavailable as error:
        log.warning("jobs dashboard: broker unreachable: %s", error)
        return BrokerStatus(reachable=False, error=str(error))
    try:
        workers = workers_answering()
    except BrokerUnavailable as error:
        log.warning("jobs dashboard: worker ping failed: %s", error)
        return BrokerStatus(reachable=False, queues=queues, reserved=reserved, error=str(error))
    return BrokerStatus(reachable=True, queues=queues, reserved=reserved, workers=workers)
