"""How fast do progress events reach the page, and do open streams cost page serving anything?

One run, over loopback, with real servers started by this script and stopped at its end:
  1. lag, publish → SSE client: p50/p95 from `progress.publish()` (what a worker calls) to a client
     of /studio/assets/<id>/progress/stream on uvicorn having parsed that event, first with one
     stream open, then with 200 (10 per asset on 20 assets, events round-robin);
  2. page serving: requests/s of /healthz through gunicorn (config/gunicorn.py) while the uvicorn
     process holds 200 open progress streams (idle; and receiving 2 events/s per asset), divided
     by the same with no stream open; alternating wrk rounds, medians. Goal >= 0.9.

Run it with `.venv/bin/python bench/progress.py`; bench/README.md says what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
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

from common import (
    HOST,
    LOG_DIR,
    ROOT,
    database_recreate,
    django_setup,
    free_port,
    gunicorn,
    percentile,
    start,
    stop,
)
from progress_support import Clients, busy_seconds, cpu_seconds, rss_mb, tree_cpu

BENCH_DB = "portal_bench_progress"


# A private Redis server: pub/sub channels are server-wide (not per database), so on the stack's
# shared Redis the bench's events would reach a developer's open pages, and theirs would skew ours.
REDIS_PORT = free_port()
django_setup(
    BENCH_DB, CACHE_URL=f"redis://{HOST}:{REDIS_PORT}/1", PROGRESS_REDIS_URL=f"redis://{HOST}:{REDIS_PORT}/0",
    # No worker recycling: at these rates max_requests restarts a worker every few seconds, and a
    # restart (re-importing Django) moves a 3-second round by 2x, far more than the streams do.
    # bench/browse_cache.py measures recycling; here it would only hide what is measured.
    GUNICORN_MAX_REQUESTS="0",
)

import django  # noqa: E402 - set up by django_setup above
from django.db import connection  # noqa: E402
from stream_support import ASSETS, STREAMS, feed, publish, seed, stream_paths, wrk  # noqa: E402

from portal.jobs.models import Job  # noqa: E402

GOAL_RATIO = 0.9
WATCHDOG_S = 115


# --- servers ------------------------------------------------------------------------------------


@contextlib.contextmanager
def servers() -> Iterator[tuple[str, str, dict[str, int]]]:
    venv = ROOT / ".venv" / "bin"
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(start("progress-redis", ["redis-server", "--port", str(REDIS_PORT), "--bind", HOST, "--save", "",
                                       "--appendonly", "no"], f"{HOST}:{REDIS_PORT}"))
        database_recreate(BENCH_DB)
        stream_port, web_port = free_port(), free_port()
        # The Procfile's `stream` process as deployed (portal/jobs/README.md). `--workers 1` explicitly:
        # uvicorn would otherwise read WEB_CONCURRENCY (meant for gunicorn) and fork two.
        started.append(start("progress-uvicorn", [str(venv / "uvicorn"), "config.asgi:application", "--host", HOST,
                                         "--port", str(stream_port), "--workers", "1", "--lifespan", "off",
                                         "--no-access-log"],
                             f"http://{HOST}:{stream_port}/healthz"))
        started.append(gunicorn("progress-gunicorn", web_port))
        yield f"{HOST}:{stream_port}", f"http://{HOST}:{web_port}", {
            "redis": started[0].pid, "uvicorn": started[1].pid, "gunicorn": started[2].pid}
    finally:
        for server in reversed(started):
            stop(server)


# --- measurements ---------------------------------------------------------------------------------


def lag(clients: Clients, jobs: list[Job], *, events: int, gap_s: float) -> list[float]:
    """Milliseconds from publish() to each client's receipt, over `events` round-robin events."""
    sent: dict[str, float] = {}
    for n in range(events):
        tag = f"b{n}"
        sent[tag] = time.perf_counter()
        publish(jobs[n % len(jobs)], tag, n % 100)
        time.sleep(gap_s)
    time.sleep(0.5)
    return [(at - sent[tag]) * 1000 for tag, at in list(clients.arrivals) if tag in sent]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200, help="events per lag measurement (default 200)")
    parser.add_argument("--rounds", type=int, default=4, help="wrk rounds per condition (default 4)")
    parser.add_argument("--seconds", type=int, default=3, help="seconds per wrk round (default 3)")
    return parser.parse_args()


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through servers()' finally, which stops every server


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    signal.signal(signal.SIGALRM, _exit_on_signal)
    signal.alarm(WATCHDOG_S)  # bounded, whatever the machine's load: the servers are stopped on the way out
    started = time.monotonic()
    print(f"Progress stream benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} at start; Python {sys.version.split()[0]}, "
          f"Django {django.get_version()}")
    with servers() as (stream_server, web, servers_pids):
        cookie, jobs = seed()
        connection.close()
        print(f"servers: uvicorn config.asgi:application (1 process) for streams; gunicorn -c config/gunicorn.py "
              f"(2 workers x 4 threads) for pages; private redis-server :{REDIS_PORT}; database {BENCH_DB}")
        clients = Clients(stream_server, cookie)

        print(f"\n1. Lag, progress.publish() -> SSE client parsed the event ({args.events} events)")
        print(f"   {'streams open':<34}{'p50 ms':>8}{'p95 ms':>8}{'max ms':>8}{'samples':>9}")
        for label, paths, gap in (("1 (one asset)", stream_paths(jobs[:1])[:1], 0.01),
                                  (f"{STREAMS} ({STREAMS // ASSETS} per asset, {ASSETS} assets)",
                                   stream_paths(jobs), 0.02)):
            clients.open(paths)
            time.sleep(0.3)
            clients.arrivals.clear()
            lags = lag(clients, jobs[:1] if len(paths) == 1 else jobs, events=args.events, gap_s=gap)
            clients.close()
            print(f"   {label:<34}{percentile(lags, 50):>8.1f}{percentile(lags, 95):>8.1f}{max(lags):>8.1f}"
                  f"{len(lags):>9}")

        print(f"\n2. Page serving: wrk -t2 -c16 -d{args.seconds}s {web}/healthz, {args.rounds} rounds, requests/s")
        runs, memory, open_s = throughput(clients, jobs, web, servers_pids, rounds=args.rounds, seconds=args.seconds)
        print_throughput(runs)
        print(f"   uvicorn with {STREAMS} open streams: {memory:.0f} MB resident; opening {STREAMS} streams "
              f"(session, permission, subscribe, last state) took {statistics.median(open_s):.1f}s (median)")
    print(f"\ndone in {time.monotonic() - started:.0f}s; logs: {LOG_DIR.relative_to(ROOT)}/progress-*.log")


@dataclass(frozen=True)
class Run:
    rps: float
    uvicorn_cpu: float  # % of one core
    bench_cpu: float  # this script: the 200 clients (browsers, in real life elsewhere) and the publisher
    others_cpu: float  # % of one core used by processes that are not part of this benchmark


def throughput(clients: Clients, jobs: list[Job], web: str, pids: dict[str, int], *, rounds: int,
               seconds: int) -> tuple[dict[str, list[Run]], float, list[float]]:
    wrk(f"{web}/healthz", 2)  # warm-up: every worker and thread
    conditions = ("no stream", f"{STREAMS} idle streams", f"{STREAMS} streams, 2 events/s/asset")
    runs: dict[str, list[Run]] = {c: [] for c in conditions}
    memory, open_s = 0.0, []
    for round_ in range(rounds):
        # Each round starts at another condition: on a shared VM, what ran just before moves
        # requests/s by more than the streams do.
        for condition in conditions[round_ % 3:] + conditions[:round_ % 3]:
            stop_events = threading.Event()
            if condition != "no stream":
                opened = time.monotonic()
                clients.open(stream_paths(jobs))
                open_s.append(time.monotonic() - opened)
                memory = max(memory, rss_mb(pids["uvicorn"]))
                time.sleep(0.5)  # opening them is not what is measured
            if "events" in condition:
                threading.Thread(target=feed, args=(jobs, stop_events), daemon=True).start()
            ours = [*list(pids.values()), os.getpid()]
            busy, mine, uvicorn, children = busy_seconds(), tree_cpu(ours), tree_cpu([pids["uvicorn"]]), \
                resource.getrusage(resource.RUSAGE_CHILDREN)
            bench = cpu_seconds(os.getpid())
            rps = wrk(f"{web}/healthz", seconds)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            wrk_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
            others = (busy_seconds() - busy) - (tree_cpu(ours) - mine) - wrk_cpu
            runs[condition].append(Run(rps=rps, uvicorn_cpu=(tree_cpu([pids["uvicorn"]]) - uvicorn) / seconds * 100,
                                       bench_cpu=(cpu_seconds(os.getpid()) - bench) / seconds * 100,
                                       others_cpu=max(0.0, others) / seconds * 100))
            stop_events.set()
            clients.close()
    return runs, memory, open_s


def print_throughput(runs: dict[str, list[Run]]) -> None:
    """The measured ratio: per round, requests/s with streams over the same round's run without;
    then the median. And the ratio the stream process's CPU use allows on this many cores, which
    the neighbours' load (others' CPU) cannot blur."""
    conditions = list(runs)
    none = [run.rps for run in runs[conditions[0]]]
    cores = os.cpu_count() or 1
    print(f"   {'condition':<34}" + "".join(f"{f'round {n + 1}':>9}" for n in range(len(none)))
          + f"{'median':>8}{'ratio':>7}{'uvicorn CPU':>13}{'clients CPU':>13}{'others CPU':>12}{'CPU bound':>11}")
    measured: dict[str, float] = {}
    for condition in conditions:
        rps = [run.rps for run in runs[condition]]
        measured[condition] = statistics.median(r / base for r, base in zip(rps, none, strict=True))
        uvicorn = statistics.median(run.uvicorn_cpu for run in runs[condition])
        others = statistics.median(run.others_cpu for run in runs[condition])
        clients = statistics.median(run.bench_cpu for run in runs[condition])
        bound = 1 - uvicorn / (cores * 100)
        print(f"   {condition:<34}" + "".join(f"{r:>9.0f}" for r in rps)
              + f"{statistics.median(rps):>8.0f}{measured[condition]:>7.2f}{uvicorn:>12.1f}%{clients:>12.1f}%"
              + f"{others:>11.0f}%{bound:>11.3f}")
    worst = min(measured[c] for c in conditions[1:])
    verdict = "meets" if worst >= GOAL_RATIO else "BELOW"
    print("   ratio: median over rounds of requests/s with streams / without (same round); CPU bound: 1 - uvicorn's")
    print(f"   CPU / ({cores} cores x 100%); clients CPU: this script's SSE clients and publisher (browsers and")
    print("   workers, in production, run elsewhere); others CPU: processes outside this benchmark (neighbours)")
    print(f"   worst measured ratio with streams / without = {worst:.2f}  ({verdict} the goal of >= {GOAL_RATIO})")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
