"""Who may edit what, written once. Views and services ask `can_edit`; none spells the rule itself.

The studio is shared: every editor may edit every asset (its details, its file, its publication,
its deletion), whoever created it; an asset's owner is its author, not its only editor. Visitors,
signed in or not, edit nothing. An upload session (one browser's transfer) stays its starter's own.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from portal.accounts.models import User
from portal.library.models import Asset


def can_edit(user: User | AnonymousUser, asset: Asset) -> bool:
    """May `user` change `asset` in any way? (`asset` is there so a finer rule changes only here.)"""
    return isinstance(user, User) and user.is_editor
