"""Hostile original file names end up cleaned in the database and escaped on the studio pages."""

from __future__ import annotations

import unicodedata

import pytest

from portal.library.models import Asset
from portal.uploads.models import UploadSession
from tests.storage import finalize, sent

pytestmark = pytest.mark.django_db

XSS_NAME = "<img src=x onerror=alert(1)>.png"


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("ph\x00oto\x1b[2J\u202egnp.exe.png", "photo[2Jgnp.exe.png"),
    ("x" * 296 + ".png", "x" * 251 + ".png"),
    (XSS_NAME, XSS_NAME),
])
def test_the_stored_name_is_cleaned_and_the_key_is_ours(api, media_files, raw, clean):
    ticket = sent(api, media_files["png"], filename=raw, content_type="image/png")
    assert finalize(api, ticket["session"]).status_code == 200
    asset = Asset.objects.get(pk=ticket["asset"])
    assert UploadSession.objects.get(pk=ticket["session"]).original_filename == clean
    assert asset.original_filename == clean
    assert len(asset.original_filename) <= 255
    assert not any(unicodedata.category(ch).startswith("C") for ch in asset.original_filename)
    assert not {"/", "\\"} & set(asset.original_filename)
    assert ticket["key"].rsplit("/", 1)[-1].isalnum()  # the object key never carries the name


def test_a_name_with_markup_is_escaped_on_the_studio_edit_page(api, media_files):
    ticket = sent(api, media_files["png"], filename=XSS_NAME, content_type="image/png")
    finalize(api, ticket["session"])
    html = api.get(f"/studio/assets/{ticket['asset']}/edit/").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in html  # the file name
    assert "<img src=x" not in html


def test_a_title_made_from_a_name_with_markup_is_escaped_in_the_studio_list(api, media_files):
    ticket = sent(api, media_files["png"], filename=XSS_NAME, content_type="image/png")
    finalize(api, ticket["session"])
    html = api.get("/studio/").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the title, from the name
    assert "<img src=x" not in html


def test_a_refused_upload_shows_its_reason_escaped(api, media_files):
    ticket = sent(api, media_files["html"], filename=XSS_NAME, content_type="image/png")
    assert finalize(api, ticket["session"]).status_code == 422
    html = api.get(f"/studio/assets/{ticket['asset']}/edit/").content.decode()
    assert "The upload failed: “&lt;img src=x onerror=alert(1)&gt;.png” is not really an image" in html
    assert "<img src=x" not in html
