"""Analytics tasks on the `bulk` queue. Thin: the logic lives in portal.analytics.services."""

from __future__ import annotations

import logging

from portal.analytics.selectors import rollups_refresh
from portal.analytics.services import events_expire, outbox_ship_all
from portal.core.tasks import TaskName
from portal.integrations.mongo import MongoUnavailable
from workers.celery import app

log = logging.getLogger(__name__)


@app.task(name=TaskName.ANALYTICS_SHIP, acks_late=True, reject_on_worker_lost=True, ignore_result=True,
          soft_time_limit=120, time_limit=150)
def ship() -> int:
    """Move the outbox to MongoDB. Beat runs it every few seconds; MongoDB down means the rows
    wait for the next run (nothing is lost, nothing is retried in a tight loop)."""
    try:
        return outbox_ship_all()
    except MongoUnavailable as error:
        log.warning("analytics outbox not shipped, MongoDB unavailable: %s", error)
        return 0


@app.task(name=TaskName.ANALYTICS_EXPIRE, acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def expire() -> int:
    return events_expire()


@app.task(name=TaskName.ANALYTICS_REFRESH, acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=330)
def refresh() -> None:
    """Keep the analytics page's roll-ups warm (every minute), so editors never wait on an aggregation."""
    try:
        rollups_refresh()
    except MongoUnavailable as error:
        log.warning("analytics roll-ups not refreshed, MongoDB unavailable: %s", error)
