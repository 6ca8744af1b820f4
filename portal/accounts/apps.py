from typing import Any

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_migrate


def _sync_roles(sender: AppConfig, **kwargs: Any) -> None:
    # Permissions for library models exist only after its own post_migrate ran (auth's handler
    # is connected first), so the group is synced when library's signal comes round.
    if sender.label == "library":
        from portal.accounts.services import editors_group_sync  # noqa: PLC0415 - models not ready at import

        editors_group_sync()


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    default = True

    def ready(self) -> None:
        from portal.accounts import receivers  # noqa: PLC0415 - imports auth models, not ready at import

        post_migrate.connect(_sync_roles, dispatch_uid="accounts.sync_roles")
        user_login_failed.connect(receivers.on_login_failed, dispatch_uid="accounts.throttle_failed")
        user_logged_in.connect(receivers.on_logged_in, dispatch_uid="accounts.throttle_succeeded")


class PortalAdminConfig(admin_apps.AdminConfig):
    """Stands in for django.contrib.admin in INSTALLED_APPS: admin.site is then ours, whose login
    is throttled like the portal's (adminsite.py)."""

    default = False  # "portal.accounts" alone still means AccountsConfig
    default_site = "portal.accounts.adminsite.PortalAdminSite"
