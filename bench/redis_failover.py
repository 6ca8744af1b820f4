"""Redis behind Sentinel: what a failover costs the portal, and what Sentinel discovery costs a cached page.

On a Sentinel-managed pair of its own (tests/sentinels.py: `bin/stack` with SCALE=2, its own var/ and
free ports, failover after 1 s of silence), never the shared Redis:

1. Cached-page throughput, side by side: two gunicorns on the same pair, one given the master's address
   (CACHE_URL=redis://…), one finding it through the sentinels (REDIS_SENTINELS), `wrk` on / in
   alternating rounds. PAGE_MEMO_TRUST_SECONDS=0, so every hit asks Redis for the content generation.
2. A failover under load: visitors ask for / in a loop from the Sentinel-configured gunicorn, and a probe
   writes and reads a cache key every 20 ms through the same settings; the master is SIGKILLed. Then
   the killed master is started again and the stack fails back to it (a planned switch-over). For each:
   how long the sentinels took, how long the cache was unreachable (probe), the page errors, and the
   share of pages answered slower than 3x the median hit before the kill (rendered: uncached).

    .venv/bin/python bench/redis_failover.py [--seconds 5 --rounds 3]

Needs PostgreSQL (DATABASE_URL's server; a database `portal_bench_failover` is re-created), the Debian
redis-server and redis-sentinel packages, and wrk."""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter

import redis
import requests
from common import HOST, LOG_DIR, ROOT, database_recreate, django_setup, free_port, gunicorn, machine, percentile, stop

sys.path[:0] = [str(ROOT), str(ROOT / "bin")]
from tests.sentinels import SentinelPair  # noqa: E402 - needs the paths above

DATABASE = "portal_bench_failover"
CACHE_DB = 5
PROBE_EVERY_S = 0.02
VISITORS = 4


def stats(port: int) -> Counter[str]:
    info = redis.Redis(host=HOST, port=port).info("stats")
    return Counter(hits=info["keyspace_hits"], misses=info["keyspace_misses"],
                   commands=info["total_commands_processed"])


def wrk(url: str, seconds: int) -> float:
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", url], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


class Visitors:
    """VISITORS threads asking for / in a loop: (asked at, status or 0, seconds)."""

    def __init__(self, url: str) -> None:
        self.url, self.running, self.answers = url, True, []  # type: ignore[var-annotated]
        self.threads = [threading.Thread(target=self.visit, daemon=True) for _ in range(VISITORS)]
        for thread in self.threads:
            thread.start()

    def visit(self) -> None:
        session = requests.Session()
        while self.running:
            asked = time.monotonic()
            try:
                status = session.get(self.url, timeout=10).status_code
            except requests.RequestException:
                status = 0
            self.answers.append((asked, status, time.monotonic() - asked))

    def stop(self) -> None:
        self.running = False
        for thread in self.threads:
            thread.join(15)


class Probe:
    """A cache write and read back every PROBE_EVERY_S through the portal's cache settings: (at, ok)."""

    def __init__(self) -> None:
        self.running, self.results = True, []  # type: ignore[var-annotated]
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        from django.core.cache import cache  # noqa: PLC0415 - Django is set up by then

        n = 0
        while self.running:
            n += 1
            at = time.monotonic()
            cache.set("bench:probe", n, timeout=60)
            self.results.append((at, cache.get("bench:probe") == n))
            time.sleep(PROBE_EVERY_S)

    def stop(self) -> None:
        self.running = False
        self.thread.join(15)


def report(name: str, started: float, switched: float, until: float, visitors: Visitors, probe: Probe,
           hit_s: float) -> None:
    """From `started` (the kill, the restart) to `until` (the next event, or the end)."""
    failed = [at for at, ok in probe.results if started <= at < until and not ok]
    outage = (max(failed) - min(failed) + PROBE_EVERY_S) if failed else 0.0
    window = [a for a in visitors.answers if started <= a[0] <= max(switched, started + outage) + 1.0]
    errors = sum(1 for a in window if a[1] != 200)
    slow = sum(1 for a in window if a[1] == 200 and a[2] > 3 * hit_s)
    latencies = [a[2] * 1000 for a in window] or [0.0]
    probes = sum(1 for at, _ in probe.results if started <= at < until)
    print(f"{name}: sentinels named the new master after {switched - started:.2f} s; cache unreachable "
          f"{outage:.2f} s ({len(failed)} of {probes} probes failed); "
          f"pages until 1 s after the switch: {len(window)}, errors (non-200) {errors}, "
          f"uncached (> 3x hit time) {slow} = {slow / max(1, len(window)):.0%}, "
          f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="each wrk round")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds per configuration")
    args = parser.parse_args()
    pair = SentinelPair().up()
    try:
        direct = f"redis://{HOST}:{pair.master_port}/{CACHE_DB}"
        django_setup(DATABASE, CACHE_URL=direct, REDIS_SENTINELS=pair.sentinels, PAGE_MEMO_TRUST_SECONDS="0",
                     WEB_CONCURRENCY="1", CACHE_KEY_PREFIX="bench")
        database_recreate(DATABASE)
        logging.getLogger("django_redis").setLevel(logging.CRITICAL)  # the probe's failures are counted, not logged
        from tests.factories import AssetFactory  # noqa: PLC0415 - needs Django

        AssetFactory.create_batch(12)
        env = dict(os.environ)
        plain_env = {key: value for key, value in env.items() if key != "REDIS_SENTINELS"}
        ports = {"direct URL": free_port(), "Sentinel discovery": free_port()}
        servers = {"direct URL": gunicorn("failover-direct", ports["direct URL"], plain_env),
                   "Sentinel discovery": gunicorn("failover-sentinel", ports["Sentinel discovery"], env)}
        try:
            print(f"redis_failover.py, {time.strftime('%Y-%m-%d %H:%M')}, {machine()}")
            print(f"load average {os.getloadavg()[0]:.1f}; pair: master {pair.master_port}, replica "
                  f"{pair.replica_port}, sentinels {pair.sentinels} (down-after 1000 ms)")
            rates: dict[str, list[float]] = {name: [] for name in servers}
            misses = {name: Counter() for name in servers}  # type: ignore[var-annotated]
            for port in ports.values():  # warm: the page cached, connections open
                for _ in range(20):
                    requests.get(f"http://{HOST}:{port}/", timeout=10)
            for round_number in range(args.rounds):  # ABBA…: neither always runs first
                order = list(ports.items())
                for name, port in order if round_number % 2 == 0 else reversed(order):
                    before = stats(pair.master_port)
                    rates[name].append(wrk(f"http://{HOST}:{port}/", args.seconds))
                    misses[name] += stats(pair.master_port) - before
            medians = {name: statistics.median(values) for name, values in rates.items()}
            for name, values in rates.items():
                rounds = ", ".join(f"{value:.0f}" for value in values)
                seen = misses[name]
                print(f"cached / with {name}: {medians[name]:.0f} req/s (rounds {rounds}); Redis during its rounds: "
                      f"{seen['hits']} key hits, {seen['misses']} misses, {seen['commands']} commands")
            print(f"ratio Sentinel/direct: {medians['Sentinel discovery'] / medians['direct URL']:.2f}")
            stop(servers.pop("direct URL"))

            url = f"http://{HOST}:{ports['Sentinel discovery']}/"
            visitors, probe = Visitors(url), Probe()
            time.sleep(3)
            hit_s = statistics.median(a[2] for a in list(visitors.answers))
            killed = time.monotonic()
            pair.kill_master()
            promoted = killed + pair.wait_for_master(pair.replica_port)
            time.sleep(4)
            failback = time.monotonic()
            # Returns once the original master is the master again and the other its replica.
            print(pair.restore().strip())
            restored = time.monotonic()
            time.sleep(4)
            visitors.stop()
            probe.stop()
            print(f"median cached hit before the kill: {hit_s * 1000:.1f} ms; {len(visitors.answers)} pages, "
                  f"{len(probe.results)} probes in all")
            report("crash (SIGKILL of the master)", killed, promoted, failback, visitors, probe, hit_s)
            report("failback (bin/stack up redis: rejoin, then SENTINEL FAILOVER)", failback, restored,
                   time.monotonic(), visitors, probe, hit_s)
        finally:
            for server in servers.values():
                stop(server)
    finally:
        shutil.copytree(pair.var / "log", LOG_DIR / "redis-failover", dirs_exist_ok=True)  # the servers' logs
        pair.down()


if __name__ == "__main__":
    main()
