"""Suggestions on the two-node OpenSearch cluster (SCALE=2) with one node down, beside both up, in
one run: the latency of search-as-you-type through the portal's search port (the selector, so a
fallback to PostgreSQL would show), p50/p95/p99 with both nodes up, with opensearch2 (portal-2)
stopped, and with opensearch (portal-1, the cluster manager) stopped, then the ratios of p95 to
both up. Each stopped node is started again, with suggestions still running, and the bench counts
what failed or fell back while it came back.

SEARCH_URL names both nodes (the ports of bin/stack's config, STACK_* variables included). The
bench index (`bench-cluster-assets`, 100,000 generated assets by default) is dropped at the end;
opensearch2 is started if it is not running, and stopped again at the end if the bench started it.
It stops and starts the stack's nodes: run it on a stack nobody else is using (STACK_VAR_DIR and
ports of your own). Options: --docs, --queries, --threads.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from common import ROOT, database_recreate, machine, percentile

# bench/search.py sets Django up (its database, whose empty tables the PostgreSQL fallback reads)
# and generates the documents and typed queries.
from search import BENCH_DB, documents, typed_queries  # isort: skip

from django.test import override_settings

from portal.search.backends.opensearch import OpenSearchBackend, breaker, client
from portal.search.selectors import search_suggest

sys.path.insert(0, str(ROOT / "bin"))
from stackctl import config, stack
from stackctl.service import Service
from stackctl.services.opensearch import OpenSearch2

PREFIX = "bench-cluster"
NODES = f"http://{config.HOST}:{config.PORTS.opensearch},http://{config.HOST}:{config.PORTS.opensearch2}"
GREEN_TIMEOUT_S = 600


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)  # suggestions the engine answered
    fallbacks: int = 0  # answered by PostgreSQL
    failures: int = 0  # raised
    misses: list[float] = field(default_factory=list)  # when each fallback or failure happened (monotonic)


def ask(text: str, tally: Tally, lock: threading.Lock) -> None:
    t0 = time.perf_counter()
    try:
        _, source = search_suggest(text=text)
    except Exception:  # noqa: BLE001 - a failed suggestion is a figure here
        with lock:
            tally.failures += 1
            tally.misses.append(time.monotonic())
        return
    elapsed = (time.perf_counter() - t0) * 1000
    with lock:
        if source == "opensearch":
            tally.latencies_ms.append(elapsed)
        else:
            tally.fallbacks += 1
            tally.misses.append(time.monotonic())


def run_load(queries: list[str], threads: int, until: Callable[[], bool] | None = None) -> Tally:
    """Closed loop: `threads` threads (a web process's) send the typed queries one after another,
    each thread its share once, or round and round until `until()` says stop."""
    tally, lock = Tally(), threading.Lock()

    def worker(offset: int) -> None:
        i = offset
        while (i < len(queries)) if until is None else not until():
            ask(queries[i % len(queries)], tally, lock)
            i += threads

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return tally


def wait_green() -> None:
    health = client().cluster.health(wait_for_status="green", timeout=f"{GREEN_TIMEOUT_S}s",
                                     request_timeout=GREEN_TIMEOUT_S + 10)
    if health["status"] != "green":
        raise SystemExit(f"the cluster is {health['status']}, not green, after {GREEN_TIMEOUT_S} s")


def bring_back(node: Service, queries: list[str], threads: int) -> Tally:
    """Start `node` and wait for green while suggestions keep running; what they met meanwhile."""
    done, results = threading.Event(), []
    load = threading.Thread(target=lambda: results.append(run_load(queries, threads, until=done.is_set)))
    load.start()
    try:
        node.start()
        wait_green()
    finally:
        done.set()
        load.join()
    return results[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000, help="index size")
    parser.add_argument("--queries", type=int, default=3_000, help="suggestions per phase")
    parser.add_argument("--threads", type=int, default=4, help="threads sending suggestions")
    args = parser.parse_args()
    queries = typed_queries(args.queries)
    first, second = stack.service("opensearch"), OpenSearch2()
    started_second = not second.running()
    second.start()  # a no-op when SCALE=2 `bin/stack up` started it
    print(machine())
    print(f"{args.docs:,} generated assets, one shard and one replica; {len(queries)} typed suggestions per phase "
          f"from {args.threads} threads, closed loop, through the portal's search port; SEARCH_URL={NODES}")
    engine = OpenSearchBackend()
    database_recreate(BENCH_DB)  # the fallback's tables, empty: it answers, and quickly
    phases: dict[str, Tally] = {}
    returns: dict[str, Tally] = {}
    with override_settings(SEARCH_URL=NODES, SEARCH_INDEX_PREFIX=PREFIX, SEARCH_TIMEOUT_SECONDS=2.0):
        try:
            engine.drop_all()  # what an interrupted earlier run left
            began = time.perf_counter()
            engine.rebuild_documents(documents(args.docs))  # waits for the replica (green) before the swap
            print(f"indexed and replicated in {time.perf_counter() - began:.0f} s", flush=True)
            run_load(queries[:300], args.threads)  # warm both nodes' caches and the JIT
            # Both up before and after each outage, so a machine that got busier shows in both columns.
            for label, node in (("opensearch2 down", second), ("opensearch down (cluster manager)", first)):
                phases.setdefault("both up", Tally()).latencies_ms += run_load(queries, args.threads).latencies_ms
                node.stop()
                try:
                    phases[label] = run_load(queries, args.threads)
                finally:
                    returns[label] = bring_back(node, queries, args.threads)
                breaker.reset()
            phases["both up"].latencies_ms += run_load(queries, args.threads).latencies_ms
        finally:
            first.start()
            second.start()
            engine.drop_all()
            if started_second:
                second.stop()
    report(phases, returns)


def report(phases: dict[str, Tally], returns: dict[str, Tally]) -> None:
    print()
    print(f"{'suggestions, ms':<36}{'answered':>9}{'p50':>7}{'p95':>7}{'p99':>7}{'fell back':>11}{'failed':>8}")
    for label, tally in phases.items():
        p50, p95, p99 = (percentile(tally.latencies_ms, q) for q in (50, 95, 99))
        print(f"{label:<36}{len(tally.latencies_ms):>9}{p50:>7.1f}{p95:>7.1f}{p99:>7.1f}{tally.fallbacks:>11}"
              f"{tally.failures:>8}")
    both = percentile(phases["both up"].latencies_ms, 95)
    for label in returns:
        print(f"ratio p95 {label} / both up = {percentile(phases[label].latencies_ms, 95) / both:.2f}")
    for label, tally in returns.items():
        node = label.split()[0]
        span = f", within {max(tally.misses) - min(tally.misses):.1f} s" if tally.misses else ""
        print(f"while {node} came back (start, then green): {len(tally.latencies_ms)} answered by the engine, "
              f"{tally.fallbacks} by PostgreSQL, {tally.failures} failed{span}")
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
