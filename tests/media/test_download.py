"""Private media: the portal checks who asks, then hands out a signed S3 URL that expires in
minutes; everyone else gets the same 404 as for an asset that does not exist."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from portal.library.models import Status, Visibility
from portal.uploads.filenames import clean_filename
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TIMEOUT = 10


@pytest.fixture
def owner(db):
    return UserFactory(username="own")


@pytest.fixture
def private(asset_with_file, owner):
    return asset_with_file(owner=owner, status=Status.PUBLISHED, visibility=Visibility.PRIVATE)


def download_url(asset) -> str:
    return f"/assets/{asset.slug}/download/"


def signed(response) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 302
    location = response["Location"]
    return location, parse_qs(urlsplit(location).query)


def test_the_owner_is_redirected_to_a_signed_url_that_serves_the_file(client_as, owner, private, settings, video):
    location, query = signed(client_as(owner).get(download_url(private)))
    assert location.startswith(f"{settings.S3_ENDPOINT_URL}/{settings.S3_PRIVATE_BUCKET}/{private.source_key}?")
    assert "X-Amz-Signature" in query
    assert requests.get(location, timeout=TIMEOUT).content == video


def test_the_signed_url_lives_at_most_five_minutes(client_as, owner, private):
    _, query = signed(client_as(owner).get(download_url(private)))
    assert 0 < int(query["X-Amz-Expires"][0]) <= 300


def test_the_download_is_never_cached_by_the_browser_or_a_proxy(client_as, owner, private):
    response = client_as(owner).get(download_url(private))
    assert "no-store" in response["Cache-Control"]


def test_an_editor_who_is_not_the_owner_can_download(client_as, editor, private, video):
    location, _ = signed(client_as(editor).get(download_url(private)))
    assert requests.get(location, timeout=TIMEOUT).content == video


@pytest.mark.parametrize("who", ["anonymous", "another user"])
def test_anyone_else_gets_a_404(client, client_as, private, who):
    browser = client if who == "anonymous" else client_as(UserFactory(username="someone"))
    assert browser.get(download_url(private)).status_code == 404


def test_a_draft_of_someone_else_is_a_404_even_when_public(client_as, asset_with_file):
    draft = asset_with_file(status=Status.READY, visibility=Visibility.PUBLIC)
    assert client_as(UserFactory(username="someone")).get(download_url(draft)).status_code == 404


def test_the_attachment_carries_the_cleaned_file_name(client_as, owner, asset_with_file):
    name = clean_filename('..\\..\\re"port\x00\r\nSet-Cookie: x=1\u202e.mp4')
    asset = asset_with_file(owner=owner, visibility=Visibility.PRIVATE, filename=name)
    location, _ = signed(client_as(owner).get(download_url(asset)))
    disposition = requests.get(location, timeout=TIMEOUT).headers["Content-Disposition"]
    assert name == 're"portSet-Cookie: x=1.mp4'
    assert disposition == ("attachment; filename=\"reportSet-Cookie: x=1.mp4\"; "
                           "filename*=UTF-8''re%22portSet-Cookie%3A%20x%3D1.mp4")


def test_a_non_ascii_name_keeps_its_utf8_spelling(client_as, owner, asset_with_file):
    asset = asset_with_file(owner=owner, visibility=Visibility.PRIVATE, filename="Été à Montréal.mp4")
    location, _ = signed(client_as(owner).get(download_url(asset)))
    disposition = requests.get(location, timeout=TIMEOUT).headers["Content-Disposition"]
    assert "filename*=UTF-8''%C3%89t%C3%A9%20%C3%A0%20Montr%C3%A9al.mp4" in disposition


def test_s3_refuses_the_signed_url_once_it_expired(client_as, owner, private, settings):
    settings.PRIVATE_URL_SECONDS = 1
    location, _ = signed(client_as(owner).get(download_url(private)))
    time.sleep(2)  # let the signature expire; not a timing assertion
    assert requests.get(location, timeout=TIMEOUT).status_code == 403


def test_the_private_bucket_refuses_anyone_without_a_signature(private, settings):
    url = f"{settings.S3_ENDPOINT_URL}/{settings.S3_PRIVATE_BUCKET}/{private.source_key}"
    assert requests.get(url, timeout=TIMEOUT).status_code == 403


def test_the_owners_page_plays_a_private_asset_from_a_signed_url_not_the_cdn(client_as, owner, private, settings):
    html = client_as(owner).get(private.get_absolute_url()).content.decode()
    assert f'src="{settings.S3_ENDPOINT_URL}/{settings.S3_PRIVATE_BUCKET}/{private.source_key}?' in html
    assert settings.CDN_BASE_URL not in html
