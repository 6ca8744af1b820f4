"""Related media at 100,000 assets: the asset page's related query with and without its HNSW index.

Builds a database of its own with --assets assets (one in ten private) and one embedding each.
The vectors are RANDOM unit vectors, not the model's: the timing of a nearest-neighbour query
depends on the count and the dimensions, not on what the vectors mean (random ones are the hard
case for HNSW's recall, which is printed too). Then, for --queries random source assets, side by
side in one run, alternating:
- with the index: `related_assets` as the page calls it (its vector, the neighbours through the
  HNSW index with iterative scanning, their tags);
- without it: the same call in a transaction that first drops the index (DDL is transactional: the
  drop is rolled back, and costs no rebuild), so PostgreSQL scans and sorts every embedding.
Prints p50/p95 of each, their ratio, the index build time, and recall@6 of the index against the
exact answer. Needs postgres (with pgvector) from bin/stack. Never fails on a number.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime

import numpy
from common import database_recreate, django_setup, machine, percentile

DATABASE = "portal_bench_related"
LIMIT = 6  # what the page shows


def load(count: int, *, clustered: bool) -> None:
    from django.db import connection  # noqa: PLC0415 - Django is set up in main()

    from portal.accounts.models import User  # noqa: PLC0415
    from portal.library.models import Asset, Kind, Status, Visibility  # noqa: PLC0415

    owner = User.objects.create(username="bench-related")
    kinds = list(Kind.values)
    for start in range(0, count, 5000):
        Asset.objects.bulk_create([
            Asset(kind=kinds[n % len(kinds)], title=f"Asset {n}", slug=f"asset-{n}", owner=owner,
                  status=Status.PUBLISHED, visibility=Visibility.PRIVATE if n % 10 == 0 else Visibility.PUBLIC)
            for n in range(start, min(start + 5000, count))
        ])
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX asset_embedding_hnsw")
        if not clustered:
            # Random vectors made by the server (the correlated subquery draws new numbers per row).
            cursor.execute(
                "INSERT INTO search_assetembedding (asset_id, embedding, source_digest, updated_at) "
                "SELECT a.id, (SELECT array_agg(random() - 0.5) FROM generate_series(1, 384) WHERE a.id > 0)::vector, "
                "'random', now() FROM library_asset a")
            return
        # Clustered: 2,000 random centres, each vector its centre plus noise (about 50 a cluster), so
        # every asset has near neighbours, as embeddings of real catalogues do.
        rng = numpy.random.default_rng(16)
        ids = list(Asset.objects.order_by("pk").values_list("pk", flat=True))
        centres = rng.standard_normal((2000, 384)).astype(numpy.float32)
        columns = "asset_id, embedding, source_digest, updated_at"
        with cursor.copy(f"COPY search_assetembedding ({columns}) FROM STDIN") as copy:
            for start in range(0, len(ids), 5000):
                chunk = ids[start:start + 5000]
                vectors = centres[rng.integers(0, len(centres), len(chunk))]
                vectors = vectors + 0.6 * rng.standard_normal(vectors.shape).astype(numpy.float32)
                for asset_id, vector in zip(chunk, vectors, strict=True):
                    text = ",".join(f"{x:.5f}" for x in vector)
                    copy.write(f"{asset_id}\t[{text}]\tclustered\t2026-12-03 00:00:00+00\n")


def build_index() -> float:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")  # the graph fits: no slow on-disk phase
        started = time.perf_counter()
        cursor.execute("CREATE INDEX asset_embedding_hnsw ON search_assetembedding "
                       "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)")
        took = time.perf_counter() - started
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("VACUUM ANALYZE library_asset")
        cursor.execute("VACUUM ANALYZE search_assetembedding")
    return took


def timed_pair(asset_id: int) -> tuple[float, float, set[int], set[int]]:
    from django.db import connection, transaction  # noqa: PLC0415

    from portal.search.selectors import related_assets  # noqa: PLC0415

    started = time.perf_counter()
    indexed = related_assets(asset_id=asset_id, limit=LIMIT, max_distance=2.0)  # the query, no relevance cut
    with_index = time.perf_counter() - started
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX asset_embedding_hnsw")
        started = time.perf_counter()
        exact = related_assets(asset_id=asset_id, limit=LIMIT, max_distance=2.0)
        without = time.perf_counter() - started
        transaction.set_rollback(True)
    return with_index * 1000, without * 1000, {a.pk for a in indexed}, {a.pk for a in exact}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--vectors", choices=["random", "clustered"], default="random",
                        help="random: uniform on the sphere (the hard case for recall); clustered: near neighbours")
    args = parser.parse_args()
    django_setup(DATABASE, CACHE_URL="redis://127.0.0.1:16379/23")
    database_recreate(DATABASE)
    from portal.library.models import Asset  # noqa: PLC0415

    print(f"bench/related.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {machine()}")
    started = time.perf_counter()
    load(args.assets, clustered=args.vectors == "clustered")
    print(f"loaded {args.assets:,} assets, {args.vectors} 384-dimension embeddings, "
          f"in {time.perf_counter() - started:.0f} s")
    print(f"HNSW index (m 16, ef_construction 64, cosine) built in {build_index():.1f} s")
    ids = list(Asset.objects.values_list("pk", flat=True))
    rng = random.Random(16)
    timed_pair(rng.choice(ids))  # warm-up: connections, plans, the index's first pages
    with_index, without, recall = [], [], []
    for _ in range(args.queries):
        fast, slow, found, exact = timed_pair(rng.choice(ids))
        with_index.append(fast)
        without.append(slow)
        recall.append(len(found & exact) / max(1, len(exact)))
    print(f"{args.queries} related-media queries at {args.assets:,} assets (ms; the whole selector: 3 queries)")
    print(f"{'':>16} {'p50':>8} {'p95':>8} {'max':>8}")
    for name, values in (("with HNSW index", with_index), ("without (scan)", without)):
        print(f"{name:>16} {percentile(values, 50):8.1f} {percentile(values, 95):8.1f} {max(values):8.1f}")
    print(f"ratio p95 without/with: {percentile(without, 95) / percentile(with_index, 95):.1f}")
    print(f"recall@{LIMIT} of the index against the exact scan: mean {statistics.mean(recall):.2f}, "
          f"min {min(recall):.2f}")


if __name__ == "__main__":
    main()
