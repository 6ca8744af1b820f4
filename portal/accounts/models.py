from __future__ import annotations

from django.contrib.auth.models import AbstractUser

EDITORS_GROUP = "Editors"


class User(AbstractUser):
    """Custom from day one, so fields can be added without a painful swap later."""

    @property
    def is_editor(self) -> bool:
        """Editors manage content; everyone else is a visitor. The role is the group's permission."""
        return self.is_active and self.has_perm("library.change_asset")
