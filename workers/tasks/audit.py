"""The audit log's retention, on the `bulk` queue. Thin: portal.audit.services does the work."""

from __future__ import annotations

from portal.audit.services import audit_expire
from portal.core.tasks import TaskName
from workers.celery import app


@app.task(name=TaskName.AUDIT_EXPIRE, acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def expire() -> int:
    """Delete entries older than AUDIT_KEEP_DAYS (daily, from beat); safe to run twice."""
    return audit_expire()
