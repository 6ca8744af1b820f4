"""Does the fragment cache make /browse/ nearly as cheap as a constant response?

One run, one gunicorn configuration, over loopback:
  1. SQL queries of /browse/ and an asset page at 10 and at 200 listed assets (cache cleared),
     counted in this process with Django's test client against a throwaway database;
  2. Redis commands one warm /browse/ request sends (read from MONITOR, this database only);
  3. requests/s of warm /browse/ divided by requests/s of /healthz (constant body, same
     middleware, same gunicorn), median of alternating wrk rounds.

Run it with `make bench` (or `.venv/bin/python bench/browse_cache.py --help`). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "portal_bench"
# The server URLs of the stack (bin/stack), overridable like the settings' own defaults.
ADMIN_DB_URL = os.environ.get("DATABASE_URL", "postgres://portal:portal@127.0.0.1:15432/portal")
BENCH_DB_URL = urlunsplit(urlsplit(ADMIN_DB_URL)._replace(path=f"/{BENCH_DB}"))
BENCH_CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:16379/2")  # a Redis db nothing else uses
# Development mode without DEBUG: production's code paths (cached templates, no debug toolbar of
# queries) without production's mandatory secret key and HTTPS redirect, which would 301 every request.
BENCH_ENV = {
    "DJANGO_ENV": "development",
    "DJANGO_DEBUG": "false",
    "DATABASE_URL": BENCH_DB_URL,
    "CACHE_URL": BENCH_CACHE_URL,
    "CACHE_KEY_PREFIX": "bench",
    "LOG_LEVEL": "WARNING",
}
os.environ.update(BENCH_ENV)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, str(ROOT))

import django  # noqa: E402 - the environment above must be in place before settings load

django.setup()

import psycopg  # noqa: E402
import redis  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from psycopg import sql  # noqa: E402

from portal.accounts.models import User  # noqa: E402
from portal.core.fragments import bump_generation  # noqa: E402
from portal.library.models import Asset, Collection, Kind, Status, Tag, Visibility  # noqa: E402

GOAL_RATIO = 0.6
GOAL_ROUND_TRIPS = 1.0
ASSET_COUNTS = (10, 200)
HOST = "127.0.0.1"


# --- the machine and the database -------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0]
    return (f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, Django {django.get_version()}, {wrk}")


def database_recreate() -> None:
    """A fresh database per run, so earlier runs and the developer's data never skew the counts."""
    connection.close()
    with psycopg.connect(ADMIN_DB_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    call_command("migrate", interactive=False, verbosity=0)


def assets_top_up(total: int) -> None:
    """Listed assets up to `total`, each with an owner, tags and a collection like real content.

    Bulk inserts rather than the services: the seeding is not what is measured, and a minute of
    one-by-one writes would eat the time budget.
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
        transaction.on_commit(bump_generation)


# --- SQL queries per page, in this process ------------------------------------------------------


def queries(client: Client, path: str, *, cold: bool = True) -> int:
    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    return len(captured)


def query_counts() -> dict[str, list[int]]:
    client = Client(HTTP_HOST=HOST)  # an allowed host: this is not the test runner, "testserver" is not
    rows: dict[str, list[int]] = {"/browse/": [], "/browse/ (warm cache)": [], "/assets/<slug>/": []}
    for total in ASSET_COUNTS:
        assets_top_up(total)
        detail = Asset.objects.listed().order_by("pk").values_list("slug", flat=True).first()
        rows["/browse/"].append(queries(client, "/browse/"))
        rows["/browse/ (warm cache)"].append(queries(client, "/browse/", cold=False))  # filled just above
        rows["/assets/<slug>/"].append(queries(client, f"/assets/{detail}/"))
    return rows


# --- gunicorn ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def gunicorn(log: Path) -> Iterator[str]:
    """The Procfile's web process on a free loopback port; stopped on exit, Ctrl-C or SIGTERM."""
    port = free_port()
    env = {**os.environ, "GUNICORN_BIND": f"{HOST}:{port}", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4"}
    command = [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi:application", "-c", "config/gunicorn.py"]
    with log.open("w") as out:
        # Its own process group: a terminal's Ctrl-C reaches only us, and we stop master and workers together.
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        base = f"http://{HOST}:{port}"
        wait_until_up(base, server, log)
        yield base
    finally:
        stop(server)


def wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            if fetch(f"{base}/healthz") == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /healthz within {timeout_s:.0f}s:\n{log.read_text()[-3000:]}")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)  # the group we created: the master and its workers
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def fetch(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
        return int(response.status)


# --- Redis round trips per warm request --------------------------------------------------------


def redis_commands_per_request(url: str, requests: int) -> dict[str, float]:
    """Commands the web processes send to the bench's Redis db per request, read with MONITOR.

    MONITOR rather than INFO commandstats: the Redis server is shared with the test suite and other
    developers, and MONITOR tells the bench's database apart from theirs.
    """
    client = redis.Redis.from_url(BENCH_CACHE_URL)
    db = int(client.connection_pool.connection_kwargs.get("db", 0))
    sentinel = f"bench-done-{os.getpid()}"
    failures: list[BaseException] = []

    def drive() -> None:
        try:
            for _ in range(requests):
                fetch(url)
        except Exception as error:  # noqa: BLE001 - re-raised in the main thread below
            failures.append(error)
        finally:
            client.echo(sentinel)  # ends our window in the MONITOR stream, even after a failure

    seen: Counter[str] = Counter()
    with client.monitor() as monitor:  # subscribed once this returns: no command can slip past
        driver = threading.Thread(target=drive, daemon=True)
        driver.start()
        for event in monitor.listen():
            command = str(event["command"])
            if sentinel in command:
                break
            if event["db"] == db:
                seen[command.split(" ", 1)[0].upper()] += 1
        driver.join()
    if failures:
        raise failures[0]
    return {name: count / requests for name, count in seen.most_common()}


# --- throughput ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    rps: float
    errors: int


def wrk(url: str, *, seconds: int, connections: int) -> WrkResult:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", url]
    output = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if rps is None:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    # wrk prints these lines only when they are not zero.
    socket_errors = re.search(r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output,
                              re.MULTILINE)
    bad_status = re.search(r"^\s*Non-2xx or 3xx responses: (\d+)", output, re.MULTILINE)
    errors = sum(map(int, socket_errors.groups())) if socket_errors else 0
    errors += int(bad_status.group(1)) if bad_status else 0
    return WrkResult(rps=float(rps.group(1)), errors=errors)


def throughput(base: str, *, rounds: int, seconds: int, connections: int) -> dict[str, list[WrkResult]]:
    """Alternate the two URLs so drift (CPU boost, a neighbour's job) hits both alike."""
    paths = ("/healthz", "/browse/")
    for path in paths:  # warm every worker: imports, templates, connection pools
        wrk(base + path, seconds=2, connections=connections)
    results: dict[str, list[WrkResult]] = {path: [] for path in paths}
    for _ in range(rounds):
        for path in paths:
            results[path].append(wrk(base + path, seconds=seconds, connections=connections))
    return results


# --- the report --------------------------------------------------------------------------------


def print_queries(rows: dict[str, list[int]]) -> None:
    print("\nSQL queries per request (cache cleared first, except the warm row)")
    print(f"  {'page':<24}" + "".join(f"{f'{n} assets':>12}" for n in ASSET_COUNTS))
    for page, counts in rows.items():
        print(f"  {page:<24}" + "".join(f"{c:>12}" for c in counts))


def print_throughput(results: dict[str, list[WrkResult]], *, seconds: int, connections: int) -> None:
    rounds = len(next(iter(results.values())))
    print(f"\nThroughput: wrk -t2 -c{connections} -d{seconds}s, {rounds} alternating rounds, requests/s")
    print(f"  {'url':<12}" + "".join(f"{f'round {i + 1}':>10}" for i in range(rounds)) + f"{'median':>10}{'errors':>8}")
    medians = {}
    for path, runs in results.items():
        medians[path] = statistics.median(r.rps for r in runs)
        cells = "".join(f"{r.rps:>10.0f}" for r in runs)
        print(f"  {path:<12}{cells}{medians[path]:>10.0f}{sum(r.errors for r in runs):>8}")
    ratio = medians["/browse/"] / medians["/healthz"]
    verdict = "meets" if ratio >= GOAL_RATIO else "BELOW"
    print(f"  ratio browse/healthz = {ratio:.2f}  ({verdict} the goal of >= {GOAL_RATIO})")


def print_round_trips(per_request: dict[str, float]) -> None:
    total = sum(per_request.values())
    detail = ", ".join(f"{name} {n:.2f}" for name, n in per_request.items()) or "none"
    verdict = "meets" if abs(total - GOAL_ROUND_TRIPS) < 0.01 else "MISSES"
    print(f"\nRedis round trips per warm /browse/ request: {total:.2f} ({detail}); "
          f"{verdict} the design goal of exactly {GOAL_ROUND_TRIPS:.0f} (one MGET)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk rounds per URL (default 3)")
    parser.add_argument("--seconds", type=int, default=8, help="duration of one wrk round (default 8)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--redis-requests", type=int, default=50, help="requests watched with MONITOR (default 50)")
    return parser.parse_args()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the gunicorn context manager, which stops it


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(signal.SIGHUP, _exit_on_sigterm)
    started = time.monotonic()
    print(f"Browse cache benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print(f"server:  gunicorn -c config/gunicorn.py, 2 workers x 4 threads (gthread), DEBUG off, "
          f"database {BENCH_DB}, cache {BENCH_CACHE_URL}")

    database_recreate()
    cache.clear()
    print_queries(query_counts())  # leaves ASSET_COUNTS[-1] listed assets for the load test

    log = ROOT / "var" / "bench" / "gunicorn.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with gunicorn(log) as base:
        for _ in range(3):  # fill the fragment and facet cache, then every request is warm
            fetch(f"{base}/browse/")
        results = throughput(base, rounds=args.rounds, seconds=args.seconds, connections=args.connections)
        print_throughput(results, seconds=args.seconds, connections=args.connections)
        print_round_trips(redis_commands_per_request(f"{base}/browse/", args.redis_requests))
    connection.close()
    print(f"\ndone in {time.monotonic() - started:.0f}s (gunicorn log: {log.relative_to(ROOT)})")


if __name__ == "__main__":
    main()
