"""The editors' "process again" action and OCR languages (the library's studio links here; it never
imports us)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from portal.accounts.decorators import editor_required
from portal.audit.actions import Action
from portal.audit.services import audit_record
from portal.core.http import HtmxHttpRequest
from portal.jobs.errors import JobError
from portal.library.models import Asset
from portal.processing.errors import ProcessingError
from portal.processing.forms import OcrLanguagesForm
from portal.processing.ocr_services import ocr_languages_set
from portal.processing.services import processing_rerun


@editor_required
@require_POST
def rerun(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    asset = get_object_or_404(Asset, pk=asset_id)
    try:
        processing_rerun(asset_id=asset.pk)
        audit_record(action=Action.REPROCESSED, model=Asset, object_id=asset.pk, label=asset.title,
                     actor=request.user)  # type: ignore[arg-type]
        messages.success(request, f"Processing of “{asset.title}” was queued again.")
    except (ProcessingError, JobError) as error:
        messages.error(request, getattr(error, "reason", None) or str(error))
    return redirect("studio:asset_edit", asset_id=asset.pk)


@editor_required
@require_POST
def ocr_languages(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    asset = get_object_or_404(Asset, pk=asset_id)
    form = OcrLanguagesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose among the languages offered.")
        return redirect("studio:asset_edit", asset_id=asset.pk)
    try:
        ocr_languages_set(asset_id=asset.pk, languages=form.cleaned_data["languages"])
        messages.success(request, "OCR languages saved; the scanned text is read again with them.")
    except ProcessingError as error:
        messages.error(request, error.reason)
    return redirect("studio:asset_edit", asset_id=asset.pk)
