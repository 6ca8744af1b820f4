"""The search port's two engines side by side at the same size (default 100,000 generated assets):
bulk-indexing speed (a rebuild, as search_reindex does: bulk into a new index, refresh, alias
swap) and the latency of a suggestion (search-as-you-type) through each backend, with the engine's
own `took`, then the ratios Elasticsearch / OpenSearch.

Runs in .venv-es, which has both clients: `make bench-engines`, or
`.venv-es/bin/python bench/search_engines.py` with `bin/stack up opensearch elasticsearch`.
Same documents and typed queries as bench/search.py; its own alias (`bench-engines-assets`) on
each node, dropped at the end. Options: --docs, --queries, --es-url.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from common import ROOT, machine, percentile

# bench/search.py sets Django up (its database and cache) and generates the documents and queries.
from search import documents, typed_queries  # isort: skip

from django.conf import settings
from django.test import override_settings

from portal.search.backends.elasticsearch import ElasticsearchBackend
from portal.search.backends.opensearch import OpenSearchBackend

PREFIX = "bench-engines"


def node_rss_mb(name: str) -> float:
    """Resident memory of the stack's node `name` (its pid file), in MB; 0 when unknown."""
    try:
        pid = (ROOT / "var" / "run" / f"{name}.pid").read_text().strip()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return kb / 1024


def measure(engine: Any, size: int, queries: list[str]) -> dict[str, Any]:
    engine.drop_all()  # what an interrupted earlier run left
    began = time.perf_counter()
    engine.rebuild_documents(documents(size))
    indexing_s = time.perf_counter() - began
    print(f"  {engine.name}: {size:,} docs in {indexing_s:.1f} s = {size / indexing_s:,.0f} docs/s", flush=True)
    for text in queries[:100]:  # warm the caches and the JIT, as on a running site
        engine.suggest(text)
    round_trips = []
    for text in queries:
        t0 = time.perf_counter()
        engine.suggest(text)
        round_trips.append((time.perf_counter() - t0) * 1000)
    took = [float(engine.took(text)) for text in queries]
    result = {"docs_per_s": size / indexing_s, "round_trip": round_trips, "took": took,
              "rss_mb": node_rss_mb(engine.name)}
    engine.drop_all()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000, help="index size")
    parser.add_argument("--queries", type=int, default=2_000, help="suggestion queries per engine")
    parser.add_argument("--es-url", default=os.environ.get("BENCH_ES_URL", "http://127.0.0.1:19201"))
    args = parser.parse_args()
    queries = typed_queries(args.queries)
    print(machine())
    print(f"{args.docs:,} generated assets per engine; {len(queries)} typed queries, one at a time, after 100 to warm")
    results: dict[str, dict[str, Any]] = {}
    for engine, url in ((OpenSearchBackend(), settings.SEARCH_URL), (ElasticsearchBackend(), args.es_url)):
        with override_settings(SEARCH_URL=url, SEARCH_INDEX_PREFIX=PREFIX, SEARCH_TIMEOUT_SECONDS=10.0):
            results[engine.name] = measure(engine, args.docs, queries)

    os_, es = results["opensearch"], results["elasticsearch"]
    print()
    print(f"{'':<44}{'OpenSearch 2.19':>17}{'Elasticsearch 7.10':>20}{'ES / OS':>9}")
    print(f"{'bulk indexing (rebuild), docs/s':<44}{os_['docs_per_s']:>17,.0f}{es['docs_per_s']:>20,.0f}"
          f"{es['docs_per_s'] / os_['docs_per_s']:>9.2f}")
    rows = (("round_trip", "suggestion, backend call from Python"), ("took", "suggestion, engine's own took"))
    for key, label in rows:
        for q in (50, 95, 99):
            a, b = percentile(os_[key], q), percentile(es[key], q)
            ratio = f"{b / a:>9.2f}" if a else f"{'-':>9}"
            print(f"{f'{label}, p{q} ms':<44}{a:>17.1f}{b:>20.1f}{ratio}")
    print(f"{'node resident memory, MB':<44}{os_['rss_mb']:>17,.0f}{es['rss_mb']:>20,.0f}")
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
