"""With the real engine's node stopped, search answers from PostgreSQL with a notice (never a
500), a dead node costs no timeout per request (the breaker), and search recovers on its own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.search.backends.base import SearchQuery
from portal.search.backends.database import DatabaseBackend
from portal.search.signals import search_performed
from portal.search.views import FALLBACK_NOTICE
from tests.search.engine import SERVER, breaker
from tests.workers.conftest import wait_until

pytestmark = pytest.mark.django_db
RECOVERY_TIMEOUT_S = 120.0


@pytest.fixture
def meadow(asset_factory, indexed):
    items = [asset_factory(title="Meadow flowers", description="Poppies in June."),
             asset_factory(title="Meadow private", visibility="private"),
             asset_factory(title="Harbour lights")]
    indexed(*items)
    return items


def test_the_database_fallback_finds_prefixes_typos_and_respects_visibility(meadow):
    fallback = DatabaseBackend()
    assert [h.title for h in fallback.search(SearchQuery(text="mead")).hits] == ["Meadow flowers"]
    assert [h.title for h in fallback.search(SearchQuery(text="medow")).hits] == ["Meadow flowers"]
    assert [h.title for h in fallback.suggest("popp")] == ["Meadow flowers"]  # description words too
    assert [h.title for h in fallback.search(SearchQuery(text="harbour", kind="video")).hits] == ["Harbour lights"]


def test_with_the_node_stopped_the_page_answers_from_postgresql_then_recovers(meadow, client, stopped, settings):
    # SEARCH_URL may name a cluster's nodes (SCALE=2): the engine is gone when the one it asks is.
    settings.SEARCH_URL = settings.SEARCH_URL.split(",")[0]
    settings.SEARCH_BREAKER_SECONDS = 0.5
    results_url, suggest_url = reverse("search:results"), reverse("search:suggest")
    with stopped(SERVER):
        page = client.get(results_url, {"q": "mead"})
        assert page.status_code == 200
        html = page.content.decode()
        assert FALLBACK_NOTICE in html
        assert "Meadow flowers" in html
        assert "Meadow private" not in html
        assert breaker.is_open
        options = client.get(suggest_url, {"q": "mead"}, headers={"HX-Request": "true"})
        assert options.status_code == 200
        assert "Meadow flowers" in options.content.decode()
        filtered = {"q": "meadow", "tag": "x", "lat": "1", "lon": "2", "km": "3"}
        assert client.get(results_url, filtered).status_code == 200

    def recovered() -> bool:
        html = client.get(results_url, {"q": "mead"}).content.decode()
        return FALLBACK_NOTICE not in html and "<mark>Meadow</mark> flowers" in html

    wait_until(recovered, timeout=RECOVERY_TIMEOUT_S, interval=0.5, what=f"search to answer from {SERVER} again")


def test_the_fallback_does_not_pass_off_other_words_as_typos(meadow, asset_factory):
    asset_factory(title="City hall at noon")
    assert [h.title for h in DatabaseBackend().search(SearchQuery(text="harb")).hits] == ["Harbour lights"]


def test_searches_answered_by_postgresql_are_announced_as_fallback_and_keystrokes_as_suggest(meadow, client, settings):
    live_url, settings.SEARCH_URL = settings.SEARCH_URL, "http://127.0.0.1:9"  # refuses, like a dead engine
    settings.SEARCH_BREAKER_SECONDS = 0.5
    heard = []

    def listener(sender, **kwargs):
        heard.append((kwargs["query"], kwargs["result_count"], kwargs["source"]))

    search_performed.connect(listener)
    try:
        client.get(reverse("search:results"), {"q": "meadow"})
        client.get(reverse("search:suggest"), {"q": "mead"}, headers={"HX-Request": "true"})
    finally:
        search_performed.disconnect(listener)
        settings.SEARCH_URL = live_url  # the fixture drops the test's index through it
        breaker.succeeded()
    # Suggestions stay "suggest" whichever engine answered: analytics counts submitted searches only.
    assert heard == [("meadow", 1, "fallback"), ("mead", 1, "suggest")]
