from typing import Any

from django.apps import AppConfig
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

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, dispatch_uid="accounts.sync_roles")
