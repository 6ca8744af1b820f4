"""The editors' "process again" action (the library's studio links here; it never imports us)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from portal.accounts.decorators import editor_required
from portal.core.http import HtmxHttpRequest
from portal.jobs.errors import JobError
from portal.library.models import Asset
from portal.processing.errors import ProcessingError
from portal.processing.services import processing_rerun


@editor_required
@require_POST
def rerun(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    asset = get_object_or_404(Asset, pk=asset_id)
    try:
        processing_rerun(asset_id=asset.pk)
        messages.success(request, f"Processing of “{asset.title}” was queued again.")
    except (ProcessingError, JobError) as error:
        messages.error(request, getattr(error, "reason", None) or str(error))
    return redirect("studio:asset_edit", asset_id=asset.pk)
