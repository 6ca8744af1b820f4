"""Merging a tag: the PL/pgSQL function against the same merge written with the ORM, side by side.

Builds a database of its own with --assets assets, each with two of ten common tags, plus one
"source" tag on --moved of them (a tenth of which already have the target tag). Then, --repeats
times, alternating, each in a transaction that is rolled back (so both always start from the same
rows, and the after-commit announcements, equal for both, are left out):
- function: `library.services.tag_merge`'s transaction (the function and the pending-index rows);
- orm: what a Python service would do: lock the source's assets, per asset `tags.add(target)` and
  `tags.remove(source)` (Django's m2m signals record the pending index), bump the version with an
  UPDATE, delete the source tag.
Prints p50 of each in ms and the ratio orm/function at each size. Needs postgres from bin/stack.
Never fails on a number.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from common import database_recreate, django_setup, machine, percentile

DATABASE = "portal_bench_tag_merge"


class Rollback(Exception):
    pass


def load(assets: int) -> list[int]:
    from portal.accounts.models import User  # noqa: PLC0415 - Django is set up in main()
    from portal.library.models import Asset, Status, Tag  # noqa: PLC0415

    owner = User.objects.create(username="bench-tag-merge")
    common = Tag.objects.bulk_create([Tag(name=f"common {n}", slug=f"common-{n}") for n in range(10)])
    Asset.objects.bulk_create([Asset(kind="image", title=f"Asset {n}", slug=f"asset-{n}", owner=owner,
                                     status=Status.PUBLISHED) for n in range(assets)], batch_size=5000)
    ids = list(Asset.objects.order_by("pk").values_list("pk", flat=True))
    through = Asset.tags.through
    through.objects.bulk_create([through(asset_id=pk, tag_id=common[(i + k) % 10].pk)
                                 for i, pk in enumerate(ids) for k in (0, 3)], batch_size=10000)
    return ids


def prepare(ids: list[int], moved: int) -> tuple[int, int]:
    from portal.library.models import Asset, Tag  # noqa: PLC0415

    source, target = Tag.objects.create(name=f"source {moved}", slug=f"source-{moved}"), \
        Tag.objects.create(name=f"target {moved}", slug=f"target-{moved}")
    through = Asset.tags.through
    chosen = ids[:moved]
    through.objects.bulk_create([through(asset_id=pk, tag_id=source.pk) for pk in chosen] +
                                [through(asset_id=pk, tag_id=target.pk) for pk in chosen[::10]])
    return source.pk, target.pk


def merge_orm(source_id: int, target_id: int) -> None:
    from django.db.models import F  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from portal.library.models import Asset, Tag  # noqa: PLC0415

    source, target = Tag.objects.get(pk=source_id), Tag.objects.get(pk=target_id)
    assets = list(Asset.objects.select_for_update().filter(tags=source).order_by("pk").only("pk"))
    for asset in assets:
        asset.tags.add(target)
        asset.tags.remove(source)
    Asset.objects.filter(pk__in=[a.pk for a in assets]).update(version=F("version") + 1, updated_at=timezone.now())
    source.delete()


def timed(call: object, *args: int) -> float:
    from django.db import transaction  # noqa: PLC0415

    started = time.perf_counter()
    try:
        with transaction.atomic():
            call(*args)  # type: ignore[operator]
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=20_000)
    parser.add_argument("--moved", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    django_setup(DATABASE)
    database_recreate(DATABASE)
    from portal.library.services import tag_merge  # noqa: PLC0415

    print(f"bench/tag_merge.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {machine()}")
    ids = load(args.assets)
    print(f"{args.assets:,} assets with two tags each; each merge rolled back; p50 of {args.repeats} (ms)")
    print(f"{'assets moved':>12} {'function':>10} {'orm':>10} {'orm/function':>13}")
    for moved in args.moved:
        source_id, target_id = prepare(ids, min(moved, len(ids)))
        function: list[float] = []
        orm: list[float] = []
        for _ in range(args.repeats):
            function.append(timed(lambda s, t: tag_merge(source_id=s, target_id=t), source_id, target_id))
            orm.append(timed(merge_orm, source_id, target_id))
        f50, o50 = percentile(function, 50), percentile(orm, 50)
        print(f"{moved:>12,} {f50:>10.1f} {o50:>10.1f} {o50 / f50:>13.1f}")


if __name__ == "__main__":
    main()
