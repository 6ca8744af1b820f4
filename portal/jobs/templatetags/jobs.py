"""`{% job_panel asset %}` for the studio's asset page, and `job|progress_view` for rows."""

from __future__ import annotations

from typing import Any

from django import template

from portal.jobs import selectors
from portal.jobs.models import Job
from portal.jobs.presentation import ProgressView
from portal.jobs.views import panel_context

register = template.Library()


@register.inclusion_tag("jobs/_panel_page.html", takes_context=True)
def job_panel(context: template.Context, asset: Any) -> dict[str, Any]:
    """The asset's newest job as a live progress panel, or nothing when it never had a job."""
    job = selectors.job_latest_for_asset(asset_id=asset.pk)
    if job is None:
        return {"job": None}
    return {"request": context.get("request"), "csrf_token": context.get("csrf_token"),
            **panel_context(job, mode="live")}


@register.filter
def progress_view(job: Job) -> ProgressView:
    return ProgressView.from_job(job)
