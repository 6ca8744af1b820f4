"""The partner catalogue import through postgres_fdw: a first import of --rows rows, a rerun of the
unchanged catalogue, and a rerun after a tenth of the rows changed, side by side in one run.

Builds a database of its own and a partner database beside it on the same server (standing for the
partner's), fills the partner's table, then times `manage.py import_partner_catalogue`'s service
(`partners.services.partner_import`, batches of 200) three times. Prints rows/s of each and the
ratio first/rerun. The after-commit announcements (cache generation, index and publication tasks)
are part of the first import's and the changed rerun's cost; they go to the Redis of CACHE_URL and
CELERY_BROKER_URL (set both to databases of your own). Needs postgres with postgres_fdw from
bin/stack. Never fails on a number.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime

import psycopg
from common import ADMIN_DB_URL, bench_database_url, database_recreate, django_setup, machine

DATABASE = "portal_bench_partner_import"
PARTNER = "portal_bench_partner"


def partner_recreate(rows: int) -> None:
    with psycopg.connect(ADMIN_DB_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PARTNER} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {PARTNER}")
    with psycopg.connect(bench_database_url(PARTNER), autocommit=True) as conn:
        conn.execute("CREATE TABLE catalogue_item (id bigint PRIMARY KEY, title text, kind text, description text, "
                     "url text, tags text)")
        conn.execute("INSERT INTO catalogue_item SELECT n, 'Item ' || n, (ARRAY['video','audio','image','document'])"
                     "[n %% 4 + 1], 'A partner item.', 'https://partner.example/' || n, 'partner, batch ' || (n %% 50) "
                     "FROM generate_series(1, %s) AS n", [rows])


def change_tenth() -> None:
    with psycopg.connect(bench_database_url(PARTNER), autocommit=True) as conn:
        conn.execute("UPDATE catalogue_item SET title = title || ' (revised)' WHERE id % 10 = 0")


def timed_import() -> tuple[float, str]:
    from portal.partners.services import partner_import  # noqa: PLC0415 - Django is set up in main()

    started = time.perf_counter()
    run = partner_import(batch_size=200)
    return time.perf_counter() - started, f"{run.new} new, {run.changed} changed, {run.unchanged} unchanged"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    django_setup(DATABASE, PARTNER_CATALOGUE_URL=bench_database_url(PARTNER))
    database_recreate(DATABASE)
    partner_recreate(args.rows)
    from portal.partners.catalogue import catalogue_setup  # noqa: PLC0415

    catalogue_setup()
    print(f"bench/partner_import.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {machine()}")
    print(f"{args.rows:,} partner rows through postgres_fdw, batches of 200 (cache {os.environ.get('CACHE_URL')})")
    results = []
    for name, before in (("first import", None), ("rerun, unchanged", None), ("rerun, 10% changed", change_tenth)):
        if before is not None:
            before()
        seconds, counts = timed_import()
        results.append(seconds)
        print(f"{name:>20}: {seconds:7.2f} s  {args.rows / seconds:8.0f} rows/s  ({counts})")
    print(f"ratio first import / unchanged rerun: {results[0] / results[1]:.1f}")


if __name__ == "__main__":
    main()
