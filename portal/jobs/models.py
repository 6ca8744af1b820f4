"""Processing jobs: one row per run of the media pipeline over an asset. Writes live in services.py."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from portal.jobs.errors import IllegalJobTransition
from portal.library.models import Asset


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
FINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})

# RUNNING → RUNNING is a redelivery: the broker hands the task to a second worker after the first
# one died (acks_late + reject_on_worker_lost), and that is a new attempt, not an error.
# A succeeded job is never re-run: processing the asset again is a new job.
TRANSITIONS: dict[str, frozenset[str]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED}),
}

ACTIVE_Q = Q(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])


class StatusMeaning:
    """What a job's status means, read alike from its row (Job) and from a progress event
    (presentation.ProgressView): both hold a `status`."""

    status: str

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def is_final(self) -> bool:
        return self.status in FINAL

    @property
    def succeeded(self) -> bool:
        return self.status == JobStatus.SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.status == JobStatus.FAILED

    @property
    def cancelled(self) -> bool:
        return self.status == JobStatus.CANCELLED


class JobQuerySet(models.QuerySet["Job"]):
    def active(self) -> JobQuerySet:
        return self.filter(ACTIVE_Q)

    def for_asset(self, asset_id: int) -> JobQuerySet:
        return self.filter(asset_id=asset_id).order_by("-id")


class Job(StatusMeaning, models.Model):
    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="jobs")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    stage = models.CharField(max_length=40, blank=True, help_text="the pipeline step running now, e.g. hls")
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="why it failed, in words an editor can act on")
    attempts = models.PositiveIntegerField(default=0, help_text="times a worker started it")
    queue = models.CharField(max_length=40, default="media")
    # Which task runs it (portal.core.tasks.TaskName): the pipeline, or OCR after it on `bulk`.
    task = models.CharField(max_length=40, default="processing.run")
    task_id = models.CharField(max_length=64, blank=True, help_text="the Celery task id of the current attempt")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(percent__lte=100), name="job_percent_at_most_100"),
            # One run at a time per asset: two workers transcoding the same file would race on its
            # renditions, and the asset's progress channel would interleave two jobs.
            models.UniqueConstraint(fields=["asset"], condition=ACTIVE_Q, name="job_one_active_per_asset"),
        ]
        indexes = [
            # The asset page's panel and the stream's fallback: the newest job of one asset.
            models.Index(fields=["asset", "-id"], name="job_asset_newest"),
            # Dashboard: queued and running jobs, oldest first (partial: finished jobs pile up forever).
            models.Index(fields=["status", "created_at"], condition=ACTIVE_Q, name="job_active_oldest"),
            # Dashboard: failed jobs, most recently failed first.
            models.Index(fields=["-finished_at"], condition=Q(status=JobStatus.FAILED), name="job_failed_recent"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.status}) for asset {self.asset_id}"

    @property
    def can_retry(self) -> bool:
        return JobStatus.QUEUED in TRANSITIONS[self.status]

    def move_to(self, status: str) -> None:
        """The one way a job's status changes; refuses a move the table above does not allow."""
        if status not in TRANSITIONS[self.status]:
            raise IllegalJobTransition(current=self.status, wanted=status)
        self.status = status
