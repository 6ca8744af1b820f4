"""The edit path's save with revisions recorded and without, side by side in one run.

Builds a database of its own with one asset (a few tags, a collection) per --tags setting, then
--repeats times, alternating, calls `library.services.asset_update` (the studio's save: row lock,
version check, save, tags and collections set) with a changed title, each in a transaction that is
rolled back, so every save starts from the same rows and the after-commit announcements (the
same for both) are left out:
- on: revisions recorded (django-simple-history: one history row plus its tags' and collections' rows);
- off: SIMPLE_HISTORY_ENABLED=False, the same save recording nothing.
Prints p50 and p95 of each in ms and the ratio on/off. Needs postgres from bin/stack. Never fails on
a number.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from common import database_recreate, django_setup, machine, percentile

DATABASE = "portal_bench_revisions"


class Rollback(Exception):
    pass


def prepare(tags: int) -> tuple[int, int, list[str], list[int]]:
    from portal.accounts.models import User  # noqa: PLC0415 - Django is set up in main()
    from portal.library.models import Asset, Collection, Status, Tag  # noqa: PLC0415

    owner, _ = User.objects.get_or_create(username="bench-revisions")
    collection = Collection.objects.create(title=f"Collection {tags}", slug=f"collection-{tags}", owner=owner)
    asset = Asset.objects.create(kind="image", title=f"Asset {tags}", slug=f"asset-{tags}", owner=owner,
                                 status=Status.PUBLISHED, description="A description. " * 20)
    names = [f"tag {tags}-{n}" for n in range(tags)]
    asset.tags.set([Tag.objects.create(name=name, slug=name.replace(" ", "-")) for name in names])
    asset.collections.set([collection])
    return asset.pk, asset.version, names, [collection.pk]


def timed_save(asset_id: int, version: int, names: list[str], collections: list[int], n: int, *,
               history: bool) -> float:
    from django.db import transaction  # noqa: PLC0415
    from django.test.utils import override_settings  # noqa: PLC0415

    from portal.library.services import AssetData, asset_update  # noqa: PLC0415

    data = AssetData(title=f"Title {n}", kind="image", description="A description. " * 20, tag_names=names,
                     collection_ids=collections)
    elapsed = 0.0
    with override_settings(SIMPLE_HISTORY_ENABLED=history):
        try:
            with transaction.atomic():
                started = time.perf_counter()
                asset_update(asset_id=asset_id, expected_version=version, data=data)
                elapsed = time.perf_counter() - started
                raise Rollback
        except Rollback:
            pass
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tags", type=int, nargs="+", default=[0, 5, 50])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    django_setup(DATABASE)
    database_recreate(DATABASE)

    print(f"bench/revisions.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {machine()}")
    print(f"asset_update, each save rolled back; {args.repeats} saves each way, alternating (ms)")
    print(f"{'tags':>5} {'on p50':>8} {'on p95':>8} {'off p50':>8} {'off p95':>8} {'p95 on/off':>11} "
          f"{'p50 on/off':>11}")
    for tags in args.tags:
        asset_id, version, names, collections = prepare(tags)
        for n in range(10):  # warm-up: connections, statement caches, the tags' rows
            timed_save(asset_id, version, names, collections, n, history=n % 2 == 0)
        on: list[float] = []
        off: list[float] = []
        for n in range(args.repeats):
            first, second = (on, off) if n % 2 == 0 else (off, on)
            first.append(timed_save(asset_id, version, names, collections, n, history=first is on))
            second.append(timed_save(asset_id, version, names, collections, n, history=second is on))
        on50, on95, off50, off95 = (percentile(on, 50), percentile(on, 95), percentile(off, 50),
                                    percentile(off, 95))
        print(f"{tags:>5} {on50:>8.2f} {on95:>8.2f} {off50:>8.2f} {off95:>8.2f} {on95 / off95:>11.2f} "
              f"{on50 / off50:>11.2f}")


if __name__ == "__main__":
    main()
