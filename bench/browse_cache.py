"""Does the fragment cache make /browse/ nearly as cheap as a constant response?

One run, one gunicorn configuration (config/gunicorn.py), over loopback:
  1. SQL queries of /browse/ and of an asset page at 10 and at 200 listed assets (cache cleared),
     counted in this process with Django's test client against a throwaway database;
  2. Redis commands one warm /browse/ request sends, read with MONITOR on the bench's database;
  3. requests/s of warm /browse/ divided by requests/s of /healthz (constant body, same
     middleware, same gunicorn), the median of alternating wrk rounds.

Run it with `make bench`; bench/README.md says what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import runpy
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from common import (
    HOST,
    ROOT,
    database_recreate,
    django_setup,
    free_port,
    gunicorn,
    http_get,
    log_path,
    machine,
    stop,
)

BENCH_DB = "portal_bench"
# A Redis db nothing else uses (2 is the developers' Celery broker; the tests take theirs below 40).
BENCH_CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:16379/60")
django_setup(BENCH_DB, CACHE_URL=BENCH_CACHE_URL, CACHE_KEY_PREFIX="bench")

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from portal.accounts.models import User  # noqa: E402
from portal.core.fragments import bump_generation  # noqa: E402
from portal.library.models import Asset, Collection, Kind, Status, Tag, Visibility  # noqa: E402

ASSET_COUNTS = (10, 200)
GOAL_RATIO = 0.6
GOAL_ROUND_TRIPS = 1  # at most: a page a process remembers asks for the generation once per trust window
# Sent once per new Redis connection (redis-py's handshake), not per request.
CONNECTION_SETUP = {"SELECT", "CLIENT", "HELLO", "AUTH"}
GUNICORN_LOG = log_path("browse-gunicorn")


# --- the machine, the database, the data -------------------------------------------------------


def load() -> str:
    """The machine's load averages, as `uptime` prints them."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def gunicorn_config() -> dict[str, Any]:
    """config/gunicorn.py as it resolves in this environment: what the server really runs with."""
    return runpy.run_path(str(ROOT / "config" / "gunicorn.py"))


def assets_top_up(total: int) -> None:
    """Listed assets up to `total`, each with an owner, three tags and a collection, like real content.

    Bulk inserts rather than the services: seeding is not what is measured, and one-by-one
    writes would eat the time budget.
    """
    existing = Asset.objects.listed().count()
    if existing >= total:
        return
    with transaction.atomic():
        owner, _ = User.objects.get_or_create(username="bench-owner")
        tags = [Tag.objects.get_or_create(slug=f"tag-{n}", defaults={"name": f"tag {n}"})[0] for n in range(12)]
        collections = [
            Collection.objects.get_or_create(slug=f"set-{n}", defaults={"title": f"Set {n}", "owner": owner})[0]
            for n in range(4)
        ]
        now = timezone.now()
        kinds = list(Kind)
        assets = Asset.objects.bulk_create(
            Asset(kind=kinds[n % len(kinds)], title=f"Bench asset {n}", slug=f"bench-asset-{n}", owner=owner,
                  description="Seeded by bench/browse_cache.py.", status=Status.PUBLISHED,
                  visibility=Visibility.PUBLIC, published_at=now - timedelta(minutes=n))
            for n in range(existing, total)
        )
        Asset.tags.through.objects.bulk_create(
            Asset.tags.through(asset_id=asset.pk, tag_id=tags[(asset.pk + k) % len(tags)].pk)
            for asset in assets for k in range(3)
        )
        Asset.collections.through.objects.bulk_create(
            Asset.collections.through(asset_id=asset.pk, collection_id=collections[asset.pk % len(collections)].pk)
            for asset in assets
        )
        transaction.on_commit(bump_generation)  # what a real publish does


# --- 1. SQL queries per page, counted in this process -------------------------------------------


def queries(client: Client, path: str, *, cold: bool = True) -> int:
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    return len(captured)


def query_counts() -> dict[str, list[int]]:
    client = Client(HTTP_HOST=HOST)  # an allowed host; "testserver" is allowed only under the test runner
    rows: dict[str, list[int]] = {"/browse/": [], "/browse/ (warm cache)": [], "/assets/<slug>/": []}
    for total in ASSET_COUNTS:
        assets_top_up(total)
        slug = Asset.objects.listed().order_by("pk").values_list("slug", flat=True).first()
        rows["/browse/"].append(queries(client, "/browse/"))
        rows["/browse/ (warm cache)"].append(queries(client, "/browse/", cold=False))  # filled by the line above
        rows["/assets/<slug>/"].append(queries(client, f"/assets/{slug}/"))
    return rows


# --- gunicorn ---------------------------------------------------------------------------------


@contextlib.contextmanager
def web_server() -> Iterator[tuple[str, int]]:
    """The Procfile's web process on a free loopback port, and its process group (the master's pid);
    stopped on exit, Ctrl-C or SIGTERM."""
    port = free_port()
    server = gunicorn("browse-gunicorn", port)
    try:
        yield f"http://{HOST}:{port}", server.pid
    finally:
        stop(server)


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) a process group has used so far: its live members, plus the
    children its leader has reaped (recycled workers). Other work on the machine slows the
    requests/s of both URLs, but hardly moves this."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()  # from field 3, state
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
            if int(entry.name) == pgid:
                ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: the reaped workers
    return ticks / os.sysconf("SC_CLK_TCK")


def worker_restarts(log: Path) -> int:
    return log.read_text().count("Autorestarting worker")


# --- 2. Redis commands per warm request --------------------------------------------------------


@dataclass(frozen=True)
class RedisUse:
    per_request: dict[str, float]  # command -> calls per request
    mget_keys: int  # keys in the largest MGET seen
    setup: int  # handshake commands of new connections (a worker's first request), not per request


def redis_use(url: str, requests: int) -> RedisUse:
    """What the web processes send to the bench's Redis db while serving `requests` sequential GETs.

    MONITOR rather than INFO commandstats: the Redis server is shared with the test suite and
    other developers, and MONITOR shows which database each command went to. Run it while no
    load test is in flight, or requests still queued from wrk would be counted too.
    """
    client = redis.Redis.from_url(BENCH_CACHE_URL, socket_timeout=30)  # never hang on a silent stream
    db = int(client.connection_pool.connection_kwargs.get("db", 0))
    client.ping()  # open our own connection now, so its handshake is not inside the window
    sentinel = f"bench-done-{os.getpid()}"
    failures: list[BaseException] = []

    def drive() -> None:
        try:
            for _ in range(requests):
                http_get(url)
        except Exception as error:  # noqa: BLE001 - re-raised in the main thread below
            failures.append(error)
        finally:
            client.echo(sentinel)  # closes our window in the MONITOR stream, even after a failure

    seen: Counter[str] = Counter()
    mget_keys = 0
    with client.monitor() as monitor:  # subscribed once this returns: no command can slip past
        driver = threading.Thread(target=drive, daemon=True)
        driver.start()
        for event in monitor.listen():
            command = str(event["command"])
            if sentinel in command:
                break
            if event["db"] == db:
                name, *args = command.split(" ")
                seen[name.upper()] += 1
                if name.upper() == "MGET":
                    mget_keys = max(mget_keys, len(args))
        driver.join()
    if failures:
        raise failures[0]
    setup = sum(n for name, n in seen.items() if name in CONNECTION_SETUP)
    per_request = {name: n / requests for name, n in seen.most_common() if name not in CONNECTION_SETUP}
    return RedisUse(per_request=per_request, mget_keys=mget_keys, setup=setup)


# --- 3. throughput -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    rps: float
    errors: int
    requests: int = 0
    server_cpu_s: float = 0.0  # what the web processes spent serving them


def wrk(url: str, *, seconds: int, connections: int, server: int = 0) -> WrkResult:
    cpu_before = group_cpu_seconds(server) if server else 0.0
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", url]
    output = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if rps is None:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    # wrk prints these two lines only when something went wrong.
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    statuses = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = sum(map(int, sockets.groups())) if sockets else 0
    done = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    return WrkResult(rps=float(rps.group(1)), errors=errors + (int(statuses.group(1)) if statuses else 0),
                     requests=int(done.group(1)) if done else 0,
                     server_cpu_s=group_cpu_seconds(server) - cpu_before if server else 0.0)


def throughput(base: str, server: int, *, rounds: int, seconds: int, connections: int) -> dict[str, list[WrkResult]]:
    """Alternate the two URLs so drift (CPU boost, a neighbour's job) hits both alike."""
    paths = ("/healthz", "/browse/")
    for path in paths:  # warm every worker and thread: imports, templates, connection pools
        wrk(base + path, seconds=2, connections=connections)
    results: dict[str, list[WrkResult]] = {path: [] for path in paths}
    for _ in range(rounds):
        for path in paths:
            results[path].append(wrk(base + path, seconds=seconds, connections=connections, server=server))
    return results


# --- the report --------------------------------------------------------------------------------


def print_queries(rows: dict[str, list[int]]) -> None:
    print("\n1. SQL queries per request (cache cleared before each, except the warm row)")
    print(f"   {'page':<24}" + "".join(f"{f'{n} assets':>12}" for n in ASSET_COUNTS))
    for page, counts in rows.items():
        print(f"   {page:<24}" + "".join(f"{count:>12}" for count in counts))


def print_redis(use: RedisUse, requests: int) -> None:
    total = sum(use.per_request.values())
    detail = ", ".join(f"{name} {n:.2f}" for name, n in use.per_request.items()) or "none"
    verdict = "meets" if total <= GOAL_ROUND_TRIPS + 0.005 else "MISSES"
    print(f"\n2. Redis round trips per warm /browse/ request ({requests} sequential requests): {total:.2f}")
    print(f"   {detail}; largest MGET: {use.mget_keys} keys; "
          f"plus {use.setup} connection set-up commands (SELECT; once per new connection)")
    print(f"   {verdict} the design goal of at most {GOAL_ROUND_TRIPS} (one MGET; none while the process trusts "
          "its last generation, PAGE_MEMO_TRUST_SECONDS)")


def print_throughput(results: dict[str, list[WrkResult]], *, seconds: int, connections: int, restarts: int) -> None:
    rounds = len(results["/browse/"])
    print(f"\n3. Throughput: wrk -t2 -c{connections} -d{seconds}s, {rounds} alternating rounds, requests/s")
    headings = "".join(f"{f'round {i + 1}':>10}" for i in range(rounds))
    print(f"   {'url':<10}{headings}{'median':>10}{'errors':>8}")
    medians: dict[str, float] = {}
    for path, runs in results.items():
        medians[path] = statistics.median(run.rps for run in runs)
        cells = "".join(f"{run.rps:>10.0f}" for run in runs)
        print(f"   {path:<10}{cells}{medians[path]:>10.0f}{sum(run.errors for run in runs):>8}")
    ratio = medians["/browse/"] / medians["/healthz"]
    verdict = "meets" if ratio >= GOAL_RATIO else "BELOW"
    print(f"   ratio browse/healthz = {ratio:.2f}  ({verdict} the goal of >= {GOAL_RATIO})")
    cpu = {path: 1e6 * sum(r.server_cpu_s for r in runs) / max(1, sum(r.requests for r in runs))
           for path, runs in results.items()}
    print(f"   CPU per request in the web processes: /healthz {cpu['/healthz']:.0f} µs, "
          f"/browse/ {cpu['/browse/']:.0f} µs; healthz/browse = {cpu['/healthz'] / cpu['/browse/']:.2f} "
          "(little moved by other work on the machine)")
    print(f"   gunicorn worker restarts (max_requests) during the load test: {restarts}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk rounds per URL (default 3)")
    parser.add_argument("--seconds", type=int, default=8, help="duration of one wrk round (default 8)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--redis-requests", type=int, default=50, help="requests watched with MONITOR (default 50)")
    return parser.parse_args()


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through web_server()'s finally, which stops the server


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    started = time.monotonic()
    conf = gunicorn_config()
    print(f"Browse cache benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"load:    {load()} (before; other work on the machine skews both URLs, the ratio less)")
    print(f"server:  gunicorn -c config/gunicorn.py: {conf['workers']} workers x {conf['threads']} threads "
          f"({conf['worker_class']}), max_requests {conf['max_requests']} + up to {conf['max_requests_jitter']}; "
          "DEBUG off; "
          f"database {BENCH_DB}, cache {BENCH_CACHE_URL}; page memo {settings.PAGE_MEMO_PAGES} pages per process, "
          f"generation trusted {settings.PAGE_MEMO_TRUST_SECONDS:g} s")

    database_recreate(BENCH_DB)
    cache.clear()
    print_queries(query_counts())  # leaves ASSET_COUNTS[-1] listed assets for the server
    bump_generation()  # the clears above removed it; a live site has one from its first write

    with web_server() as (base, server):
        for _ in range(3):  # fill the fragment and facet cache: from here on every request is warm
            http_get(f"{base}/browse/")
        print_redis(redis_use(f"{base}/browse/", args.redis_requests), args.redis_requests)
        restarts_before = worker_restarts(GUNICORN_LOG)
        results = throughput(base, server, rounds=args.rounds, seconds=args.seconds, connections=args.connections)
        restarts = worker_restarts(GUNICORN_LOG) - restarts_before
        print_throughput(results, seconds=args.seconds, connections=args.connections, restarts=restarts)
    connection.close()
    print(f"load:    {load()} (after)")
    print(f"\ndone in {time.monotonic() - started:.0f}s; gunicorn's log: {GUNICORN_LOG.relative_to(ROOT)}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # gunicorn is already stopped by then (see web_server())
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
