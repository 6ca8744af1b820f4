"""Merging tags: the PL/pgSQL function (migration 0009) through library.services.tag_merge, against
the real PostgreSQL: memberships, versions, the pending index, the cache generation, a failure
midway, concurrent callers, and the studio's form."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection, connections
from django.test import Client

from portal.core.fragments import GENERATION_KEY
from portal.library.errors import TagMergeRefused
from portal.library.models import Asset, Tag
from portal.library.services import tag_merge
from portal.search.models import PendingIndex
from tests.factories import AssetFactory, TagFactory


def memberships() -> set[tuple[int, int]]:
    return set(Asset.tags.through.objects.values_list("asset_id", "tag_id"))


def test_merge_moves_memberships_once_bumps_versions_and_records_the_index(
        db: None, django_capture_on_commit_callbacks: Callable) -> None:
    source, target, other = TagFactory(name="colour"), TagFactory(name="color"), TagFactory(name="night")
    only_source, both, only_target, untouched = AssetFactory.create_batch(4)
    only_source.tags.set([source, other])
    both.tags.set([source, target])
    only_target.tags.set([target])
    untouched.tags.set([other])
    versions = dict(Asset.objects.values_list("pk", "version"))
    PendingIndex.objects.all().delete()
    cache.delete(GENERATION_KEY)

    with django_capture_on_commit_callbacks(execute=True):
        moved = tag_merge(source_id=source.pk, target_id=target.pk)

    assert sorted(moved) == sorted([only_source.pk, both.pk])
    assert not Tag.objects.filter(pk=source.pk).exists()
    assert memberships() == {(only_source.pk, target.pk), (only_source.pk, other.pk), (both.pk, target.pk),
                             (only_target.pk, target.pk), (untouched.pk, other.pk)}
    after = dict(Asset.objects.values_list("pk", "version"))
    assert after[only_source.pk] == versions[only_source.pk] + 1
    assert after[both.pk] == versions[both.pk] + 1
    assert after[only_target.pk] == versions[only_target.pk]
    assert {only_source.pk, both.pk} <= set(PendingIndex.objects.values_list("asset_id", flat=True))
    assert cache.get(GENERATION_KEY)  # bumped after commit: cached facet counts and lists are stale


def test_a_tag_into_itself_or_a_missing_tag_is_refused_and_changes_nothing(db: None) -> None:
    tag = TagFactory(name="solo")
    AssetFactory().tags.set([tag])
    before = memberships()
    with pytest.raises(TagMergeRefused, match="itself"):
        tag_merge(source_id=tag.pk, target_id=tag.pk)
    with pytest.raises(TagMergeRefused, match="no longer exists"):
        tag_merge(source_id=tag.pk, target_id=tag.pk + 10_000)
    assert memberships() == before
    assert Tag.objects.filter(pk=tag.pk).exists()


def test_a_failure_midway_leaves_everything_unchanged(db: None) -> None:
    source, target = TagFactory(name="old"), TagFactory(name="new")
    assets = AssetFactory.create_batch(3)
    for asset in assets:
        asset.tags.set([source])
    PendingIndex.objects.all().delete()
    before, versions = memberships(), dict(Asset.objects.values_list("pk", "version"))
    # The last step (deleting the source tag) fails, after the memberships were moved and versions bumped.
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$")
        cursor.execute("CREATE TRIGGER test_refuse BEFORE DELETE ON library_tag "
                       "FOR EACH ROW EXECUTE FUNCTION test_refuse()")

    with pytest.raises(DatabaseError, match="refused by the test"):
        tag_merge(source_id=source.pk, target_id=target.pk)

    assert memberships() == before
    assert dict(Asset.objects.values_list("pk", "version")) == versions
    assert Tag.objects.filter(pk=source.pk).exists()
    assert not PendingIndex.objects.exists()


def _run_together(*calls: Callable[[], object]) -> list[object]:
    """Each call in its own thread (so its own connection), released at the same moment."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects what each caller got
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _tagged(count: int, *tag_sets: list[Tag]) -> list[Asset]:
    assets = AssetFactory.create_batch(count)
    for i, asset in enumerate(assets):
        asset.tags.set(tag_sets[i % len(tag_sets)])
    return assets


@pytest.mark.parametrize("round_", range(3))
def test_two_merges_into_one_tag_at_once_both_succeed_and_lose_nothing(transactional_db: None, round_: int) -> None:
    a, b, target = TagFactory(name="a"), TagFactory(name="b"), TagFactory(name="target")
    assets = _tagged(60, [a], [b], [a, b], [a, target], [b, target], [a, b, target])

    results = _run_together(lambda: tag_merge(source_id=a.pk, target_id=target.pk),
                            lambda: tag_merge(source_id=b.pk, target_id=target.pk))

    assert all(isinstance(result, list) for result in results), results
    assert list(Tag.objects.values_list("name", flat=True)) == ["target"]
    assert memberships() == {(asset.pk, target.pk) for asset in assets}  # a set: no duplicate rows either
    assert Asset.tags.through.objects.count() == len(assets)


@pytest.mark.parametrize("round_", range(3))
def test_chained_merges_at_once_never_lose_a_membership(transactional_db: None, round_: int) -> None:
    """a → b and b → c together: whichever locks b first wins. If a → b goes first, both succeed and
    everything ends on c; if b → c goes first, a → b finds b gone and is refused, changing nothing."""
    a, b, c = TagFactory(name="a"), TagFactory(name="b"), TagFactory(name="c")
    assets = _tagged(60, [a], [b], [c], [a, b], [b, c], [a, c], [a, b, c])
    before = {asset.pk: {tag.pk for tag in asset.tags.all()} for asset in assets}

    first, second = _run_together(lambda: tag_merge(source_id=a.pk, target_id=b.pk),
                                  lambda: tag_merge(source_id=b.pk, target_id=c.pk))

    assert isinstance(second, list), second
    if isinstance(first, list):  # a → b, then b → c: everything ends on c
        expected = {(asset_id, c.pk) for asset_id in before}
    else:  # b → c alone: a's assets keep a
        assert isinstance(first, TagMergeRefused), first
        expected = ({(asset_id, a.pk) for asset_id, tags in before.items() if a.pk in tags}
                    | {(asset_id, c.pk) for asset_id, tags in before.items() if tags & {b.pk, c.pk}})
    assert memberships() == expected
    assert Asset.tags.through.objects.count() == len(expected)


def test_studio_merges_tags_for_editors_only(client_as: Callable[[object], Client], editor: object,
                                            visitor: object) -> None:
    source, target = TagFactory(name="<b>colour</b>"), TagFactory(name="color")
    asset = AssetFactory()
    asset.tags.set([source])
    form = {"source": source.pk, "target": target.pk}

    assert client_as(visitor).post("/studio/tags/", form).status_code == 403
    refused = Client(enforce_csrf_checks=True)
    refused.force_login(editor)  # type: ignore[arg-type]
    assert refused.post("/studio/tags/", form).status_code == 403  # no CSRF token

    page = client_as(editor).get("/studio/tags/")
    assert "&lt;b&gt;colour&lt;/b&gt;" in page.content.decode()
    assert "csrfmiddlewaretoken" in page.content.decode()
    same = client_as(editor).post("/studio/tags/", {"source": target.pk, "target": target.pk})
    assert same.status_code == 400
    assert "Choose two different tags." in same.content.decode()

    response = client_as(editor).post("/studio/tags/", form, follow=True)
    assert "into “color” (1 asset)" in response.content.decode()
    assert list(asset.tags.values_list("name", flat=True)) == ["color"]
