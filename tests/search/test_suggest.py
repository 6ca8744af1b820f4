"""Suggestions (one query a keystroke, through the title's search-as-you-type field): the word being
typed is a prefix, finished words forgive a typo, words typed in the title's order rank first, and
the hits never carry a total count the engine had to compute."""

from __future__ import annotations

import pytest

from portal.search.queries import suggest_body
from portal.search.selectors import search_suggest
from tests.search.engine import SERVER

pytestmark = pytest.mark.django_db


@pytest.fixture
def lanterns(asset_factory, indexed):
    indexed(asset_factory(title="Harbour lanterns at dusk"), asset_factory(title="Lanterns by the harbour"),
            asset_factory(title="Paper lantern festival"), asset_factory(title="Meadow at dusk"))


def titles(text: str) -> list[str]:
    hits, source = search_suggest(text=text)
    assert source == SERVER  # the engine's query answered, not the PostgreSQL fallback
    return [hit.title for hit in hits]


def test_the_last_word_is_a_prefix_and_finished_words_forgive_a_typo(lanterns):
    assert titles("fest") == ["Paper lantern festival"]
    assert titles("lantren fest") == ["Paper lantern festival"]  # "lantren": one swap from "lantern"
    assert titles("meadow lan") == []  # every word must match


def test_words_in_the_titles_order_rank_first(lanterns):
    assert titles("harbour lan")[:2] == ["Harbour lanterns at dusk", "Lanterns by the harbour"]
    assert titles("lanterns by")[0] == "Lanterns by the harbour"


def test_whole_words_are_highlighted_and_no_total_is_counted(lanterns):
    hits, source = search_suggest(text="pap")
    assert source == SERVER
    assert [hit.title_html for hit in hits] == ["<mark>Paper</mark> lantern festival"]
    assert suggest_body("pap", limit=8)["track_total_hits"] is False
