"""Media URLs and drawings for templates whose view already checked the viewer's access."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from portal.integrations import cdn
from portal.library.models import Asset
from portal.media.models import Caption, Publication
from portal.media.services import can_download, public_caption_key, public_rendition_key, sees_original
from portal.media.services import media_url as build_media_url
from portal.media.services import rendition_url as build_rendition_url

register = template.Library()


def _full(context: template.Context, asset: Asset) -> bool:
    request = context.get("request")
    return request is not None and sees_original(request.user, asset)


@register.simple_tag(takes_context=True)
def media_url(context: template.Context, asset: Asset) -> str:
    """The file to play or show: the original for editors (and when offered), else a copy without metadata."""
    return build_media_url(asset=asset, full=_full(context, asset)) or ""


@register.simple_tag(takes_context=True)
def downloadable(context: template.Context, asset: Asset) -> bool:
    return can_download(asset=asset, full=_full(context, asset))


@register.simple_tag
def rendition_url(asset: Asset, relative: str) -> str:
    return build_rendition_url(asset=asset, relative=relative) or ""


@register.simple_tag
def hls_url(asset: Asset) -> str:
    """The master playlist: from the CDN for public media, else from the portal (segments signed)."""
    master = (asset.media or {}).get("hls", {}).get("master")
    if not master or asset.rendition_key(master) is None:
        return ""
    if asset.is_public_media and asset.public_key:
        return build_rendition_url(asset=asset, relative=master) or ""
    return reverse("media:hls", args=[asset.slug, master])


@register.simple_tag
def waveform(asset: Asset) -> SafeString:
    """The audio's peaks as an SVG drawing (bars mirrored around the middle line)."""
    peaks = (asset.media or {}).get("peaks") or []
    if not peaks:
        return SafeString("")
    bars = format_html_join("", '<rect x="{}" y="{}" width="2" height="{}"/>', (
        (i * 3, round(50 - 48 * float(p), 1), round(max(96 * float(p), 1), 1)) for i, p in enumerate(peaks)))
    return format_html('<svg class="waveform" viewBox="0 0 {} 100" preserveAspectRatio="none" role="img" '
                       'aria-label="Waveform of the recording">{}</svg>', len(peaks) * 3, bars)


THUMBNAILS = {"image": "thumb.jpg", "video": "poster.jpg", "document": "thumbnail.jpg"}


@register.simple_tag
def card_thumbnail(asset: Asset) -> str:
    """A listing card's picture: CDN URLs only (cards are cached and shared; a signed URL would expire)."""
    relative = THUMBNAILS.get(asset.kind)
    if not relative or not asset.public_key or asset.rendition_key(relative) is None:
        return ""
    return cdn.url(public_rendition_key(asset.public_key, relative))


@register.inclusion_tag("media/_publication.html")
def publication_panel(asset: Asset) -> dict[str, object]:
    """The studio's view of the publication task: "Publishing… n/m", retries, or up to date."""
    return {"asset": asset, "publication": Publication.objects.filter(asset_id=asset.pk).first()}


@register.simple_tag(takes_context=True)
def caption_tracks(context: template.Context, asset: Asset, src: str = "") -> dict[str, object]:
    """The <track> elements: every caption, the page's language (request.LANGUAGE_CODE, else
    LANGUAGE_CODE: "en-us" picks "en") on by default. From the CDN (and `cors`: the player needs
    crossorigin) when the media itself plays from there; else from media:caption, same origin, after
    the viewer's check (a signed S3 URL would need CORS, and crossorigin would put the player's own
    signed media requests in CORS mode too)."""
    request = context.get("request")
    page = str(getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE).lower()
    captions = list(Caption.objects.filter(asset_id=asset.pk).only("language", "label"))
    exact = [c.language for c in captions if c.language.lower() == page]
    chosen = exact[0] if exact else next((c.language for c in captions if c.language.lower() == page[:2]
                                          or page.startswith(c.language.lower() + "-")), None)
    cors = bool(captions and asset.is_public_media and asset.public_key and (not src or src.startswith(cdn.url(""))))
    tracks = [{"src": cdn.url(public_caption_key(asset.public_key, c.language)) if cors
               else reverse("media:caption", args=[asset.slug, c.language]),
               "language": c.language, "label": c.label, "default": c.language == chosen} for c in captions]
    return {"tracks": tracks, "cors": cors}


@register.inclusion_tag("media/_captions_panel.html", takes_context=True)
def captions_panel(context: template.Context, asset: Asset) -> dict[str, object]:
    """The studio's caption list and upload form (videos and audio only)."""
    return {"asset": asset, "captions": list(Caption.objects.filter(asset_id=asset.pk)),
            "csrf_token": context.get("csrf_token"), "shown": asset.kind in ("video", "audio")}


_WORD = re.compile(r"\w+")


def _folded(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


@register.simple_tag(takes_context=True)
def caption_moment(context: template.Context, hit: Any, query: str, hits: Any) -> dict[str, object] | None:
    """Where in a video or audio hit the searched words are said: the first cue holding one of them
    ({"start", "text"}), for a link to "#t=<start>". One query for the whole page of hits."""
    key = "caption_moments"
    if key not in context.render_context:
        ids = [h.id for h in hits if h.kind in ("video", "audio")]
        words = {w for w in _WORD.findall(_folded(query or "")) if len(w) > 1}
        found: dict[int, dict[str, object]] = {}
        for asset_id, cues in (Caption.objects.filter(asset_id__in=ids).order_by("language")
                               .values_list("asset_id", "cues") if words and ids else []):
            for cue in cues:
                if words & set(_WORD.findall(_folded(str(cue.get("text", ""))))):
                    start = float(cue.get("start", 0))
                    if asset_id not in found or start < float(found[asset_id]["start"]):  # type: ignore[arg-type]
                        found[asset_id] = {"start": f"{start:g}", "text": cue.get("text", "")}
                    break
        context.render_context[key] = found
    return context.render_context[key].get(hit.id)
