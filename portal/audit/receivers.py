"""What the audit log hears: sign-ins (Django's auth signals) and the library's announcements."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest

from portal.accounts.models import User
from portal.audit.actions import Action
from portal.audit.services import audit_record
from portal.library.models import Asset, AssetTransition, Collection

log = logging.getLogger(__name__)
ASSET_ACTIONS = {"published": Action.PUBLISHED, "unpublished": Action.UNPUBLISHED, "deleted": Action.DELETED,
                 "uploaded": Action.UPLOADED}
USERNAME_MAX = 150


def on_logged_in(sender: object, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    audit_record(action=Action.SIGNED_IN, model=User, object_id=user.pk, label=user.get_username(), actor=user)


def on_login_failed(sender: object, credentials: dict[str, Any], request: HttpRequest | None = None,
                    **kwargs: Any) -> None:
    """Only the name tried is kept: `credentials` holds the password too (Django masks it, but
    nothing of it belongs in a log)."""
    model = get_user_model()
    name = str(credentials.get(model.USERNAME_FIELD) or "")[:USERNAME_MAX]
    user_id = model._default_manager.filter(**{model.USERNAME_FIELD: name}).values_list("pk", flat=True).first()
    audit_record(action=Action.SIGN_IN_FAILED, model=model, object_id=user_id, label=name,
                 details={"username": name})


def _deletion(model: type[Asset] | type[Collection], object_id: int) -> tuple[str, User | None]:
    """The title and who deleted it, from the deletion's revision (the row itself is gone; the
    revision took its user from the request, which may have ended before this announcement)."""
    record = (model.history.filter(id=object_id).select_related("history_user")
              .order_by("-history_id").first())
    if record is None:
        return f"{model._meta.verbose_name} #{object_id}", None
    return record.title, record.history_user if record.history_type == "-" else None


def on_asset_changed(sender: object, asset_id: int, change: str, **kwargs: Any) -> None:
    action = ASSET_ACTIONS.get(change)
    if action is None:
        return
    if action == Action.DELETED:
        title, actor = _deletion(Asset, asset_id)
        audit_record(action=action, model=Asset, object_id=asset_id, label=title, actor=actor)
        return
    # A status change: the lifecycle wrote who and why.
    move = AssetTransition.objects.filter(asset_id=asset_id).select_related("actor").order_by("-id").first()
    title = Asset.objects.filter(pk=asset_id).values_list("title", flat=True).first() or f"asset #{asset_id}"
    audit_record(action=action, model=Asset, object_id=asset_id, label=title,
                 actor=move.actor if move else None, details={"reason": move.reason} if move else {})


def on_collection_changed(sender: object, collection_id: int, change: str, **kwargs: Any) -> None:
    if change == "deleted":
        title, actor = _deletion(Collection, collection_id)
        audit_record(action=Action.DELETED, model=Collection, object_id=collection_id, label=title, actor=actor)
