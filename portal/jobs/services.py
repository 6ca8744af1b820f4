"""Every write to a job. Keyword-only, one transaction, row locks where two processes could race
(a worker finishing a job while an editor cancels it). Every state change publishes a progress
event after commit, so no subscriber ever sees a state the database does not hold.

How the processing task uses these (it is written in workers/, thin):

    job = job_start(job_id=job_id)                 # IllegalJobTransition: cancelled meanwhile, return
    for stage, percent in pipeline(...):
        if not job_progress(job_id=job_id, stage=stage, percent=percent):
            return                                 # cancelled: stop, clean up, no further writes
    job_succeed(job_id=job_id)                     # or job_fail(job_id=job_id, reason="…")
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.jobs import broker, progress
from portal.jobs.errors import JobAlreadyActive, UnknownQueue
from portal.jobs.models import Job, JobStatus
from portal.library.models import Asset

log = logging.getLogger(__name__)

ERROR_MAX_CHARS = 2000
ENQUEUE_FAILED = "The task queue could not be reached, so processing never started. Retry when it is back."
_TRACKED_MAX = 1000


def _new_task_id() -> str:
    # Chosen before the message is sent, so the row knows which task to revoke from the start.
    return str(uuid.uuid4())


def _publish_after_commit(job: Job) -> None:
    event = progress.event_for(job)  # built now: the row may change again before the commit
    transaction.on_commit(partial(progress.publish, event))


def job_enqueue(job: Job) -> None:
    """Send the job's current attempt to its queue. The one place a job reaches the broker
    (tests replace it, to run without a worker). A dead broker fails the job with a reason the
    editor can act on, instead of leaving it queued forever or turning the request into a 500."""
    try:
        broker.enqueue(job_id=job.pk, queue=job.queue, task_id=job.task_id, name=job.task)
    except broker.BROKER_ERRORS:
        log.exception("jobs: could not enqueue job %s on %s", job.pk, job.queue)
        job_fail(job_id=job.pk, reason=ENQUEUE_FAILED)


def job_revoke(job: Job) -> None:
    """Tell the workers to skip the job's task; a broker failure is logged (the row already says
    cancelled, and the task checks the row when it starts)."""
    try:
        broker.revoke(task_id=job.task_id)
    except broker.BROKER_ERRORS:
        log.exception("jobs: could not revoke task %s of job %s", job.task_id, job.pk)


def _enqueue_after_commit(job: Job) -> None:
    # Looked up when the transaction commits, not bound now, so tests can swap job_enqueue.
    transaction.on_commit(lambda: job_enqueue(job))


def job_create(*, asset_id: int, queue: str = "media", enqueue: bool = True, task: str = broker.TASK_NAME) -> Job:
    """Queue a processing run of an asset (or another job `task`, e.g. OCR). Idempotent: while the
    asset has a queued or running job, that job is returned and nothing new is sent.
    enqueue=False: the caller runs it itself."""
    if queue not in broker.queue_names():
        raise UnknownQueue(queue=queue)
    with transaction.atomic():
        # The asset's row lock serialises creators, so the one-active-job constraint is never
        # met as an IntegrityError by the second of two racing requests.
        asset = Asset.objects.select_for_update().get(pk=asset_id)
        active = Job.objects.active().filter(asset=asset).first()
        if active is not None:
            return active
        job = Job.objects.create(asset=asset, queue=queue, task=task, task_id=_new_task_id())
        _publish_after_commit(job)
        if enqueue:
            _enqueue_after_commit(job)
    return job


def job_start(*, job_id: int) -> Job:
    """A worker begins an attempt. Raises IllegalJobTransition when the job was cancelled (or has
    finished) meanwhile: the task should then return without doing anything."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        job.move_to(JobStatus.RUNNING)
        job.attempts += 1
        job.started_at = timezone.now()
        job.finished_at = None
        job.error, job.stage, job.percent = "", "", 0
        job.save()
        _publish_after_commit(job)
    _track(job.pk, _Tracked(asset_id=job.asset_id, stage="", percent=0))
    return job


@dataclass
class _Tracked:
    """What this process last wrote for a running job: the asset for the channel, and the
    stage and percent that decide whether the next report is worth a database write."""

    asset_id: int
    stage: str
    percent: int


_tracked: dict[int, _Tracked] = {}


def _track(job_id: int, tracked: _Tracked) -> None:
    if len(_tracked) >= _TRACKED_MAX:  # jobs whose worker died before finishing them
        _tracked.clear()
    _tracked[job_id] = tracked


def job_progress(*, job_id: int, stage: str, percent: float) -> bool:
    """Report progress; cheap enough to call for every ffmpeg progress line.

    Always publishes the event. Writes the row only when the stage changed or the whole percent
    moved (at most ~100 writes per stage), with one UPDATE and no lock. Returns False when the job
    is no longer running (cancelled, failed elsewhere, deleted with its asset): stop working.
    """
    stage = stage[:40]
    whole = max(0, min(100, int(percent)))
    tracked = _tracked.get(job_id)
    if tracked is None or tracked.stage != stage or tracked.percent != whole:
        updated = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            stage=stage, percent=whole, updated_at=timezone.now())
        if not updated:
            _tracked.pop(job_id, None)
            return False
        if tracked is None:  # first report in this process: one lookup for the asset's channel
            asset_id = Job.objects.filter(pk=job_id).values_list("asset_id", flat=True).get()
            tracked = _Tracked(asset_id=asset_id, stage=stage, percent=whole)
            _track(job_id, tracked)
        tracked.stage, tracked.percent = stage, whole
    event = progress.make_event(job_id=job_id, asset_id=tracked.asset_id, stage=stage, percent=whole,
                                status=JobStatus.RUNNING)
    # Guarded: if the job was cancelled since our last write, Redis already holds the final state
    # and refuses this one; that is also the cheapest way to learn of the cancellation.
    if progress.publish(event, guarded=True) == progress.DROPPED:
        _tracked.pop(job_id, None)
        return False
    return True


def _finish(job_id: int, status: str, *, reason: str = "") -> Job:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        job.move_to(status)
        job.finished_at = timezone.now()
        if status == JobStatus.SUCCEEDED:
            job.percent = 100
        if status == JobStatus.FAILED:
            job.error = reason.strip()[:ERROR_MAX_CHARS] or "Processing failed (no reason was given)."
        job.save()
        _publish_after_commit(job)
        if status == JobStatus.CANCELLED and job.task_id:
            transaction.on_commit(partial(job_revoke, job))
    _tracked.pop(job_id, None)
    return job


def job_succeed(*, job_id: int) -> Job:
    return _finish(job_id, JobStatus.SUCCEEDED)


def job_fail(*, job_id: int, reason: str) -> Job:
    """`reason` is shown to editors as it is: say what went wrong and, if possible, what to do."""
    return _finish(job_id, JobStatus.FAILED, reason=reason)


def job_cancel(*, job_id: int) -> Job:
    """Stop a queued or running job: its task is revoked, and a running task stops at its next
    progress report."""
    return _finish(job_id, JobStatus.CANCELLED)


def job_retry(*, job_id: int) -> Job:
    """A new attempt of a failed or cancelled job: back to queued under a new task id, sent again."""
    with transaction.atomic():
        asset_id = Job.objects.filter(pk=job_id).values_list("asset_id", flat=True).get()
        Asset.objects.select_for_update().get(pk=asset_id)  # same lock order as job_create
        job = Job.objects.select_for_update().get(pk=job_id)
        job.move_to(JobStatus.QUEUED)
        other = Job.objects.active().filter(asset_id=asset_id).exclude(pk=job.pk).first()
        if other is not None:
            raise JobAlreadyActive(job=other)
        job.task_id = _new_task_id()
        job.stage, job.percent, job.error = "", 0, ""
        job.started_at = job.finished_at = None
        job.save()
        _publish_after_commit(job)
        _enqueue_after_commit(job)
    return job


SWEEP_BATCH = 500


def job_sweep(*, now: datetime | None = None) -> list[int]:
    """Send again every job whose task message the broker lost (Redis restarted without its data, a
    failover): PostgreSQL, not the broker, is the record of the work that must happen. Run by beat.

    A job is swept when it has waited longer than a grace period and the broker holds no message for
    it (neither waiting in its queue nor delivered unacknowledged): queued and untouched for
    JOBS_SWEEP_GRACE_SECONDS, or running with no progress for JOBS_RUNNING_LEASE_SECONDS (longer
    than processing.run's hard time limit, so no worker can still be on that attempt). It is sent
    under the same task id; a duplicate that slipped through is harmless, since job_start refuses a
    job that has finished. Returns the ids sent again.
    """
    now = now or timezone.now()
    stale = Q(status=JobStatus.QUEUED, updated_at__lt=now - timedelta(seconds=settings.JOBS_SWEEP_GRACE_SECONDS))
    stale |= Q(status=JobStatus.RUNNING, updated_at__lt=now - timedelta(seconds=settings.JOBS_RUNNING_LEASE_SECONDS))
    candidates = list(Job.objects.filter(stale).order_by("id").values_list("pk", "queue", "task_id")[:SWEEP_BATCH])
    if not candidates:
        return []
    try:
        held = broker.task_ids_held(queues=sorted({queue for _, queue, _ in candidates}))
    except broker.BrokerUnavailable as error:
        log.warning("jobs sweep: broker unreachable, nothing swept: %s", error)
        return []
    sent: list[int] = []
    for job_id, queue, task_id in candidates:
        waiting = held.get(queue)
        if waiting is None or (task_id and task_id in waiting):  # a long backlog, or still held
            continue
        with transaction.atomic():
            job = Job.objects.select_for_update().filter(stale, pk=job_id, task_id=task_id).first()
            if job is None:  # started, finished or retried since it was read
                continue
            job.task_id = job.task_id or _new_task_id()
            job.save(update_fields=["task_id", "updated_at"])  # the next sweep waits a whole grace again
        try:
            broker.enqueue(job_id=job.pk, queue=job.queue, task_id=job.task_id, name=job.task)
        except broker.BROKER_ERRORS:
            log.warning("jobs sweep: broker failed; job %s and the rest wait for the next sweep", job.pk)
            break
        log.warning("jobs sweep: job %s (%s) had no message in the broker; sent again", job.pk, job.status)
        sent.append(job.pk)
    return sent
