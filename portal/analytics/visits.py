"""Which requests count as a visit: figures an editor can trust.

A view counts once per visitor and asset in VIEW_WINDOW_SECONDS (one client reloading a page
seventy times a second is one view, not thousands). The visitor is the account, else the session,
else the client's address (as the balancer saw it) with its browser string; the window is one
cache key per visitor and asset, named by a keyed hash (the key reveals neither). Requests no
person asked to see count never: crawlers that say so in their User-Agent, and prefetches
(`Sec-Purpose: prefetch`, `Purpose: prefetch`, `X-Moz: prefetch`). HEAD is never counted (the
middleware counts GETs only). With the cache down every view counts, as before this filter:
an overcount during an outage is better than losing the day's views.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from portal.ops.proxy import client_ip

VIEW_WINDOW_SECONDS = 30 * 60
# Self-declared crawlers, link previewers and monitors (what their User-Agent strings contain).
BOT_AGENT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|facebookexternalhit|embedly|bingpreview|mediapartners"
    r"|lighthouse|pingdom|uptimerobot|statuscake",
    re.IGNORECASE,
)


def is_bot(request: HttpRequest) -> bool:
    return bool(BOT_AGENT.search(request.headers.get("User-Agent", "")[:500]))


def is_prefetch(request: HttpRequest) -> bool:
    purpose = request.headers.get("Sec-Purpose", "") or request.headers.get("Purpose", "")
    return "prefetch" in purpose.lower() or request.headers.get("X-Moz", "").lower() == "prefetch"


def counts(request: HttpRequest) -> bool:
    """Whether a person asked for this page (neither a crawler nor a prefetch)."""
    return not (is_bot(request) or is_prefetch(request))


def _visitor(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        return f"session:{session.session_key}"
    return f"client:{client_ip(request)}|{request.headers.get('User-Agent', '')[:200]}"


def view_is_first_in_window(request: HttpRequest, *, slug: str) -> bool:
    """True for this visitor's first view of the asset in the window (and starts the window)."""
    digest = hmac.new(f"{settings.SECRET_KEY}|analytics-view".encode(), f"{_visitor(request)}|{slug}".encode(),
                      hashlib.sha256).hexdigest()[:32]
    added = cache.add(f"analytics:viewed:{digest}", 1, timeout=VIEW_WINDOW_SECONDS)
    return added is None or bool(added)  # None: the cache is down and its errors ignored
