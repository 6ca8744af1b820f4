"""Reading the audit log: filtered, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from auditlog.models import LogEntry
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.http import urlencode


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    object: str = ""
    since: date | None = None
    until: date | None = None

    def as_query(self) -> str:
        """These filters as a query string, for the pagination links."""
        values = {"actor": self.actor, "action": self.action, "object": self.object,
                  "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else ""}
        return urlencode({key: value for key, value in values.items() if value})


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entries(*, filters: AuditFilters) -> QuerySet[LogEntry]:
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-id")
    if filters.actor:  # a failed sign-in has no actor: the name tried counts as one
        entries = entries.filter(Q(actor__username__icontains=filters.actor)
                                 | Q(additional_data__username__icontains=filters.actor))
    if filters.action:
        entries = entries.filter(additional_data__action=filters.action)
    if filters.object:
        match = Q(object_repr__icontains=filters.object)
        if filters.object.isdigit():
            match |= Q(object_id=int(filters.object))
        entries = entries.filter(match)
    if filters.since:
        entries = entries.filter(timestamp__gte=_day_start(filters.since))
    if filters.until:  # the whole day named
        entries = entries.filter(timestamp__lt=_day_start(filters.until + timedelta(days=1)))
    return entries
