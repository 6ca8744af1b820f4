"""`{% pagination page query target="#results" %}`: the one pagination component for a Django Page."""

from __future__ import annotations

from typing import Any

from django import template
from django.core.paginator import Page
from django.utils.http import urlencode

register = template.Library()


@register.inclusion_tag("components/pagination.html")
def pagination(page: Page, query: str = "", target: str = "", swap: str = "", **params: object) -> dict[str, Any]:
    """`query`: the page's other parameters, already encoded (e.g. filters.as_query); `params`: more
    of them, encoded here, empty ones left out. With a `target`, htmx swaps only that region."""
    rest = "&".join(part for part in (query, urlencode({k: str(v) for k, v in params.items() if v})) if part)

    def link(number: int) -> str:
        return f"{rest}&page={number}" if rest else f"page={number}"

    return {"number": page.number, "pages": page.paginator.num_pages,
            "previous_query": link(page.previous_page_number()) if page.has_previous() else None,
            "next_query": link(page.next_page_number()) if page.has_next() else None,
            "target": target, "swap": swap}
