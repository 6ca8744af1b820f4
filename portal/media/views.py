"""Downloads: the permission check here, the bytes from the CDN or a short-lived signed URL; caption
tracks and their upload; and the studio's publication panel (polled while the publication task works)."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.decorators import editor_required
from portal.core.http import HtmxHttpRequest
from portal.integrations import s3
from portal.library.lifecycle import BIG_FIELDS
from portal.library.models import Asset
from portal.library.selectors import asset_detail
from portal.media.caption_services import VTT_TYPE, caption_delete, caption_upload_complete, caption_upload_start
from portal.media.captions import MAX_BYTES, CaptionError
from portal.media.hls import playlist_for_viewer
from portal.media.models import Caption, Publication
from portal.media.services import media_url, sees_original


@never_cache
@require_GET
def download(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    asset = asset_detail(viewer=request.user, slug=slug)
    url = media_url(asset=asset, download=True, full=sees_original(request.user, asset)) if asset else None
    if url is None:
        raise Http404("No such file")
    return HttpResponseRedirect(url)


@never_cache
@require_GET
def hls_playlist(request: HtmxHttpRequest, slug: str, relative: str) -> HttpResponse:
    """A private (or unpublished) video's playlists: only for viewers who may open the asset."""
    asset = asset_detail(viewer=request.user, slug=slug)
    if asset is None:
        raise Http404("No such asset")
    text = playlist_for_viewer(asset=asset, relative=relative,
                               playlist_url=lambda target: reverse("media:hls", args=[slug, target]))
    if text is None:
        raise Http404("No such playlist")
    return HttpResponse(text, content_type="application/vnd.apple.mpegurl")


@never_cache
@editor_required
@require_GET
def publication(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    """The publication panel alone: the studio's asset page polls it while the task works."""
    # Polled every second while the task works: not the big columns (a video's rendition paths).
    asset = get_object_or_404(Asset.objects.defer(*BIG_FIELDS), pk=asset_id)
    context = {"asset": asset, "publication": Publication.objects.filter(asset_id=asset.pk).first()}
    return render(request, "media/_publication.html", context)


@never_cache
@require_GET
def caption(request: HtmxHttpRequest, slug: str, language: str) -> HttpResponse:
    """A caption track, same origin, after the viewer's permission check: for private media, and
    for a player whose media is not on the CDN (see the caption_tracks tag; public players take the
    CDN's copy)."""
    asset = asset_detail(viewer=request.user, slug=slug)
    found = Caption.objects.filter(asset=asset, language=language).first() if asset else None
    if asset is None or found is None:
        raise Http404("No such caption")
    response = HttpResponse(s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=found.key, max_bytes=MAX_BYTES),
                            content_type=VTT_TYPE)
    response["Cache-Control"] = "private, max-age=300"
    return response


@editor_required
@require_POST
def caption_start(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    """Step one of a caption upload: the form that sends the file straight to S3."""
    asset = get_object_or_404(Asset, pk=asset_id)
    try:
        upload = caption_upload_start(
            asset=asset, editor=request.user, language=request.POST.get("language", ""),  # type: ignore[arg-type]
            label=request.POST.get("label", ""),
            complete_url=request.build_absolute_uri(reverse("media:caption_complete", args=[asset.pk])))
    except CaptionError as error:
        messages.error(request, error.reason)
        return redirect("studio:asset_edit", asset_id=asset.pk)
    return render(request, "media/caption_upload.html", {"asset": asset, "upload": upload})


@never_cache
@editor_required
@require_GET
def caption_complete(request: HtmxHttpRequest, asset_id: int) -> HttpResponse:
    """Where S3 sends the browser after the POST: validate and keep the file (see caption_services)."""
    try:
        found = caption_upload_complete(ticket=request.GET.get("ticket", ""), editor=request.user)  # type: ignore[arg-type]
        messages.success(request, f"Captions “{found.label}” ({len(found.cues)} cues) saved.")
    except CaptionError as error:
        messages.error(request, f"The captions were not saved. {error.reason}")
    return redirect("studio:asset_edit", asset_id=asset_id)


@editor_required
@require_POST
def caption_remove(request: HtmxHttpRequest, caption_id: int) -> HttpResponse:
    found = get_object_or_404(Caption, pk=caption_id)
    caption_delete(caption_id=found.pk)
    messages.success(request, f"Captions “{found.label}” removed.")
    return redirect("studio:asset_edit", asset_id=found.asset_id)
