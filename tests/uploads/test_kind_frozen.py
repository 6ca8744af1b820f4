"""An asset's kind is fixed once a file exists or is on its way: the kind chose the checks the file
passed and the pipeline it goes to, so a text file uploaded as a document never reaches ffmpeg as a
video. The edit form shows the kind disabled, and the service refuses a change from anywhere else."""

from __future__ import annotations

import re

import pytest

from portal.library.errors import KindFrozen
from portal.library.models import Asset, Kind, Status
from portal.library.services import AssetData, asset_update
from tests.factories import AssetFactory
from tests.storage import finalize, sent, start

pytestmark = pytest.mark.django_db

TEXT = b"Minutes of the harbour committee.\nNothing to report.\n" * 20


def edit_form(**overrides: object) -> dict[str, object]:
    return {"title": "Minutes", "kind": "document", "description": "", "visibility": "public", "tags": "",
            "version": 0, **overrides}


def uploaded_text(api) -> Asset:
    ticket = sent(api, TEXT, filename="minutes.txt", content_type="text/plain")
    assert finalize(api, ticket["session"]).status_code == 200
    asset = Asset.objects.get(pk=ticket["asset"])
    assert (asset.kind, asset.status) == (Kind.DOCUMENT, Status.PROCESSING)
    return asset


def test_the_edit_form_cannot_turn_an_uploaded_text_file_into_a_video(api):
    asset = uploaded_text(api)

    page = api.get(f"/studio/assets/{asset.pk}/edit/").content.decode()
    select = re.search(r"<select[^>]*name=\"kind\"[^>]*>", page)
    assert select is not None
    assert "disabled" in select.group(0)
    assert "Fixed once a file is uploaded" in page

    response = api.post(f"/studio/assets/{asset.pk}/edit/", edit_form(kind="video", title="Renamed",
                                                                       version=asset.version))
    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.title, asset.kind) == ("Renamed", Kind.DOCUMENT), "the rest is saved; the kind is not"


def test_the_service_refuses_to_change_the_kind_of_an_asset_with_a_file(api, editor):
    asset = uploaded_text(api)
    data = AssetData(title="Minutes", kind=Kind.VIDEO)
    with pytest.raises(KindFrozen):
        asset_update(asset_id=asset.pk, expected_version=asset.version, data=data)
    asset.refresh_from_db()
    assert asset.kind == Kind.DOCUMENT


def test_the_kind_is_frozen_while_the_file_is_on_its_way(api, editor):
    ticket = start(api, filename="minutes.txt", size=len(TEXT), type="text/plain").json()
    asset = Asset.objects.get(pk=ticket["asset"])
    assert asset.status == Status.UPLOADING
    with pytest.raises(KindFrozen):
        asset_update(asset_id=asset.pk, expected_version=asset.version,
                     data=AssetData(title="Minutes", kind=Kind.VIDEO))
    assert Asset.objects.get(pk=asset.pk).kind == Kind.DOCUMENT


def test_a_draft_without_a_file_may_still_change_its_kind(api, editor):
    draft = AssetFactory(owner=editor, kind=Kind.VIDEO, status=Status.DRAFT, published_at=None)
    page = api.get(f"/studio/assets/{draft.pk}/edit/").content.decode()
    assert "disabled" not in re.search(r"<select[^>]*name=\"kind\"[^>]*>", page).group(0)
    response = api.post(f"/studio/assets/{draft.pk}/edit/", edit_form(kind="audio", version=draft.version))
    assert response.status_code == 302
    assert Asset.objects.get(pk=draft.pk).kind == Kind.AUDIO
