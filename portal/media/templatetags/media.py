"""{% media_url asset as url %}: the playback URL, for templates whose view already checked access."""

from django import template

from portal.library.models import Asset
from portal.media.services import media_url as build_media_url

register = template.Library()


@register.simple_tag
def media_url(asset: Asset) -> str:
    return build_media_url(asset=asset) or ""
