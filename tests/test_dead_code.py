"""Code nothing called is gone, and helpers only tests used live in tests/ (tests/resets.py)."""

from __future__ import annotations

import pytest

from portal.integrations import mongo
from portal.jobs import progress, selectors
from portal.ops import readiness


@pytest.mark.parametrize(("module", "name"), [
    (selectors, "ajob_latest_for_asset"),  # no caller: the stream reads the job in a thread
    (progress, "is_final"),  # no caller: the job's status meaning is StatusMeaning's
    (progress, "last_state"),  # no caller: the stream reads the last state itself
    (mongo, "reset_client"),  # tests only: tests/resets.reset_mongo_client
    (readiness, "forget"),  # tests only: tests/resets.forget_readiness
])
def test_it_is_gone_from_the_portal(module, name):
    assert not hasattr(module, name)
