"""Markup written once (templates/components/) and used by every page that shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.library.models import Status

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(("markup", "component"), [
    (r'<nav class="pagination"', "components/pagination.html"),
    (r'<input type="radio"', "components/facet_radios.html"),
])
def test_each_piece_of_markup_has_one_copy(markup, component):
    holders = sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                     if re.search(markup, path.read_text()))
    assert holders == [component]


@pytest.mark.django_db
def test_the_studio_list_pages_with_its_status_filter_and_no_htmx(client_as, editor, asset_factory):
    asset_factory.create_batch(51, status=Status.READY, published_at=None)
    html = client_as(editor).get("/studio/?status=ready").content.decode()
    assert "Page 1 of 2" in html
    assert '<a href="?status=ready&amp;page=2" rel="next">Next →</a>' in html  # a plain link: the whole page


@pytest.mark.django_db
def test_browse_pages_swap_only_the_results_with_htmx(client, asset_factory, settings):
    settings.PAGE_SIZE = 2
    asset_factory.create_batch(3, kind="audio")
    html = client.get("/browse/?kind=audio").content.decode()
    assert ('<a href="?kind=audio&amp;page=2" hx-get="?kind=audio&amp;page=2" hx-target="#results" '
            'hx-push-url="true" rel="next">Next →</a>') in html
