"""The studio's audit log page: search and filter, paginated."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.accounts.decorators import editor_required
from portal.audit.actions import Action
from portal.audit.forms import AuditFilterForm
from portal.audit.selectors import audit_entries
from portal.core.http import HtmxHttpRequest, vary_on_htmx

PER_PAGE = 50


@editor_required
@require_GET
def audit_log(request: HtmxHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.to_filters()
    page = Paginator(audit_entries(filters=filters), PER_PAGE).get_page(request.GET.get("page"))
    labels = dict(Action.choices)
    page.object_list = list(page.object_list)
    for entry in page.object_list:
        name = str((entry.additional_data or {}).get("action", ""))
        entry.action_label = labels.get(name, entry.get_action_display())
    context = {"form": form, "page": page, "query": filters.as_query()}
    template = "audit/log.html#results" if request.htmx else "audit/log.html"
    return vary_on_htmx(render(request, template, context, status=400 if form.errors else 200))
