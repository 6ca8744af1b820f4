"""Processing tasks. Thin: the work is portal.processing.services.processing_run, and OCR after it
(portal.processing.ocr_services.ocr_run)."""

from __future__ import annotations

from typing import Any

from billiard.einfo import ExceptionInfo
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from django.conf import settings

from portal.core.tasks import TaskName
from portal.integrations.s3 import StorageUnavailable
from portal.processing import workdir
from portal.processing.errors import ToolMissing
from portal.processing.ocr_services import ocr_give_up, ocr_run
from portal.processing.services import (
    GAVE_UP_STORAGE,
    GAVE_UP_TIME,
    GAVE_UP_TOOL,
    GAVE_UP_UNEXPECTED,
    processing_give_up,
    processing_run,
)
from workers.celery import app

TRANSIENT = (StorageUnavailable, ToolMissing)  # S3 hiccups, a tool mid-deploy


class ProcessingTask(Task[[int], None]):
    def on_failure(self, exc: Exception, task_id: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                   einfo: ExceptionInfo) -> None:
        """The task failed for good: its retries ran out, or an error that is neither the file's
        (processing_run fails the job itself then) nor transient. Without this the job would stay
        "running" with no worker on it, and the asset "processing", forever."""
        job_id = int(kwargs.get("job_id", args[0] if args else 0))
        if isinstance(exc, TRANSIENT):
            reason = GAVE_UP_STORAGE if isinstance(exc, StorageUnavailable) else GAVE_UP_TOOL
        elif isinstance(exc, SoftTimeLimitExceeded):
            reason = GAVE_UP_TIME
        else:
            reason = GAVE_UP_UNEXPECTED
        processing_give_up(job_id=job_id, reason=reason)


@app.task(
    base=ProcessingTask,
    name=TaskName.PROCESSING_RUN,
    acks_late=True,  # a task whose worker dies is redelivered, not lost...
    reject_on_worker_lost=True,  # ...and processing_run is idempotent, so redelivery is safe
    autoretry_for=TRANSIENT,
    retry_backoff=settings.PROCESSING_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=settings.PROCESSING_MAX_RETRIES,
    soft_time_limit=3600,
    time_limit=3660,
    ignore_result=True,  # the job's row is the result
)
def run(job_id: int) -> None:
    processing_run(job_id=job_id)


class OcrTask(Task[[int], None]):
    def on_failure(self, exc: Exception, task_id: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                   einfo: ExceptionInfo) -> None:
        """Gave up for good: the OCR job fails with the reason; the asset is left as processing made it."""
        job_id = int(kwargs.get("job_id", args[0] if args else 0))
        if isinstance(exc, TRANSIENT):
            reason = GAVE_UP_STORAGE if isinstance(exc, StorageUnavailable) else GAVE_UP_TOOL
        else:
            reason = GAVE_UP_TIME if isinstance(exc, SoftTimeLimitExceeded) else GAVE_UP_UNEXPECTED
        ocr_give_up(job_id=job_id, reason=reason)


@app.task(
    base=OcrTask,
    name=TaskName.PROCESSING_OCR,  # on `bulk` (portal.core.tasks): long scans never hold up `media`
    acks_late=True,
    reject_on_worker_lost=True,  # ocr_run is idempotent: a new folder per job, switched in one transaction
    autoretry_for=TRANSIENT,
    retry_backoff=settings.PROCESSING_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=settings.PROCESSING_MAX_RETRIES,
    soft_time_limit=settings.OCR_MAX_SECONDS + 60,  # ocrmypdf itself is killed at OCR_MAX_SECONDS
    time_limit=settings.OCR_MAX_SECONDS + 120,
    ignore_result=True,
)
def ocr(job_id: int) -> None:
    ocr_run(job_id=job_id)


@worker_ready.connect
def sweep_work_dir(**_: Any) -> None:
    """A worker restarted after a crash removes what its dead runs left on this host, even when
    another host finished their jobs (no run here would otherwise look)."""
    workdir.sweep()
