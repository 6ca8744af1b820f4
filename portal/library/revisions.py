"""Revisions of assets and collections: django-simple-history, narrowed to what editors write.

Only the fields an editor's form sets are kept (an allow-list, so a field added later, a view
counter or processing's output, is never tracked by accident), and a save records a revision only
when it could have changed one of them: the lifecycle's moves and processing's writes (`save(
update_fields=...)` naming none of them) record nothing. The services record exactly one revision
per editor's save (`one_revision`), after the tags and collections are set, instead of one for the
row and one more for each many-to-many change. Reads and the side-by-side difference live here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

# Models with revisions → their recorder (filled when each model class is prepared).
RECORDERS: dict[type[models.Model], Revisions] = {}


class Revisions(HistoricalRecords):
    """HistoricalRecords keeping only `tracked` (plus the version), recorded on saves that may
    change them. `triggers`: the fields whose write makes a save worth a revision."""

    def __init__(self, *, tracked: Sequence[str], m2m_fields: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(m2m_fields=list(m2m_fields), **kwargs)
        self.tracked = ("id", *tracked, "version")
        self.triggers = frozenset(tracked) | frozenset(m2m_fields)

    def finalize(self, sender: type[models.Model], **kwargs: Any) -> None:
        if sender is self.cls:
            self.excluded_fields = [f.name for f in sender._meta.fields if f.name not in self.tracked]
            RECORDERS[sender] = self
        super().finalize(sender, **kwargs)

    def post_save(self, instance: models.Model, created: bool, using: str | None = None, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if not created and update_fields is not None and not self.triggers.intersection(update_fields):
            return  # a status move, processing's outputs, an error text: not an edit
        if not created and update_fields is None and _same_as_last(self, instance):
            return  # a full save that changed nothing an editor sees (a test's or a command's)
        super().post_save(instance, created, using=using, **kwargs)

    def m2m_changed(self, instance: models.Model, action: str, attr: str, pk_set: Any, reverse: bool,
                    **kwargs: Any) -> None:
        # From the tag's or collection's side `instance` is not ours: no revision of the assets.
        if not reverse:
            super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)


def _same_as_last(recorder: Revisions, instance: models.Model) -> bool:
    last = getattr(instance, recorder.manager_name).order_by("-history_id").first()
    if last is None:
        return False
    return all(getattr(last, f.attname) == getattr(instance, f.attname)
               for f in recorder.fields_included(instance) if f.name != "id")


@contextmanager
def one_revision(instance: models.Model, *, user: Any = None, reason: str = "") -> Iterator[None]:
    """Saves and many-to-many changes inside record nothing; one revision is recorded at the end
    (with the tags and collections as they then are). Nothing is recorded if the block raises."""
    instance.skip_history_when_saving = True  # type: ignore[attr-defined] # simple-history's own flag
    created = instance._state.adding
    try:
        yield
    finally:
        del instance.skip_history_when_saving  # type: ignore[attr-defined]
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    if user is not None:
        instance._history_user = user  # type: ignore[attr-defined]
    instance._change_reason = reason[:100] or None  # type: ignore[attr-defined]
    RECORDERS[type(instance)].create_historical_record(instance, "+" if created else "~")


# Reading revisions -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldRow:
    name: str
    label: str
    old: str
    new: str
    changed: bool


def revisions_of(model: type[models.Model], object_id: int) -> models.QuerySet[Any]:
    return (model.history.filter(id=object_id)  # type: ignore[attr-defined]
            .select_related("history_user").order_by("-history_id"))


def _fields(model: type[models.Model]) -> list[Any]:
    """The fields a revision shows: the tracked ones and the many-to-many ones, in that order."""
    recorder = RECORDERS[model]
    names = [name for name in recorder.tracked if name not in ("id", "version")] + list(recorder.m2m_fields)
    return [model._meta.get_field(name) for name in names]


def _m2m_values(model: type[models.Model], records: Iterable[Any]) -> dict[tuple[int, str], list[str]]:
    """(history_id, field) → the related objects' names, two queries per many-to-many field."""
    recorder, ids = RECORDERS[model], [record.history_id for record in records]
    values: dict[tuple[int, str], list[str]] = {}
    for field, through in recorder.m2m_models.items():
        if field.model is not model:  # simple-history keeps one table for every model's fields
            continue
        target = field.related_model
        column = field.m2m_reverse_field_name()
        rows = list(through.objects.filter(history_id__in=ids).values_list("history_id", f"{column}_id"))
        names = {obj.pk: str(obj) for obj in target._default_manager.filter(pk__in={pk for _, pk in rows})}
        for history_id, pk in rows:
            values.setdefault((history_id, field.name), []).append(names.get(pk, f"(deleted #{pk})"))
    return {key: sorted(items) for key, items in values.items()}


def _display(field: models.Field[Any, Any], record: Any, m2m: dict[tuple[int, str], list[str]]) -> str:
    if field.many_to_many:
        return ", ".join(m2m.get((record.history_id, field.name), []))
    value = getattr(record, field.attname)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def field_rows(model: type[models.Model], old: Any, new: Any) -> list[FieldRow]:
    """Every tracked field of two revisions side by side, flagged where they differ (the flags are
    simple-history's `diff_against`, so they agree with what it calls a change)."""
    changed = set(new.diff_against(old).changed_fields)
    m2m = _m2m_values(model, [old, new])
    return [FieldRow(field.name, str(field.verbose_name).capitalize(), _display(field, old, m2m),
                     _display(field, new, m2m), field.name in changed) for field in _fields(model)]


def changed_fields(model: type[models.Model], records: Sequence[Any], before: Any | None) -> dict[int, list[str]]:
    """For a page of revisions (newest first) and the one before the page's oldest: each
    revision's changed fields against its predecessor, in a fixed number of queries."""
    chain = [*records, before] if before is not None else list(records)
    m2m = _m2m_values(model, chain)
    fields, result = _fields(model), {}
    for newer, older in pairwise(chain):
        result[newer.history_id] = [str(f.verbose_name) for f in fields
                                    if _display(f, newer, m2m) != _display(f, older, m2m)]
    if before is None and records:
        result[records[-1].history_id] = ["created"] if records[-1].history_type == "+" else []
    return result


def related_ids(model: type[models.Model], record: Any, field_name: str) -> list[int]:
    """The ids a revision's many-to-many field held (some may since have been deleted)."""
    for field, through in RECORDERS[model].m2m_models.items():
        if field.model is model and field.name == field_name:
            column = f"{field.m2m_reverse_field_name()}_id"
            return list(through.objects.filter(history_id=record.history_id).values_list(column, flat=True))
    raise LookupError(field_name)
