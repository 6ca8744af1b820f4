"""Reads from the PostgreSQL streaming replica, writes to the primary (SCALE=2; DATABASE_REPLICA_URL).

Only a request may read from the replica, and only a safe one (GET, HEAD, OPTIONS) outside a
transaction: tasks, commands and form posts read what they are about to write on the primary, where
it is current. Read-your-writes: an authenticated user's unsafe request pins that user's reads to the
primary for DATABASE_REPLICA_PIN_SECONDS (a timestamp in their session), so an editor never sees the
replica's older copy of what they just saved. Sessions themselves are always read on the primary.

Caches keyed by the content generation (whole pages, list fragments) must not be filled from a replica
that has not replayed the write that moved the generation: bump_generation first records the primary's
WAL position (content_committed), and a request reads from the replica only once the replica has
replayed that far. That one query, the first of the request, is also the replica's health check.

The router cannot know the replica is down until it tries: a failure of that query or of any replica
query opens the project's circuit breaker, so reads go to the primary for a cooldown and then one
request tries the replica again. A safe request whose replica query failed mid-way is run again once
on the primary: a replica going away costs a retry, never a 500.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from portal.core.breaker import CircuitBreaker

PRIMARY = DEFAULT_DB_ALIAS
REPLICA = "replica"
ROUTER = "portal.core.dbrouter.PrimaryReplicaRouter"
PIN_KEY = "_db_primary_until"  # in the session: epoch seconds until which reads stay on the primary
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PRIMARY_ONLY_APPS = frozenset({"sessions"})  # holds the pin itself; a new session must be found at once
COMMITTED_LSN_KEY = "db:committed-lsn"  # in the cache: the primary's WAL position at the last content change
LSN_SQL = "SELECT pg_wal_lsn_diff({}, '0/0')::bigint"  # an LSN as a number of bytes, comparable across servers

breaker = CircuitBreaker("database-replica", lambda: settings.DATABASE_REPLICA_COOLDOWN_SECONDS)


@dataclass
class _Reads:
    replica: bool  # may this request's reads use the replica?
    failed: bool = False  # a replica query failed during this request
    current: bool | None = None  # has the replica replayed the last content change? (asked once)


_reads: ContextVar[_Reads | None] = ContextVar("replica_reads", default=None)


def replica_in_use() -> bool:
    return ROUTER in settings.DATABASE_ROUTERS


@contextmanager
def replica_reads(*, allowed: bool = True) -> Iterator[None]:
    """Reads inside may go to the replica (what the middleware does for a safe, unpinned request)."""
    token = _reads.set(_Reads(replica=allowed))
    try:
        yield
    finally:
        _reads.reset(token)


def replica_failed() -> None:
    breaker.failed()
    state = _reads.get()
    if state is not None:
        state.failed = True


def content_committed() -> None:
    """Before the content generation moves (bump_generation, after a commit): the primary's WAL
    position now, which the replica must have replayed before it serves a read again."""
    if not replica_in_use():
        return
    try:
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute(LSN_SQL.format("pg_current_wal_insert_lsn()"))
            (position,) = cursor.fetchone()
    except DatabaseError:  # cannot say how far: no replica reads until the next change is recorded
        position = 2**62
    # Concurrent changes: the furthest one wins, up to a race of two writers within the same moment.
    if int(cache.get(COMMITTED_LSN_KEY) or 0) < position:
        cache.set(COMMITTED_LSN_KEY, position, timeout=None)


def _replica_current(state: _Reads) -> bool:
    if state.current is None:
        state.current = _ask_replica()
    return state.current


def _ask_replica() -> bool:
    if not breaker.allows():
        return False
    try:
        with connections[REPLICA].cursor() as cursor:  # a kept or new connection: this is its health check
            cursor.execute(LSN_SQL.format("pg_last_wal_replay_lsn()"))
            (replayed,) = cursor.fetchone()
    except DatabaseError:
        replica_failed()
        return False
    breaker.succeeded()
    # None: not a standby any more (promoted), so never current again.
    return replayed is not None and replayed >= int(cache.get(COMMITTED_LSN_KEY) or 0)


class PrimaryReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        state = _reads.get()
        if state is None or not state.replica or state.failed:
            return PRIMARY
        if model._meta.app_label in PRIMARY_ONLY_APPS or connections[PRIMARY].in_atomic_block:
            return PRIMARY  # inside a transaction, reads must see what it wrote (and lock with it)
        return REPLICA if _replica_current(state) else PRIMARY

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return PRIMARY

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == PRIMARY  # the replica follows the primary's schema by replication


def _watch_replica(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    try:
        return execute(sql, params, many, context)
    except (OperationalError, InterfaceError):  # gone, restarting, or a query cancelled by replay
        replica_failed()
        raise


def _on_connection_created(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    if connection.alias == REPLICA and _watch_replica not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_replica)


connection_created.connect(_on_connection_created, dispatch_uid="portal.core.dbrouter")


def pin_to_primary(request: HttpRequest) -> None:
    request.session[PIN_KEY] = time.time() + settings.DATABASE_REPLICA_PIN_SECONDS


def _pinned(request: HttpRequest) -> bool:
    # Only a visitor with a session cookie can be pinned; others' sessions are never opened here.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return float(request.session.get(PIN_KEY, 0)) > time.time()


class ReplicaReadsMiddleware:
    """After AuthenticationMiddleware. A no-op unless the router is installed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_in_use():
            return self.get_response(request)
        safe = request.method in SAFE_METHODS
        token = _reads.set(_Reads(replica=safe and not _pinned(request)))
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        if not safe and request.user.is_authenticated:
            pin_to_primary(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A safe request whose replica failed under it: the view once more, reading from the primary."""
        state = _reads.get()
        match = request.resolver_match
        if state is None or not state.failed or not isinstance(exception, DatabaseError) or match is None \
                or request.method not in SAFE_METHODS or getattr(request, "_replica_retried", False):
            return None
        request._replica_retried = True  # type: ignore[attr-defined]
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        return response
