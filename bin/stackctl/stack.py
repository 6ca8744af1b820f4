"""The whole stack: which servers, in what order, and the operations over them."""

from __future__ import annotations

import importlib
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from . import config
from .service import Service, StackError, log

# module name -> class name, in start order (a dependency comes before its dependents).
REGISTRY = {
    "postgres": "Postgres",
    "postgres-replica": "postgres.PostgresReplica",
    "redis": "Redis",
    # SCALE=2: a replica of redis and three sentinels watching the pair (services/redis.py).
    "redis-replica": "redis.RedisReplica",
    "sentinel1": "redis.Sentinel1",
    "sentinel2": "redis.Sentinel2",
    "sentinel3": "redis.Sentinel3",
    "memcached": "Memcached",
    "opensearch": "OpenSearch",
    "opensearch2": "opensearch.OpenSearch2",  # SCALE=2: a data node joining opensearch's cluster
    "elasticsearch": "Elasticsearch",
    "ferretdb": "FerretDB",
    "s3": "S3",
    # "module.Class" where one module holds several; these three run only with LB=1.
    "web1": "web.Web1",
    "web2": "web.Web2",
    "stream": "web.Stream",
    "nginx": "Nginx",
    # SCALE=2: two worker hosts sharing only PostgreSQL, Redis and S3 (services/workers.py).
    "worker-a": "workers.WorkerA",
    "worker-b": "workers.WorkerB",
}
LB_ONLY = frozenset({"web1", "web2", "stream"})
# SCALE=2: the second instance of each tier beside the first (issue "two of every tier"); each tier's
# module adds its names here and to REGISTRY.
SCALE_ONLY: frozenset[str] = frozenset({"postgres-replica", "redis-replica", "sentinel1", "sentinel2", "sentinel3",
                                         "worker-a", "worker-b", "opensearch2"})
# Started only when named (`bin/stack up elasticsearch`); a plain `down` stops them, status lists them when running.
OPTIONAL = frozenset({"elasticsearch"})


def known() -> list[str]:
    return [
        name
        for name in REGISTRY
        if (config.LB or name not in LB_ONLY) and (config.SCALE >= 2 or name not in SCALE_ONLY)
    ]


def default() -> list[str]:
    """What a plain `up` or `restart` starts."""
    return [name for name in known() if name not in OPTIONAL]


def services(names: list[str] | None = None) -> list[Service]:
    known_names = known()
    unknown = set(names or []) - set(known_names)
    if unknown:
        hint = " (web1, web2 and stream need LB=1)" if unknown & LB_ONLY else ""
        hint += " (second instances need SCALE=2)" if unknown & SCALE_ONLY else ""
        raise StackError(f"unknown server(s): {', '.join(sorted(unknown))}; known: {', '.join(known_names)}{hint}")
    chosen = [name for name in known_names if not names or name in names]
    found = []
    for name in chosen:
        module, _, class_name = REGISTRY[name].rpartition(".")
        found.append(getattr(importlib.import_module(f"stackctl.services.{module or name}"), class_name)())
    return found


def service(name: str) -> Service:
    return services([name])[0]


def ensure_debian_packages() -> None:
    wanted = config.VERSIONS["DEBIAN_PACKAGES"].split()
    query = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *wanted],
                           capture_output=True, text=True)
    present = {line.split()[0] for line in query.stdout.splitlines() if line.endswith(" installed")}
    missing = [name for name in wanted if name not in present]
    if not missing:
        return
    log(f"installing Debian packages: {' '.join(missing)} (first run only)")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]):
        result = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True)
        if result.returncode != 0:
            raise StackError(f"{' '.join(argv[:2])} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def install(chosen: list[Service]) -> None:
    ensure_debian_packages()
    for server in chosen:
        if not server.installed():
            started = time.monotonic()
            log(f"{server.name}: installing (first run only)")
            server.install()
            log(f"{server.name}: installed in {time.monotonic() - started:.0f}s")


def up(names: list[str] | None = None) -> None:
    """Start what is not running, in parallel where dependencies allow; a no-op when all are up."""
    chosen = services(names or default())
    install(chosen)
    started = time.monotonic()
    by_name: dict[str, Future[None]] = {}

    def start(server: Service) -> None:
        for dependency in server.depends_on:
            if dependency in by_name:
                by_name[dependency].result()
        if server.running():
            return
        log(f"{server.name}: starting on {config.HOST}:{server.port}")
        t0 = time.monotonic()
        server.start()
        log(f"{server.name}: ready in {time.monotonic() - t0:.1f}s")

    with ThreadPoolExecutor(max_workers=len(chosen)) as pool:
        for server in chosen:
            by_name[server.name] = pool.submit(start, server)
    errors = [str(future.exception()) for future in by_name.values() if future.exception()]
    if errors:
        raise StackError("\n\n".join(errors))
    log(f"all up ({', '.join(s.name for s in chosen)}) in {time.monotonic() - started:.1f}s")


def down(names: list[str] | None = None) -> None:
    for server in reversed(services(names)):
        if server.running():
            log(f"{server.name}: stopping")
        server.stop()


def restart(names: list[str]) -> None:
    down(names)
    up(names)


def status() -> list[tuple[str, str, str, str]]:
    rows = []
    for server in services():
        if server.name in OPTIONAL and not server.running():
            continue
        state = "up" if server.running() and _ready(server) else "down"
        try:
            version = server.version() if server.installed() else "not installed"
        except Exception:  # noqa: BLE001 - status must print whatever it can
            version = "?"
        rows.append((server.name, version, server.url, state))
    return rows


def _ready(server: Service) -> bool:
    try:
        return server.ready()
    except Exception:  # noqa: BLE001
        return False


def rolling_restart(names: tuple[str, ...] = ("web1", "web2"), timeout: float = 60.0) -> None:
    """Restart the balanced instances one at a time: SIGTERM (in-flight requests finish), start,
    wait until it is ready (/readyz) and the balancer sends it requests again, then the next. With
    at least one instance always serving and nginx retrying refused connections, no request fails."""
    instances = services(list(names))
    for server in instances:
        others = [other.name for other in instances if other is not server and not _ready(other)]
        if others:  # stopping this one now would leave nobody serving
            raise StackError(f"not restarting {server.name}: {', '.join(others)} not ready; start it first")
        log(f"{server.name}: graceful stop")
        server.stop()
        server.start()
        _wait_for(f"{server.url}/readyz", server.name, timeout, via_balancer=False)
        if service("nginx").running():
            _wait_for(f"{config.LB_URL}/healthz", server.name, timeout, via_balancer=True)
        log(f"{server.name}: back in the pool")


def _wait_for(url: str, name: str, timeout: float, *, via_balancer: bool) -> None:
    """Until `url` answers 200 (from instance `name`, when asking the balancer)."""
    context = ssl.create_default_context(cafile=str(config.VAR / "nginx" / "tls" / "balancer.crt")) \
        if via_balancer else None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                if response.status == 200 and (not via_balancer or response.headers["X-Served-By"] == name):
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise StackError(f"{name}: {url} did not answer within {timeout:.0f}s")


@contextmanager
def stopped(name: str) -> Iterator[Service]:
    """Stop one real server for the duration of a block, and bring it back whatever happened."""
    server = service(name)
    server.stop()
    try:
        yield server
    finally:
        server.start()
