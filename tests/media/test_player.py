"""The player never names a source it does not have: an empty src would make the browser fetch the
page's own URL (or "None") and log an error."""

from __future__ import annotations

import pytest

from portal.library.models import Kind
from tests.factories import AssetFactory

pytestmark = pytest.mark.django_db


def test_a_visitors_audio_player_without_a_preview_or_an_offered_original_has_no_src(client):
    asset = AssetFactory(kind=Kind.AUDIO, source_key="originals/1/x", source_size=10, source_type="audio/wav",
                         offer_original=False)
    page = client.get(asset.get_absolute_url()).content.decode()
    assert '<audio controls preload="metadata">' in page
    assert 'src="None"' not in page
    assert 'src=""' not in page
