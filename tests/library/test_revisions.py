"""Revisions of assets and collections (django-simple-history): one per save, with who and what
changed; the history and side-by-side pages; restoring through the edit service and its conflicts."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from portal.library.lifecycle import asset_transition
from portal.library.models import Asset, Collection, Status, Visibility
from portal.library.services import CollectionData, collection_create
from tests.factories import AssetFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def _form(asset: Asset, **changes: Any) -> dict[str, Any]:
    data = {"title": asset.title, "kind": asset.kind, "description": asset.description,
            "visibility": asset.visibility, "tags": ", ".join(t.name for t in asset.tags.all()),
            "version": asset.version}
    return {**data, **changes}


def _edit(client: Any, asset: Asset, **changes: Any) -> Asset:
    response = client.post(reverse("studio:asset_edit", args=[asset.pk]), _form(asset, **changes))
    assert response.status_code == 302, response.content.decode()[:2000]
    asset.refresh_from_db()
    return asset


def _revisions(asset: Asset) -> list[Any]:
    return list(Asset.history.filter(id=asset.pk).order_by("-history_id"))


def test_an_editors_save_keeps_one_revision_with_who_and_what_changed(editor, client_as):
    asset = AssetFactory(title="Harbour at dawn", description="Boats.")
    before = len(_revisions(asset))
    _edit(client_as(editor), asset, title="Harbour at dusk", tags="boats, evening")
    revisions = _revisions(asset)
    assert len(revisions) == before + 1  # one, not one more per many-to-many change
    newest, previous = revisions[0], revisions[1]
    assert newest.history_user == editor
    assert newest.version == previous.version + 1
    assert set(newest.diff_against(previous, excluded_fields=["version"]).changed_fields) == {"title", "tags"}
    assert sorted(t.tag.name for t in newest.tags.all()) == ["boats", "evening"]


def test_status_moves_and_processing_writes_keep_no_revision(editor):
    asset = AssetFactory(status=Status.READY)
    before = len(_revisions(asset))
    asset_transition(asset_id=asset.pk, to=Status.PUBLISHED, actor=editor, reason="test")
    asset.processing_error, asset.media = "", {"duration": 12.5}
    asset.save(update_fields=["processing_error", "media", "updated_at"])
    asset.save()  # a full save that changes nothing an editor sees
    assert len(_revisions(asset)) == before
    assert "status" not in {f.name for f in Asset.history.model._meta.fields}
    assert "media" not in {f.name for f in Asset.history.model._meta.fields}


def test_the_history_page_lists_revisions_with_their_changes(editor, client_as):
    asset = AssetFactory(title="First")
    client = client_as(editor)
    _edit(client, asset, title="Second", description="Now described.")
    page = client.get(reverse("studio:asset_history", args=[asset.pk])).content.decode()
    assert "title, description" in page
    assert editor.username in page


def test_the_difference_shows_both_revisions_side_by_side_escaped(editor, client_as):
    asset = AssetFactory(title="<b>Old</b> title", description="same")
    client = client_as(editor)
    _edit(client, asset, title="<script>alert(1)</script> new")
    new, old = _revisions(asset)[:2]
    response = client.get(reverse("studio:asset_compare", args=[asset.pk]), {"a": new.history_id, "b": old.history_id})
    page = response.content.decode()
    assert response.status_code == 200
    assert "&lt;b&gt;Old&lt;/b&gt; title" in page
    assert "<b>Old</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; new" in page
    assert "<script>alert(1)" not in page
    # The older on the left whatever the order asked; the title row marked changed, the description not.
    table = page[page.index('<table class="table diff">'):]
    assert table.index("&lt;b&gt;Old") < table.index("&lt;script&gt;")
    assert table.count('<tr class="changed">') == 1


def test_restore_is_a_new_save_with_its_own_revision_and_version(editor, client_as):
    tag = TagFactory(name="sea")
    asset = AssetFactory(title="Original", visibility=Visibility.PUBLIC, status=Status.PUBLISHED)
    asset.tags.add(tag)
    client = client_as(editor)
    _edit(client, asset, title="Changed", tags="", visibility=Visibility.UNLISTED)
    old = next(r for r in _revisions(asset) if r.title == "Original")
    version = asset.version
    response = client.post(reverse("studio:asset_restore", args=[asset.pk, old.history_id]), {"version": version})
    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.title, asset.visibility, asset.version) == ("Original", Visibility.PUBLIC, version + 1)
    assert [t.name for t in asset.tags.all()] == ["sea"]
    assert asset.status == Status.PUBLISHED  # never restored: the lifecycle's
    newest = _revisions(asset)[0]
    assert newest.history_user == editor
    assert newest.history_change_reason == f"restored version {old.version}"


def test_a_stale_restore_is_refused_and_says_why(editor, client_as):
    asset = AssetFactory(title="Original")
    first, second = client_as(editor), client_as(UserFactory(editor=True))
    _edit(first, asset, title="Edited")
    old = _revisions(asset)[-1]
    loaded_version = asset.version  # the history page as the first editor loaded it
    _edit(second, asset, title="Someone else's title")
    response = first.post(reverse("studio:asset_restore", args=[asset.pk, old.history_id]),
                          {"version": loaded_version})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Not restored" in page
    assert "was changed since you opened this page" in page
    asset.refresh_from_db()
    assert asset.title == "Someone else's title"


def test_a_revision_of_another_asset_cannot_be_restored(editor, client_as):
    asset, other = AssetFactory(), AssetFactory()
    foreign = _revisions(other)[0]
    response = client_as(editor).post(reverse("studio:asset_restore", args=[asset.pk, foreign.history_id]),
                                      {"version": asset.version})
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["asset_history", "asset_compare"])
def test_revisions_of_a_private_asset_are_for_editors_only(client_as, client, name):
    owner = UserFactory()
    asset = AssetFactory(owner=owner, visibility=Visibility.PRIVATE, title="Secret plans")
    url = reverse(f"studio:{name}", args=[asset.pk])
    for user in (owner, UserFactory()):
        response = client_as(user).get(url)
        assert response.status_code == 404
        assert "Secret plans" not in response.content.decode()
    assert client.get(url).status_code == 302  # visitors are asked to sign in, as everywhere in the studio
    restore = reverse("studio:asset_restore", args=[asset.pk, _revisions(asset)[0].history_id])
    assert client_as(owner).post(restore, {"version": asset.version}).status_code == 404


def test_collections_keep_revisions_and_restore_them(editor, client_as):
    collection = collection_create(owner=editor, data=CollectionData(title="Birds", description="All of them"))
    client = client_as(editor)
    response = client.post(reverse("studio:collection_edit", args=[collection.pk]),
                           {"title": "Seabirds", "description": "Only these", "version": collection.version})
    assert response.status_code == 302
    records = list(Collection.history.filter(id=collection.pk).order_by("history_id"))
    assert [r.title for r in records] == ["Birds", "Seabirds"]
    assert records[1].history_user == editor
    collection.refresh_from_db()
    response = client.post(reverse("studio:collection_restore", args=[collection.pk, records[0].history_id]),
                           {"version": collection.version})
    assert response.status_code == 302
    collection.refresh_from_db()
    assert (collection.title, collection.description, collection.version) == ("Birds", "All of them", 3)
