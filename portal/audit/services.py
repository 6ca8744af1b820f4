"""Writing the audit log (django-auditlog's LogEntry) and expiring it.

auditlog's own `action` knows only create/update/delete/access; ours ("published", "signed in"...)
is kept beside it in `additional_data`, with anything else worth keeping (never a password).
Inside a request, auditlog's context (portal/audit/middleware.py) fills the address, and the
actor when none is given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from portal.accounts.models import User
from portal.audit.actions import Action

# auditlog's coarse action for each of ours (its admin and filters understand these).
COARSE = {Action.DELETED: LogEntry.Action.DELETE, Action.UPLOADED: LogEntry.Action.UPDATE,
          Action.SIGNED_IN: LogEntry.Action.ACCESS, Action.SIGN_IN_FAILED: LogEntry.Action.ACCESS}
REPR_MAX = 200
EXPIRE_BATCH = 5000


def audit_record(*, action: Action, model: type[models.Model], object_id: int | None, label: str,
                 actor: User | None = None, details: dict[str, Any] | None = None) -> LogEntry:
    """One entry: `action` on the object `model`/`object_id` (None: no such object, e.g. a sign-in
    under an unknown name), shown as `label` (kept as written: the object may be deleted later)."""
    return LogEntry.objects.create(
        content_type=_content_type(model),
        object_pk="" if object_id is None else str(object_id), object_id=object_id,
        object_repr=label[:REPR_MAX], action=COARSE.get(action, LogEntry.Action.UPDATE), actor=actor,
        additional_data={"action": str(action), **(details or {})},
    )


def _content_type(model: type[models.Model]) -> ContentType:
    """Read from the table, not from the process's ContentType cache: a long-running process keeps ids
    the database may have made again under others (a flushed test database, a restore), and the
    foreign key is only checked at commit, where a stale id would turn a sign-in into a 500. One indexed
    query per entry; entries are rare (sign-ins, publications, deletions)."""
    opts = (model._meta.concrete_model or model)._meta
    found = ContentType.objects.filter(app_label=opts.app_label, model=opts.model_name).first()
    return found or ContentType.objects.get_for_model(model)


def audit_expire(*, now: datetime | None = None) -> int:
    """Delete entries older than AUDIT_KEEP_DAYS, in batches (a short lock each); returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_KEEP_DAYS)
    deleted = 0
    while True:
        ids = list(LogEntry.objects.filter(timestamp__lt=cutoff).values_list("pk", flat=True)[:EXPIRE_BATCH])
        if not ids:
            return deleted
        deleted += LogEntry.objects.filter(pk__in=ids).delete()[0]
