"""`{% related_media asset %}`: the asset page's "Related" section (portal.search.selectors.related_assets).

The same for every viewer (listed assets only), so the page wraps it in `{% fragment "related" asset.pk
asset.version %}`: a hit runs no query; the content generation moves when anything listed changes,
and when a new embedding is stored (portal.search.services.embedding_update).
"""

from __future__ import annotations

from typing import Any

from django import template

from portal.library.models import Asset
from portal.search.selectors import related_assets

register = template.Library()


@register.inclusion_tag("search/_related.html")
def related_media(asset: Asset) -> dict[str, Any]:
    return {"related": related_assets(asset_id=asset.pk)}
