"""The studio's revision history of assets and collections: the list, two revisions side by side,
and restoring one (an edit like any other: portal.library.services)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from portal.core.http import HtmxHttpRequest
from portal.library import services
from portal.library.errors import EditConflict, LibraryError, RevisionMissing
from portal.library.models import Asset, Collection
from portal.library.policy import can_edit
from portal.library.revisions import changed_fields, field_rows, revisions_of

PER_PAGE = 20
# kind (from the URL conf) → the model, its restore service, and its studio URL names.
KINDS: dict[str, tuple[type[models.Model], Callable[..., Any]]] = {
    "asset": (Asset, lambda **kw: services.asset_restore(asset_id=kw.pop("object_id"), **kw)),
    "collection": (Collection, lambda **kw: services.collection_restore(collection_id=kw.pop("object_id"), **kw)),
}


def _names(kind: str) -> dict[str, str]:
    return {name: f"studio:{kind}_{name}" for name in ("history", "compare", "restore", "edit")}


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Visitors are sent to sign in. Signed-in non-editors get a 404 from `_object`: revisions hold
    what private assets said, and the studio's 403 would tell that the object exists."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def _object(request: HttpRequest, kind: str, object_id: int) -> models.Model:
    model, _ = KINDS[kind]
    obj = get_object_or_404(model, pk=object_id)
    if not can_edit(request.user, obj):  # type: ignore[arg-type]
        raise Http404("No such object.")
    return obj


def _history(request: HttpRequest, kind: str, obj: Any, *, status: int = 200, error: str = "") -> HttpResponse:
    model, _ = KINDS[kind]
    revisions = revisions_of(model, obj.pk)
    page = Paginator(revisions, PER_PAGE).get_page(request.GET.get("page"))
    records = list(page.object_list)
    before = revisions.filter(history_id__lt=records[-1].history_id).first() if records else None
    changes = changed_fields(model, records, before)
    previous = [*records[1:], before]
    rows = [(record, changes.get(record.history_id, []), older.history_id if older else None)
            for record, older in zip(records, previous, strict=True)]
    newest = records[0].history_id if page.number == 1 and records else None
    context = {"object": obj, "kind": kind, "names": _names(kind), "page": page, "rows": rows, "newest": newest,
               "error": error}
    return render(request, "studio/history.html", context, status=status)


@signed_in
@require_GET
def history(request: HtmxHttpRequest, kind: str, object_id: int) -> HttpResponse:
    return _history(request, kind, _object(request, kind, object_id))


def _revision_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@signed_in
@require_GET
def compare(request: HtmxHttpRequest, kind: str, object_id: int) -> HttpResponse:
    """?a=&b=: two revisions, older on the left whatever the order asked; without them the newest
    against the one before it."""
    obj = _object(request, kind, object_id)
    model, _ = KINDS[kind]
    revisions = revisions_of(model, obj.pk)
    asked = [request.GET.get(key, "") for key in ("a", "b")]
    if not any(asked):
        pair = list(revisions[:2])
        if len(pair) < 2:
            return _history(request, kind, obj, error="There is only one revision: nothing to compare yet.")
    else:
        ids = [_revision_id(value) for value in asked]
        if None in ids:
            return _history(request, kind, obj, status=400, error="Pick two revisions to compare.")
        found = {record.history_id: record for record in revisions.filter(history_id__in=ids)}
        if any(pk not in found for pk in ids):
            raise Http404("No such revision of this object.")
        pair = [found[pk] for pk in ids if pk is not None]
    old, new = sorted(pair, key=lambda record: record.history_id)
    newest = revisions.values_list("history_id", flat=True).first()
    context = {"object": obj, "kind": kind, "names": _names(kind), "old": old, "new": new,
               "rows": field_rows(model, old, new),
               "restorable": [record for record in {old.history_id: old, new.history_id: new}.values()
                              if record.history_id != newest]}
    return render(request, "studio/compare.html", context)


@signed_in
@require_POST
def restore(request: HtmxHttpRequest, kind: str, object_id: int, revision_id: int) -> HttpResponse:
    obj = _object(request, kind, object_id)
    _, restore_service = KINDS[kind]
    version = _revision_id(request.POST.get("version"))
    if version is None:
        return _history(request, kind, obj, status=400, error="The form was incomplete (no version): reload the "
                                                             "page and try again.")
    try:
        restored = restore_service(object_id=obj.pk, revision_id=revision_id, expected_version=version,
                                   editor=request.user)
    except RevisionMissing as missing:
        raise Http404(str(missing)) from missing
    except EditConflict as conflict:
        current = conflict.current
        error = (f"Not restored: “{current.title}” was changed since you opened this page (it is now version "
                 f"{current.version}, and you loaded version {version}). Its latest revision is at the top "
                 f"below; compare it and restore again if you still want to.")
        return _history(request, kind, current, status=409, error=error)
    except LibraryError as error:
        return _history(request, kind, obj, status=400, error=str(error))
    old_version = revisions_of(type(obj), obj.pk).filter(history_id=revision_id).values_list("version", flat=True)
    messages.success(request, f"Restored version {old_version.first()} of “{restored.title}” as version "
                              f"{restored.version}.")
    return redirect(_names(kind)["history"], object_id=obj.pk)
