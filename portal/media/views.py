"""Downloads: the permission check here, the bytes from the CDN or a short-lived signed URL."""

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.core.http import HtmxHttpRequest
from portal.library.selectors import asset_detail
from portal.media.services import media_url


@never_cache
@require_GET
def download(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    asset = asset_detail(viewer=request.user, slug=slug)
    url = media_url(asset=asset, download=True) if asset else None
    if url is None:
        raise Http404("No such file")
    return HttpResponseRedirect(url)
