"""Relevance and analysis against the real node: prefixes, typos, accents and plurals all find the
item; the title outranks the description, which outranks a document's extracted text."""

from __future__ import annotations

import pytest

from portal.library.models import Asset
from portal.search.backends.base import SearchQuery
from portal.search.documents import asset_document, with_relations
from portal.search.selectors import search_run

pytestmark = pytest.mark.django_db


def titles(text: str) -> list[str]:
    return [hit.title for hit in search_run(query=SearchQuery(text=text)).hits]


@pytest.fixture
def catalogue(asset_factory, indexed):
    items = [
        asset_factory(title="Volcano eruption at dawn", description="Lava flows into the sea."),
        asset_factory(title="Café culture in Lisbon", description="Morning espresso and pastries."),
        asset_factory(title="Botanical gardens tour", description="Glasshouses and palms."),
        asset_factory(title="Harbour at night", description="Boats and lights."),
    ]
    indexed(*items)
    return items


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("volc", "Volcano eruption at dawn"),  # a prefix, as typed so far
        ("vulcano", "Volcano eruption at dawn"),  # a typo
        ("volcanoe", "Volcano eruption at dawn"),  # another typo
        ("cafe", "Café culture in Lisbon"),  # without the accent
        ("CAFÉ lisbon", "Café culture in Lisbon"),  # with it, any case
        ("garden", "Botanical gardens tour"),  # singular finds the plural
        ("volcanoes", "Volcano eruption at dawn"),  # plural finds the singular
    ],
)
def test_typed_text_finds_the_item(catalogue, typed, expected):
    assert titles(typed)[:1] == [expected]


def test_unrelated_words_find_nothing(catalogue):
    assert titles("submarine") == []


def test_title_outranks_description_outranks_extracted_text(asset_factory, search_index):
    in_text = asset_factory(title="Annual report", description="Figures for the year.")
    in_description = asset_factory(title="Coastal walk", description="Seen from the lighthouse at noon.")
    in_title = asset_factory(title="Lighthouse keepers", description="A portrait series.")
    both = with_relations(Asset.objects.filter(pk__in=[in_description.pk, in_title.pk]))
    documents = [asset_document(asset) for asset in both]
    documents.append(asset_document(in_text, text="The lighthouse budget rose by ten percent."))
    search_index.write_documents(documents)  # documents: the text stands in for a rendition
    search_index.refresh()
    assert titles("lighthouse") == ["Lighthouse keepers", "Coastal walk", "Annual report"]
