"""The studio's forms go back where their `next` field says only when that is a page of this site."""

from __future__ import annotations

import pytest

from portal.library.models import Status

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/phish", "http:/\\evil.example",
                                    "javascript:alert(1)", "https://testserver.evil.example/"])
def test_publishing_never_redirects_off_site(client_as, editor, asset_factory, target):
    asset = asset_factory(status=Status.READY, published_at=None)
    response = client_as(editor).post(f"/studio/assets/{asset.pk}/publish/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/studio/"


def test_publishing_goes_back_to_a_page_of_this_site(client_as, editor, asset_factory):
    asset = asset_factory(status=Status.READY, published_at=None)
    response = client_as(editor).post(f"/studio/assets/{asset.pk}/publish/", {"next": "/studio/?status=ready"})
    assert response["Location"] == "/studio/?status=ready"
