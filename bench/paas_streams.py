"""The Procfile on a PaaS that routes all HTTP to `web` only: what do 200 open progress streams cost
page serving, and what does the ASGI web entry cost against the gthread one it replaced?

One run, over loopback, servers started by this script and stopped at its end:
  - `honcho start web`, the Procfile's web process exactly (gunicorn, uvicorn's worker, config/web.py:
    pages on 4 threads per worker, streams on the event loop), 2 workers;
  - beside it, the same with WEB_WORKER=gthread (config.wsgi:application on gthread), the web process as it
    was and the choice where a balancer routes the streams elsewhere, 2 x 4;
  - a private redis-server for the progress channel (pub/sub is server-wide: the stack's Redis would
    carry other runs' events), the stack's PostgreSQL with a fresh database.
Page requests/s are `wrk -t2 -c16 -H 'Connection: close'` on an anonymous /browse/ (a cached page),
conditions alternating in rotated order each round, medians of per-round ratios; beside them the CPU
each page request cost the serving processes (from /proc), which neighbours on the machine hardly move:
  1. ASGI web with 200 open streams (idle; and receiving 2 events/s per asset) / ASGI web with none
     (goal >= 0.9): streams opened against the web process itself, as the platform's router sends them;
  2. ASGI web / gthread web, no streams: what serving pages through the event loop and a thread pool costs.

Run it with `.venv/bin/python bench/paas_streams.py`; bench/README.md records the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from common import HOST, LOG_DIR, ROOT, database_recreate, django_setup, free_port, start, stop
from progress_support import Clients, tree_cpu

BENCH_DB = "portal_bench_paas"
REDIS_PORT = free_port()
django_setup(BENCH_DB, CACHE_URL=f"redis://{HOST}:{REDIS_PORT}/1", PROGRESS_REDIS_URL=f"redis://{HOST}:{REDIS_PORT}/0",
             GUNICORN_MAX_REQUESTS="0")  # no recycling: not what is measured

import django  # noqa: E402 - set up by django_setup above
from django.db import connection  # noqa: E402
from stream_support import ASSETS, STREAMS, feed, seed, stream_paths, wrk  # noqa: E402

GOAL_RATIO = 0.9
WATCHDOG_S = 170
PAGE = "/browse/"
# Editors' pages open their streams over time, not in one instant: 200 at once on a loaded 2-core
# machine ran into the stream's 1 s Redis connect timeout (the page then polls; here it is an error).
OPEN_BATCH = 20


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str, dict[str, list[int]]]]:
    """(the Procfile's web under honcho, the gthread web) as host:port, and the pids of their trees."""
    venv = ROOT / ".venv" / "bin"
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(start("paas-redis", ["redis-server", "--port", str(REDIS_PORT), "--bind", HOST, "--save", "",
                                             "--appendonly", "no"], f"{HOST}:{REDIS_PORT}"))
        database_recreate(BENCH_DB)
        web_port, gthread_port = free_port(), free_port()
        path = {**os.environ, "PATH": f"{venv}:{os.environ['PATH']}"}
        started.append(start("paas-web", [str(venv / "honcho"), "start", "-p", str(web_port), "web"],
                             f"http://{HOST}:{web_port}/healthz", path))
        gthread = {**os.environ, "GUNICORN_BIND": f"{HOST}:{gthread_port}", "WEB_WORKER": "gthread"}
        started.append(start("paas-gthread", [str(venv / "gunicorn"), "-c", "config/gunicorn.py"],
                             f"http://{HOST}:{gthread_port}/healthz", gthread))
        yield f"{HOST}:{web_port}", f"{HOST}:{gthread_port}", {"web": [started[1].pid], "gthread": [started[2].pid]}
    finally:
        for server in reversed(started):
            stop(server)


@dataclass(frozen=True)
class Run:
    rps: float
    cpu_us: float  # CPU of the serving processes per page request, µs


def measure(web: str, gthread: str, pids: dict[str, list[int]], cookie: str, *, rounds: int,
            seconds: int) -> dict[str, list[Run]]:
    from portal.jobs.models import Job  # noqa: PLC0415

    jobs = list(Job.objects.order_by("pk"))
    connection.close()
    clients = Clients(web, cookie)
    for server in (web, gthread):  # warm-up: every worker, thread and cached fragment
        wrk(f"http://{server}{PAGE}", 2)
    conditions = ("gthread web, no stream", "web, no stream", f"web, {STREAMS} idle streams",
                  f"web, {STREAMS} streams, 2 events/s/asset")
    runs: dict[str, list[Run]] = {condition: [] for condition in conditions}
    for round_ in range(rounds):
        for condition in conditions[round_ % 4:] + conditions[:round_ % 4]:
            stop_events = threading.Event()
            if "streams" in condition:
                paths = stream_paths(jobs)
                for start_at in range(0, STREAMS, OPEN_BATCH):  # raises unless every one opened
                    clients.open(paths[start_at:start_at + OPEN_BATCH])
                time.sleep(0.5)
            if "events" in condition:
                threading.Thread(target=feed, args=(jobs, stop_events), daemon=True).start()
            server = "gthread" if condition.startswith("gthread") else "web"
            before = tree_cpu(pids[server])
            rps = wrk(f"http://{gthread if server == 'gthread' else web}{PAGE}", seconds)
            runs[condition].append(Run(rps, (tree_cpu(pids[server]) - before) / (rps * seconds) * 1e6))
            stop_events.set()
            if "streams" in condition:
                clients.close()
    return runs


def ratios(runs: list[Run], base: list[Run]) -> tuple[float, float]:
    """(requests/s ratio, the inverse ratio of CPU per request): medians over rounds."""
    return (statistics.median(r.rps / b.rps for r, b in zip(runs, base, strict=True)),
            statistics.median(b.cpu_us / r.cpu_us for r, b in zip(runs, base, strict=True)))


def report(runs: dict[str, list[Run]]) -> None:
    conditions = list(runs)
    gthread, web = runs[conditions[0]], runs[conditions[1]]
    rounds = len(web)
    print(f"   {'condition':<40}" + "".join(f"{f'round {n + 1}':>9}" for n in range(rounds))
          + f"{'median':>8}{'CPU/request':>13}")
    for condition in conditions:
        print(f"   {condition:<40}" + "".join(f"{run.rps:>9.0f}" for run in runs[condition])
              + f"{statistics.median(run.rps for run in runs[condition]):>8.0f}"
              + f"{statistics.median(run.cpu_us for run in runs[condition]):>10.0f} µs")
    cost, cpu_cost = ratios(web, gthread)
    print(f"\n   ASGI web / gthread web, no stream (the entry's cost to pages) = {cost:.2f}; by CPU per request "
          f"{cpu_cost:.2f}")
    worst = 1.0
    for condition in conditions[2:]:
        ratio, cpu_ratio = ratios(runs[condition], web)
        worst = min(worst, ratio)
        print(f"   {condition} / web, no stream = {ratio:.2f}; by CPU per request {cpu_ratio:.2f}")
    verdict = "meets" if worst >= GOAL_RATIO else "BELOW"
    print(f"   worst ratio with streams / without = {worst:.2f}  ({verdict} the goal of >= {GOAL_RATIO})")


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through servers()' finally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4, help="wrk rounds per condition (default 4)")
    parser.add_argument("--seconds", type=int, default=3, help="seconds per wrk round (default 3)")
    args = parser.parse_args()
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM):
        signal.signal(signum, _exit_on_signal)
    signal.alarm(WATCHDOG_S)
    started = time.monotonic()
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"PaaS streams benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {os.cpu_count()} cores, load average {load} at start; Python {sys.version.split()[0]}, "
          f"Django {django.get_version()}")
    with servers() as (web, gthread, pids):
        cookie, _ = seed()
        print(f"servers: `honcho start web` (the Procfile: gunicorn + uvicorn worker, config/web.py, "
              f"{os.environ['WEB_CONCURRENCY']} x {os.environ['GUNICORN_THREADS']} threads) on {web}; gunicorn gthread "
              f"WEB_WORKER=gthread on {gthread}; {STREAMS} streams over {ASSETS} assets; page {PAGE}")
        print(f"\nPage requests/s: wrk -t2 -c16 -d{args.seconds}s, {args.rounds} rounds, new connection per request")
        report(measure(web, gthread, pids, cookie, rounds=args.rounds, seconds=args.seconds))
    print(f"\ndone in {time.monotonic() - started:.0f}s; logs: {LOG_DIR.relative_to(ROOT)}/paas-*.log")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
