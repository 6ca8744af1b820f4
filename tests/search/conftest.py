"""Search fixtures: every test gets its own versioned index and alias on the real engine's node
(named from SEARCH_INDEX_PREFIX, which under DJANGO_ENV=test starts with this run's test database),
created before the test and dropped after it. The dev index is never touched."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

# The real-worker test borrows tests/workers' fixtures; its broker is this run's own broker database
# (CELERY_BROKER_URL's), so a parallel run of tests/workers cannot flush the tasks it waits for.
if broker_url := os.environ.get("CELERY_BROKER_URL"):
    os.environ.setdefault("WORKERS_TEST_BROKER_DB", broker_url.rsplit("/", 1)[-1])

from portal.library.models import Asset
from portal.search.backends import get_search_backend
from portal.search.documents import with_relations
from portal.search.services import search_setup
from tests.search.engine import Backend, breaker


@pytest.fixture
def search_index(settings: Any) -> Iterator[Any]:
    settings.SEARCH_INDEX_PREFIX = f"{settings.SEARCH_INDEX_PREFIX}-{uuid.uuid4().hex[:10]}"
    breaker.succeeded()  # a previous test's outage must not leak into this one
    engine = get_search_backend()
    assert isinstance(engine, Backend)
    assert search_setup() is not None
    yield engine
    breaker.succeeded()
    engine.drop_all()


@pytest.fixture
def indexed(search_index: Any) -> Callable[..., None]:
    """`indexed(asset, ...)`: write these assets' documents now and refresh, so a search sees them."""

    def write(*assets: Asset) -> None:
        fresh = with_relations(Asset.objects.filter(pk__in=[asset.pk for asset in assets]))
        search_index.bulk_index(fresh)
        search_index.refresh()

    return write
