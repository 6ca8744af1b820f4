"""Jobs housekeeping. Thin: the logic lives in portal.jobs.services."""

from __future__ import annotations

from portal.core.tasks import TaskName
from portal.jobs.services import job_sweep
from workers.celery import app


@app.task(name=TaskName.JOBS_SWEEP, acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def sweep() -> int:
    """Send again the jobs whose messages the broker lost (beat, every JOBS_SWEEP_SECONDS). Idempotent."""
    return len(job_sweep())
