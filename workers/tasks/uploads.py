"""Upload housekeeping. Thin: the logic lives in portal.uploads."""

from __future__ import annotations

from django.utils import timezone

from portal.core.tasks import TaskName
from portal.uploads.cleanup import uploads_cleanup
from workers.celery import app


@app.task(name=TaskName.UPLOADS_CLEANUP, acks_late=True, reject_on_worker_lost=True,
          soft_time_limit=600, time_limit=660)
def cleanup() -> dict[str, int]:
    """Abandoned upload sessions and orphan objects (idempotent: safe to run twice)."""
    return uploads_cleanup(now=timezone.now())
