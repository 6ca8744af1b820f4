from __future__ import annotations

from django import template

from portal.library.models import Asset, Kind
from portal.processing.forms import OcrLanguagesForm
from portal.processing.models import OcrOptions

register = template.Library()


@register.inclusion_tag("processing/_ocr_panel.html", takes_context=True)
def ocr_panel(context: template.Context, asset: Asset) -> dict[str, object]:
    """The studio's OCR languages form, for the kinds OCR reads (documents and images)."""
    options = OcrOptions.objects.filter(asset_id=asset.pk).first()
    form = OcrLanguagesForm(initial={"languages": options.languages if options else []})
    return {"asset": asset, "form": form, "shown": asset.kind in (Kind.DOCUMENT, Kind.IMAGE),
            "ocr": (asset.media or {}).get("ocr"), "csrf_token": context.get("csrf_token")}
