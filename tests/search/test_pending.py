"""PostgreSQL is the record of index work: an update is recorded in the transaction of the change,
survives a broker that was unreachable when the change was announced, and the sweeper sends it
again once the broker is back; the task clears the record only for what it has written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portal.library import services as library
from portal.library.models import Asset
from portal.search.backends.base import SearchQuery
from portal.search.models import PendingIndex
from portal.search.selectors import search_run
from portal.search.services import search_pending_sweep
from tests.workers.conftest import (  # noqa: F401 - fixtures used by name
    broker_redis,
    progress_redis,
    start_process,
    start_worker,
    wait_until,
    work_dir,
    worker_env,
)

DEAD_BROKER = "redis://127.0.0.1:9/0"  # nothing listens: Redis unreachable, as in an outage
FOUND_TIMEOUT_S = 60.0  # a deadline for polling, not a speed claim


def titles(text: str) -> list[str]:
    return [hit.title for hit in search_run(query=SearchQuery(text=text)).hits]


@pytest.mark.django_db(transaction=True)
def test_an_update_requested_while_the_broker_is_down_reaches_the_index_after_it_returns(
        search_index, indexed, start_worker, editor, asset_factory, settings):
    asset = asset_factory(title="Kestrel", owner=editor)
    indexed(asset)
    live_broker, settings.CELERY_BROKER_URL = settings.CELERY_BROKER_URL, DEAD_BROKER
    data = library.AssetData(title="Kestrel hovering", kind=asset.kind)
    library.asset_update(asset_id=asset.pk, expected_version=asset.version, data=data)
    settings.CELERY_BROKER_URL = live_broker  # the broker is back; nothing was queued meanwhile
    assert PendingIndex.objects.filter(asset_id=asset.pk).exists()
    search_index.refresh()
    assert titles("hovering") == []  # the update never reached a queue

    worker = start_worker("interactive", SEARCH_INDEX_PREFIX=settings.SEARCH_INDEX_PREFIX)
    assert search_pending_sweep(grace_s=0) == 1
    wait_until(lambda: titles("hovering") == ["Kestrel hovering"], timeout=FOUND_TIMEOUT_S,
               what="the swept update searchable", explain=worker.tail)
    wait_until(lambda: not PendingIndex.objects.filter(asset_id=asset.pk).exists(), timeout=FOUND_TIMEOUT_S,
               what="the record cleared by the task", explain=worker.tail)


@pytest.mark.django_db(transaction=True)
def test_the_record_commits_with_the_change_or_not_at_all(asset_factory, editor):
    asset = asset_factory(title="Heron")
    PendingIndex.objects.all().delete()
    seen_inside = []

    def change_then_fail() -> None:
        with transaction.atomic():
            Asset.objects.filter(pk=asset.pk).get().save()
            seen_inside.append(PendingIndex.objects.filter(asset_id=asset.pk).exists())
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert seen_inside == [True]
    assert not PendingIndex.objects.filter(asset_id=asset.pk).exists()
    with transaction.atomic():
        tag = asset.tags.create(slug="wading", name="wading")  # a relation change is recorded too
    assert PendingIndex.objects.filter(asset_id=asset.pk).exists()
    PendingIndex.objects.all().delete()
    tag.assets.clear()  # from the tag's side: Django's post_clear carries no asset ids
    assert PendingIndex.objects.filter(asset_id=asset.pk).exists()
    tag.assets.add(asset)
    PendingIndex.objects.all().delete()
    tag.delete()  # its link rows go without an m2m_changed signal
    assert PendingIndex.objects.filter(asset_id=asset.pk).exists()


@pytest.mark.django_db
def test_the_sweep_waits_out_the_grace_period_and_sends_each_record_once_per_period(
        asset_factory, broker_redis, settings):
    asset = asset_factory(title="Egret")
    PendingIndex.objects.filter(asset_id=asset.pk).update(requested_at=timezone.now() - timedelta(seconds=30))
    assert search_pending_sweep(grace_s=60) == 0  # still within its grace period
    assert search_pending_sweep(grace_s=10) == 1
    assert search_pending_sweep(grace_s=10) == 0  # just sent: not again within the period
    settings.CELERY_BROKER_URL = DEAD_BROKER
    PendingIndex.objects.filter(asset_id=asset.pk).update(sent_at=None)
    assert search_pending_sweep(grace_s=10) == 0  # the broker is down: the record waits for the next run
    assert PendingIndex.objects.get(asset_id=asset.pk).sent_at is None
