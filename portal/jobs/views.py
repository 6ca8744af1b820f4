"""The jobs dashboard, retry and cancel, and the progress panel for polling (the stream's fallback).

Every interaction works without JavaScript (plain GET pages and POST forms that redirect back);
with htmx, the same URLs answer with the region named by the request's HX-Target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.decorators import editor_required
from portal.audit.actions import Action
from portal.audit.services import audit_record
from portal.core.http import HtmxHttpRequest, redirect_to_next, vary_on_htmx
from portal.core.tasks import TaskName
from portal.jobs import broker, selectors, services
from portal.jobs.errors import JobError
from portal.jobs.models import Job, JobStatus
from portal.jobs.presentation import ProgressView
from portal.jobs.streams import may_watch
from portal.library.models import Asset

TABLES_TARGET = "job-tables"
BROKER_TARGET = "broker-status"


def panel_context(job: Job, *, mode: str) -> dict[str, Any]:
    """`mode`: "live" (SSE), "poll" (htmx every 2 s, the fallback) or "static"; an inactive job
    is always static: there is nothing left to watch."""
    return {"p": ProgressView.from_job(job), "job": job, "mode": mode if job.is_active else "static"}


def _with_page_parts(context: dict[str, Any], job: Job) -> dict[str, Any]:
    """Adds the asset, so that the answer also carries the page's status badge and actions out of
    band: its status changed with the job (ready, failed), and Publish must appear without a reload."""
    return context | {"asset": Asset.objects.get(pk=job.asset_id)}


@never_cache
@editor_required
@require_GET
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx and request.htmx.target == TABLES_TARGET:
        return vary_on_htmx(render(request, "jobs/dashboard.html#tables", {"jobs": selectors.dashboard_jobs()}))
    if request.htmx and request.htmx.target == BROKER_TARGET:
        return vary_on_htmx(render(request, "jobs/dashboard.html#broker", {"broker": broker.broker_status()}))
    context = {"jobs": selectors.dashboard_jobs(), "broker": broker.broker_status()}
    return vary_on_htmx(render(request, "jobs/dashboard.html", context))


@never_cache
@require_GET
def asset_progress(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    """The progress panel from the database: htmx polls it every 2 s when the stream fails."""
    if not may_watch(request.user, asset_id):
        raise Http404("No such asset.")
    job = selectors.job_latest_for_asset(asset_id=asset_id)
    if job is None:
        return HttpResponse(status=204)  # nothing to show (htmx swaps nothing on 204)
    mode = "poll" if request.GET.get("mode") == "poll" else "live"
    context = panel_context(job, mode=mode)
    # Polling saw the job succeed: the page's player region is refreshed once, as the stream does.
    context["refresh_preview"] = mode == "poll" and job.status == JobStatus.SUCCEEDED
    # The stream's last event asks for this panel once, and polling stops here. A later enrichment
    # (OCR on `bulk`) may already be the newest job then: the asset's own status (ready once its
    # processing succeeded) must still reach the page's badge and actions, so Publish appears.
    if not job.is_active or job.task != TaskName.PROCESSING_RUN:
        context = _with_page_parts(context, job)
    return vary_on_htmx(render(request, "jobs/_progress.html", context))


def _act(request: HtmxHttpRequest, job_id: int, action: Callable[..., Job], done: str) -> HttpResponse:
    job = get_object_or_404(Job.objects.select_related("asset"), pk=job_id)
    notice, failed = "", False
    try:
        job = action(job_id=job.pk)
        notice = done.format(title=job.asset.title)
    except JobError as error:
        notice, failed = str(error), True
        job.refresh_from_db()
    if request.htmx and request.htmx.target == f"job-panel-{job.asset_id}":
        context = panel_context(job, mode="live") | {"notice": notice, "failed": failed}
        return render(request, "jobs/_progress.html", _with_page_parts(context, job))
    if request.htmx and request.htmx.target == TABLES_TARGET:
        context = {"jobs": selectors.dashboard_jobs(), "notice": notice, "failed": failed}
        return render(request, "jobs/dashboard.html#tables", context)
    (messages.error if failed else messages.success)(request, notice)
    return redirect_to_next(request, "jobs:dashboard")


@editor_required
@require_POST
def job_retry(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    def retry_and_record(*, job_id: int) -> Job:
        job = services.job_retry(job_id=job_id)
        audit_record(action=Action.RETRIED, model=Asset, object_id=job.asset_id, label=job.asset.title,
                     actor=request.user, details={"job": job.pk})  # type: ignore[arg-type]
        return job

    return _act(request, job_id, retry_and_record, "Processing of “{title}” is queued again.")


@editor_required
@require_POST
def job_cancel(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    return _act(request, job_id, services.job_cancel, "Processing of “{title}” was cancelled.")
