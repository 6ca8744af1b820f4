"""Downloads: the permission check here, the bytes from the CDN or a short-lived signed URL; and the
studio's publication panel (polled while the publication task works)."""

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.accounts.decorators import editor_required
from portal.core.http import HtmxHttpRequest
from portal.library.lifecycle import BIG_FIELDS
from portal.library.models import Asset
from portal.library.selectors import asset_detail
from portal.media.hls import playlist_for_viewer
from portal.media.models import Publication
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
