"""Broadcasts (ping, revoke) survive a Redis restart: they do not retry, so they must not reuse a
pooled connection that died with the server."""

from __future__ import annotations

import pytest

from portal.jobs import broker

pytestmark = pytest.mark.django_db


def test_ping_and_revoke_work_at_once_after_redis_restarted(stopped):
    broker.send_each(name="ops.noop", queue="bulk", calls=[[]])  # fills the pool with a live connection
    broker.workers_answering(timeout=0.2)
    with stopped("redis"):
        pass  # stopped, then started again: the pooled connection is now dead
    assert broker.workers_answering(timeout=0.2) == []  # no worker here; before: BrokerUnavailable
    broker.revoke(task_id="not-a-task")
