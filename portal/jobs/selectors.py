"""Every read the jobs pages and streams need, each a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from portal.jobs.models import Job, JobStatus

DASHBOARD_ACTIVE_LIMIT = 100
DASHBOARD_FAILED_LIMIT = 50


def job_latest_for_asset(*, asset_id: int) -> Job | None:
    return Job.objects.for_asset(asset_id).first()


@dataclass(frozen=True)
class DashboardJobs:
    running: list[Job]
    queued: list[Job]
    failed: list[Job]


def dashboard_jobs() -> DashboardJobs:
    """Queued and running jobs oldest first (the order workers take them), and failed jobs that
    no newer job of the same asset has superseded, most recent first. Two queries."""
    active = list(
        Job.objects.active().select_related("asset").order_by("status", "created_at")[:DASHBOARD_ACTIVE_LIMIT]
    )
    newer = Job.objects.filter(asset_id=OuterRef("asset_id"), id__gt=OuterRef("id"))
    failed = list(
        Job.objects.filter(status=JobStatus.FAILED)
        .filter(~Exists(newer))
        .select_related("asset")
        .order_by("-finished_at")[:DASHBOARD_FAILED_LIMIT]
    )
    return DashboardJobs(
        running=[job for job in active if job.status == JobStatus.RUNNING],
        queued=[job for job in active if job.status == JobStatus.QUEUED],
        failed=failed,
    )
