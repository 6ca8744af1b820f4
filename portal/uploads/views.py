"""The upload API the browser's uploader calls: small JSON in, small JSON out. File bytes go to S3."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.accounts.decorators import editor_required
from portal.core.http import HtmxHttpRequest
from portal.integrations.s3 import StorageError, StorageUnavailable
from portal.library.models import Asset
from portal.library.policy import can_edit
from portal.uploads import services
from portal.uploads.cleanup import upload_abandon
from portal.uploads.errors import UploadError, UploadNotFound
from portal.uploads.forms import PartUrlsForm, UploadStartForm
from portal.uploads.models import UploadStatus

MAX_JSON_BODY = 16 * 1024  # requests here are a few hundred bytes; anything bigger is not ours


def _payload(request: HtmxHttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_JSON_BODY:
        raise UploadError("Request too large.")
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError as error:
            raise UploadError("The request was not valid JSON.") from error
        if not isinstance(data, dict):
            raise UploadError("The request was not a JSON object.")
        return data
    return request.POST.dict()


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _guarded(call: Callable[[], JsonResponse]) -> JsonResponse:
    """Domain errors become clear JSON answers; nothing here is ever a 500 for bad input."""
    try:
        return call()
    except UploadNotFound:
        return _error("No such upload.", 404)
    except StorageUnavailable:
        return _error("Storage is unreachable right now. Nothing was lost: try again in a minute.", 503)
    except UploadError as error:
        return _error(str(error), 400)
    except StorageError as error:
        return _error(f"Storage refused the request ({error}).", 502)


def _target_asset(request: HtmxHttpRequest) -> Asset | None:
    """`?asset=<id>` (the edit page's "Upload a file" link): a file for that asset, which the user may
    edit (the one rule upload_start follows too). Anything else is not found, not a silent new asset."""
    raw = request.GET.get("asset", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404("No such asset.")
    asset = get_object_or_404(Asset, pk=int(raw))
    if not can_edit(request.user, asset):
        raise Http404("No such asset.")
    return asset


@editor_required
@require_GET
def upload_page(request: HtmxHttpRequest) -> HttpResponse:
    limits = {kind: mb * 1024 * 1024 for kind, mb in settings.UPLOAD_MAX_MB.items()}
    asset = _target_asset(request)
    placeholder = str(UUID(int=0))  # uploader.js puts the session id here (the route takes only UUIDs)
    config = {
        "startUrl": reverse("uploads:start"),
        "partsUrl": reverse("uploads:parts", args=[placeholder]),
        "finalizeUrl": reverse("uploads:finalize", args=[placeholder]),
        "cancelUrl": reverse("uploads:cancel", args=[placeholder]),
        "placeholder": placeholder,
        "csrfToken": get_token(request),
        "asset": asset.pk if asset else None,
    }
    return render(request, "uploads/upload.html", {"limits": limits, "asset": asset, "config": config})


@editor_required
@require_POST
def upload_start(request: HtmxHttpRequest) -> JsonResponse:
    def call() -> JsonResponse:
        form = UploadStartForm(_payload(request))
        if not form.is_valid():
            raise UploadError("Size and asset must be numbers.")
        data = form.cleaned_data
        ticket = services.upload_start(owner=request.user, filename=data["filename"][:1000],  # type: ignore[arg-type]
                                       size=data["size"], content_type=data["type"], asset_id=data["asset"])
        return JsonResponse(ticket.as_json(), status=201)

    return _guarded(call)


@editor_required
@require_http_methods(["GET", "POST"])
def upload_parts(request: HtmxHttpRequest, session_id: UUID) -> JsonResponse:
    """GET: the parts already stored (to resume). POST {"numbers": [...]}: presigned URLs for those parts."""

    def call() -> JsonResponse:
        if request.method == "GET":
            parts = services.upload_parts(user=request.user, session_id=session_id)  # type: ignore[arg-type]
            return JsonResponse({"parts": [{"PartNumber": p.number, "Size": p.size, "ETag": p.etag} for p in parts]})
        form = PartUrlsForm(_payload(request))
        if not form.is_valid():
            raise UploadError(form.errors["numbers"][0])
        numbers = form.cleaned_data["numbers"]
        urls = services.upload_part_urls(user=request.user, session_id=session_id, numbers=numbers)  # type: ignore[arg-type]
        return JsonResponse({"urls": {str(n): url for n, url in urls.items()}})

    return _guarded(call)


@editor_required
@require_POST
def upload_finalize(request: HtmxHttpRequest, session_id: UUID) -> JsonResponse:
    def call() -> JsonResponse:
        session = services.upload_finalize(user=request.user, session_id=session_id)  # type: ignore[arg-type]
        body = {"session": str(session.pk), "asset": session.asset_id, "status": session.status,
                "assetStatus": session.asset.status, "editUrl": reverse("studio:asset_edit", args=[session.asset_id])}
        if session.status in (UploadStatus.FAILED, UploadStatus.ABANDONED):
            return JsonResponse({**body, "error": session.error}, status=422)
        return JsonResponse(body)

    return _guarded(call)


@editor_required
@require_POST
def upload_cancel(request: HtmxHttpRequest, session_id: UUID) -> JsonResponse:
    """The editor removed the file: free the storage and the asset now, not at the next cleanup."""

    def call() -> JsonResponse:
        session = services.session_for(user=request.user, session_id=session_id)  # type: ignore[arg-type]
        cancelled = upload_abandon(session_id=session.pk, now=timezone.now(),
                                   reason=f"The upload of “{session.original_filename}” was cancelled.")
        return JsonResponse({"session": str(session.pk), "cancelled": cancelled})

    return _guarded(call)
