"""Processing tasks. Thin: the work is portal.processing.services.processing_run."""

from __future__ import annotations

from portal.integrations.s3 import StorageUnavailable
from portal.processing.errors import ToolMissing
from portal.processing.services import processing_run
from workers.celery import app


@app.task(
    name="processing.run",
    acks_late=True,  # a task whose worker dies is redelivered, not lost...
    reject_on_worker_lost=True,  # ...and processing_run is idempotent, so redelivery is safe
    autoretry_for=(StorageUnavailable, ToolMissing),  # transient: S3 hiccups, a tool mid-deploy
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
    soft_time_limit=3600,
    time_limit=3660,
)
def run(job_id: int) -> None:
    processing_run(job_id=job_id)
