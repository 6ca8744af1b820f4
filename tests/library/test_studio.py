"""The editors' studio: roles, create/edit/publish/unpublish/delete, and safe concurrent edits."""

from __future__ import annotations

import pytest

from portal.library.models import Asset, Collection, Status

pytestmark = pytest.mark.django_db


def form_data(**overrides: object) -> dict[str, object]:
    return {"title": "A title", "kind": "video", "description": "", "visibility": "public", "tags": "", **overrides}


def test_visitors_are_sent_to_log_in_and_non_editors_refused(client, client_as, visitor):
    response = client.get("/studio/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client_as(visitor).get("/studio/").status_code == 403
    assert client_as(visitor).post("/studio/assets/new/", form_data()).status_code == 403
    assert not Asset.objects.exists()


def test_editor_creates_a_draft_with_tags(client_as, editor):
    response = client_as(editor).post("/studio/assets/new/", form_data(title="Tide", tags="sea, Night , sea"))
    asset = Asset.objects.get()
    assert response.status_code == 302
    assert (asset.title, asset.status, asset.owner) == ("Tide", Status.DRAFT, editor)
    assert sorted(t.slug for t in asset.tags.all()) == ["night", "sea"]


def test_invalid_form_says_what_is_wrong_and_saves_nothing(client_as, editor):
    response = client_as(editor).post("/studio/assets/new/", form_data(title="   ", kind="hologram"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required." in html
    assert "Select a valid choice." in html
    assert not Asset.objects.exists()


def test_publish_and_unpublish(client_as, editor, asset_factory):
    asset = asset_factory(status=Status.DRAFT, published_at=None)
    client = client_as(editor)
    client.post(f"/studio/assets/{asset.pk}/publish/")
    asset.refresh_from_db()
    assert asset.status == Status.PUBLISHED
    assert asset.published_at is not None
    client.post(f"/studio/assets/{asset.pk}/unpublish/")
    asset.refresh_from_db()
    assert asset.status == Status.READY


def test_publish_with_htmx_returns_the_updated_row(client_as, editor, asset_factory):
    asset = asset_factory(status=Status.DRAFT, published_at=None)
    response = client_as(editor).post(f"/studio/assets/{asset.pk}/publish/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="asset-row-{asset.pk}"')
    assert "Unpublish" in html


def test_delete_needs_a_post(client_as, editor, asset_factory):
    asset = asset_factory()
    client = client_as(editor)
    assert client.get(f"/studio/assets/{asset.pk}/delete/").status_code == 200
    assert Asset.objects.filter(pk=asset.pk).exists()
    client.post(f"/studio/assets/{asset.pk}/delete/")
    assert not Asset.objects.filter(pk=asset.pk).exists()


def test_second_editor_sees_conflict_and_nothing_is_overwritten(client_as, editor, asset_factory, django_user_model):
    other = django_user_model.objects.create_user("other-editor")
    other.groups.set(editor.groups.all())
    asset = asset_factory(title="Original")
    first, second = client_as(editor), client_as(other)
    loaded = second.get(f"/studio/assets/{asset.pk}/edit/").context["form"].initial
    first.post(f"/studio/assets/{asset.pk}/edit/", form_data(title="First", version=loaded["version"]))

    response = second.post(f"/studio/assets/{asset.pk}/edit/", form_data(title="Second", version=loaded["version"]))

    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this asset" in html
    assert "First" in html  # the other editor's change is shown
    assert 'value="Second"' in html  # and this editor's text is kept in the form
    asset.refresh_from_db()
    assert asset.title == "First"
    # Saving again from the conflict page is a deliberate overwrite, and it works.
    rearmed = response.context["form"].data["version"]
    second.post(f"/studio/assets/{asset.pk}/edit/", form_data(title="Second", version=rearmed))
    asset.refresh_from_db()
    assert asset.title == "Second"


def test_collections_crud_keeps_assets(client_as, editor, asset_factory):
    client = client_as(editor)
    client.post("/studio/collections/new/", {"title": "Harbours", "description": "Boats."})
    collection = Collection.objects.get()
    asset = asset_factory(collections=[collection])
    client.post(f"/studio/collections/{collection.pk}/edit/", {"title": "Ports", "version": collection.version})
    collection.refresh_from_db()
    assert collection.title == "Ports"
    client.post(f"/studio/collections/{collection.pk}/delete/")
    assert not Collection.objects.exists()
    assert Asset.objects.filter(pk=asset.pk).exists()
