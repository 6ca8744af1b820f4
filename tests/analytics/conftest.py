"""Analytics fixtures: the real FerretDB, in this test run's own database, dropped around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.integrations import mongo
from tests.resets import reset_mongo_client


@pytest.fixture
def mongo_db() -> Iterator[str]:
    reset_mongo_client()
    mongo.drop_database()
    mongo.ensure_indexes()
    yield mongo.database_name()
    reset_mongo_client()
    mongo.drop_database()
