"""/favicon.ico answers (browsers and crawlers ask for it whatever the page says), and every page
names the icon itself, so a browser showing our pages never asks for the unversioned path."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_hashed_icon_which_is_served() -> None:
    client = Client()
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert re.fullmatch(r"/static/favicon\.[0-9a-f]{12}\.ico", response["Location"])
    assert "max-age=86400" in response["Cache-Control"]

    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert icon["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert b"".join(icon.streaming_content).startswith(b"\x00\x00\x01\x00")  # the ICO header


def test_every_page_names_the_same_icon(client: Client) -> None:
    target = client.get("/favicon.ico")["Location"]
    for path in ("/", "/browse/", "/accounts/login/"):
        page = client.get(path).content.decode()
        assert f'<link rel="icon" href="{target}"' in page, path
