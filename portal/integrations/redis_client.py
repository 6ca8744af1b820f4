"""Redis clients for the portal's own Redis work (progress pub/sub, the broker's queue lengths), from
one URL: `redis://host:port/db` connects there; `sentinel://host:port/db;sentinel://…` (what settings
make of every Redis URL when REDIS_SENTINELS is set) asks those sentinels for the master named
REDIS_SENTINEL_MASTER. A Sentinel-managed pool asks again on each new connection, and drops
connections to a master that became a replica, so a client made before a failover follows it.

The cache and Celery take the same URLs through their own Sentinel support (django-redis's
SentinelClient with the connection factory below, kombu's and Celery's `sentinel://` transports;
config/settings/base.py).
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any, ClassVar, cast
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio as aredis
from django.conf import settings
from django_redis.pool import ConnectionFactory
from django_redis.pool import SentinelConnectionFactory as DjangoRedisSentinelConnectionFactory
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel

# Asking a sentinel is a discovery step on each new connection: a dead sentinel must be skipped quickly.
SENTINEL_TIMEOUT_S = 0.5


def is_sentinel(url: str) -> bool:
    return url.startswith("sentinel://")


def _parts(url: str) -> tuple[list[tuple[str, int]], dict[str, Any]]:
    """The sentinels' addresses and the master's connection options (db, password) of a sentinel URL."""
    chunks = [urlsplit(chunk) for chunk in url.split(";")]
    first = chunks[0]
    options: dict[str, Any] = {"db": int(first.path.strip("/") or 0)}
    if first.password:
        options["password"] = unquote(first.password)
    if first.username:
        options["username"] = unquote(first.username)
    return [(chunk.hostname or "127.0.0.1", chunk.port or 26379) for chunk in chunks], options


@cache
def _sentinel(addresses: tuple[tuple[str, int], ...]) -> Sentinel:
    # One per process and set of sentinels: its connections to them are reused by every client.
    return Sentinel(list(addresses), sentinel_kwargs={"socket_timeout": SENTINEL_TIMEOUT_S,
                                                      "socket_connect_timeout": SENTINEL_TIMEOUT_S})


def client(url: str, **options: Any) -> redis.Redis:
    """A client of the Redis `url` names (through its sentinels for a sentinel URL); close() it when done."""
    if not is_sentinel(url):
        return redis.Redis.from_url(url, **options)
    addresses, master = _parts(url)
    return cast("redis.Redis", _sentinel(tuple(addresses)).master_for(settings.REDIS_SENTINEL_MASTER,
                                                                        **master, **options))


def async_client(url: str, **options: Any) -> aredis.Redis:
    """The asyncio twin of client(), bound to the running event loop; close it with aclose()."""
    if not is_sentinel(url):
        return aredis.Redis.from_url(url, **options)
    addresses, master = _parts(url)
    sentinel = AsyncSentinel(addresses, sentinel_kwargs={"socket_timeout": SENTINEL_TIMEOUT_S,
                                                         "socket_connect_timeout": SENTINEL_TIMEOUT_S})
    return cast("aredis.Redis", sentinel.master_for(settings.REDIS_SENTINEL_MASTER, **master, **options))


async def aclose(connection: aredis.Redis) -> None:
    """Close an async client and, for a Sentinel-managed one, its own connections to the sentinels."""
    await cast("Any", connection).aclose()
    manager = getattr(connection.connection_pool, "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", []):
        await cast("Any", sentinel).aclose()


class SentinelConnectionFactory(DjangoRedisSentinelConnectionFactory):
    """django-redis's, with one Sentinel manager per process and set of options. Its own builds a new
    manager (three Redis clients) for every cache object, about 5 ms, and the web process makes a cache
    object per request (bench/redis_failover.py: a third of the direct URL's cached pages per second);
    the connection pools were already shared."""

    _sentinel: Sentinel  # django-redis's attribute, which it leaves untyped
    _managers: ClassVar[dict[str, Sentinel]] = {}
    _lock = threading.Lock()

    def __init__(self, options: dict[str, Any]) -> None:
        options.setdefault("CONNECTION_POOL_CLASS", "redis.sentinel.SentinelConnectionPool")
        key = repr(sorted((name, repr(value)) for name, value in options.items()))
        manager = self._managers.get(key)
        if manager is None:
            super().__init__(options)
            with self._lock:
                self._sentinel = self._managers.setdefault(key, self._sentinel)
            return
        ConnectionFactory.__init__(self, options)
        self._sentinel = manager
