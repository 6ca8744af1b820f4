"""One rule for who may upload an asset's file, asked by the upload page and the upload API alike:
`portal.library.policy.can_edit`. The studio is shared, so any editor may upload the file of any
asset, a colleague's draft included; someone who is not an editor may not, whichever path."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from portal.library.models import Kind, Status
from portal.library.policy import can_edit
from portal.uploads import services
from portal.uploads.errors import UploadNotFound
from portal.uploads.models import UploadSession
from tests.factories import AssetFactory, UserFactory
from tests.storage import start

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleagues_draft(other_editor):
    return AssetFactory(owner=other_editor, kind=Kind.IMAGE, status=Status.DRAFT, published_at=None)


def test_the_upload_page_offers_a_colleagues_draft(api, colleagues_draft):
    response = api.get(f"/studio/upload/?asset={colleagues_draft.pk}")
    assert response.status_code == 200
    assert response.context["asset"] == colleagues_draft
    assert response.context["config"]["asset"] == colleagues_draft.pk


def test_the_upload_api_takes_a_file_for_a_colleagues_draft(api, editor, colleagues_draft):
    response = start(api, filename="a.png", size=10, type="image/png", asset=colleagues_draft.pk)
    assert response.status_code == 201
    session = UploadSession.objects.get(pk=response.json()["session"])
    assert (session.asset_id, session.owner) == (colleagues_draft.pk, editor)
    colleagues_draft.refresh_from_db()
    assert colleagues_draft.status == Status.UPLOADING


def test_page_and_api_answer_alike_for_own_and_colleagues_assets(api, editor, other_editor):
    for owner in (editor, other_editor):
        asset = AssetFactory(owner=owner, kind=Kind.IMAGE, status=Status.DRAFT, published_at=None)
        page = api.get(f"/studio/upload/?asset={asset.pk}").status_code
        api_answer = start(api, filename="a.png", size=10, type="image/png", asset=asset.pk).status_code
        assert (page, api_answer) == (200, 201)


def test_someone_who_is_no_longer_an_editor_may_upload_to_no_asset(client_as, colleagues_draft):
    former = UserFactory(username="former")  # a visitor now: the editors group was taken away
    assert client_as(former).get(f"/studio/upload/?asset={colleagues_draft.pk}").status_code == 403
    with pytest.raises(UploadNotFound):  # the service asks the same rule, whoever calls it
        services.upload_start(owner=former, filename="a.png", size=10, content_type="image/png",
                              asset_id=colleagues_draft.pk)
    colleagues_draft.refresh_from_db()
    assert colleagues_draft.status == Status.DRAFT
    assert not UploadSession.objects.exists()


def test_the_rule(editor, other_editor, visitor, colleagues_draft):
    inactive = UserFactory(username="gone", editor=True, is_active=False)
    assert can_edit(editor, colleagues_draft)
    assert can_edit(other_editor, colleagues_draft)
    assert not can_edit(visitor, colleagues_draft)
    assert not can_edit(inactive, colleagues_draft)
    assert not can_edit(AnonymousUser(), colleagues_draft)
