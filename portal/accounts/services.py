"""Roles: the editors group and its permissions, kept in sync idempotently."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from portal.accounts.models import EDITORS_GROUP, User

EDITOR_PERMISSIONS = {
    "library": [
        "add_asset", "change_asset", "delete_asset", "view_asset",
        "add_collection", "change_collection", "delete_collection", "view_collection",
        "add_tag", "change_tag", "delete_tag", "view_tag",
    ],
}


def editors_group_sync() -> Group:
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
        permissions = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codenames in EDITOR_PERMISSIONS.items()
            for codename in codenames
        ]
        group.permissions.set(permissions)
    return group


def user_make_editor(*, user: User) -> User:
    user.groups.add(editors_group_sync())
    return user
