"""Analytics panels on the asset page. The library's template loads them; its views import nothing
of analytics. Each panel degrades to a short note when MongoDB cannot answer."""

from __future__ import annotations

from typing import Any

from django import template

from portal.analytics import selectors
from portal.analytics.presentation import sections
from portal.integrations.mongo import MongoUnavailable
from portal.library.models import Asset

register = template.Library()


@register.inclusion_tag("analytics/_technical_metadata.html", takes_context=True)
def technical_metadata(context: template.Context, asset: Asset) -> dict[str, Any]:
    user = context.get("user")
    editor = bool(user and user.is_authenticated and getattr(user, "is_editor", False))
    try:
        document = selectors.technical_metadata(asset=asset) if asset.has_file else None
    except MongoUnavailable:
        return {"unavailable": True}
    if document is None:
        return {"document": None, "has_file": asset.has_file}
    return {"document": document, "sections": sections(document, editor=editor), "editor": editor}


@register.inclusion_tag("analytics/_asset_figures.html")
def asset_figures(asset: Asset) -> dict[str, Any]:
    try:
        return {"figures": selectors.asset_figures(asset_id=asset.pk), "asset": asset}
    except MongoUnavailable:
        return {"unavailable": True}
