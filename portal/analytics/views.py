"""The analytics page for editors, and the endpoint the player reports plays to."""

from __future__ import annotations

import logging

from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.decorators import editor_required
from portal.analytics import selectors
from portal.analytics.forms import PlayReportForm
from portal.analytics.presentation import chart
from portal.analytics.services import event_record
from portal.analytics.visits import VIEW_WINDOW_SECONDS
from portal.core import ratelimit
from portal.core.http import HtmxHttpRequest
from portal.integrations import mongo
from portal.integrations.mongo import MongoUnavailable
from portal.library.models import Asset
from portal.ops.proxy import client_ip

log = logging.getLogger(__name__)
# Per visitor: a player reports at most five events per play.
REPORTS = ratelimit.Rate("analytics-report", limit=120, seconds=60)
PAGE_SECONDS = 3.0


@require_GET
@editor_required
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    context: dict[str, object] = {"pending": selectors.pending_events(),
                                  "view_window_minutes": VIEW_WINDOW_SECONDS // 60}
    # The roll-ups are kept warm by analytics.refresh; on a cold cache the page waits PAGE_SECONDS
    # at most for the aggregations (a million events take FerretDB most of a minute), then says so.
    try:
        with mongo.deadline(PAGE_SECONDS):
            counts = selectors.daily_counts(days=30)
            top, no_results = selectors.top_assets_this_week(), selectors.searches_without_results()
        context.update(counts=counts, chart=chart(counts), top=top, no_results=no_results,
                       totals=(sum(d.views for d in counts), sum(d.plays for d in counts)))
    except MongoUnavailable:
        context["unavailable"] = True
    return render(request, "analytics/dashboard.html", context)


@require_POST
def record_play(request: HtmxHttpRequest) -> HttpResponse:
    """POST asset=<id>&event=play|progress[&quartile=25|50|75|100] with the CSRF token as a form
    field (works with navigator.sendBeacon). One outbox insert; never waits on MongoDB."""
    form = PlayReportForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": "invalid report", "fields": form.errors.get_json_data()}, status=400)
    # Per account, else per address (as the balancer saw it): not per browser string, which a
    # client could change on every request to get a fresh budget.
    who = f"user:{request.user.pk}" if request.user.is_authenticated else f"ip:{client_ip(request)}"
    if ratelimit.exceeded(REPORTS, who):
        return JsonResponse({"error": "too many events; slow down"}, status=429)
    asset_id, kind, quartile = (form.cleaned_data[name] for name in ("asset", "event", "quartile"))
    if not Asset.objects.visible_to(request.user).filter(pk=asset_id).exists():
        return JsonResponse({"error": "no such asset"}, status=404)  # private to someone else: the same answer
    fields = {"quartile": quartile} if quartile is not None else {}
    event_record(kind=kind, asset_id=asset_id, request=request, **fields)
    return HttpResponse(status=204)


@never_cache
@require_GET
def csrf_token(request: HtmxHttpRequest) -> HttpResponse:
    """Anonymous pages carry no CSRF token (they are cached whole): the player fetches one here
    (it also sets the cookie) before its first report."""
    return JsonResponse({"token": get_token(request)})
