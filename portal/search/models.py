"""PostgreSQL's record of index work: the broker (Redis) may lose a message or be unreachable when
a change is announced; this table is not lost, and the sweeper sends again what waited too long."""

from __future__ import annotations

from django.db import models


class PendingIndex(models.Model):
    """An asset whose index document must be brought in step with PostgreSQL. Written in the
    transaction of the change (portal.search.apps), removed by the indexing task once it has written
    a state at least as new (portal.search.services.search_index_asset)."""

    # No foreign key: a deleted asset's row stays until the task has removed its document.
    asset_id = models.BigIntegerField(primary_key=True)
    requested_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)  # last sent by the sweeper

    def __str__(self) -> str:
        return f"asset {self.asset_id} since {self.requested_at:%Y-%m-%d %H:%M:%S}"
