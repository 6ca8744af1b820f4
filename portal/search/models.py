"""What search keeps in PostgreSQL: the record of index work (the broker may lose a message or be
unreachable when a change is announced; this table is not lost, and the sweeper sends again what
waited too long), and assets' embeddings for related media (pgvector)."""

from __future__ import annotations

from django.db import models
from pgvector.django import HnswIndex, VectorField

from portal.search.embeddings import DIMENSIONS


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


class AssetEmbedding(models.Model):
    """An asset's meaning as a vector (portal.search.embeddings), for related media: derived, like the
    index, and rebuilt by `manage.py embeddings_backfill`. A table of its own, not a column of assets:
    1.5 kB a row that no asset query but the related one should read."""

    asset = models.OneToOneField("library.Asset", on_delete=models.CASCADE, primary_key=True,
                                 related_name="embedding")
    embedding = VectorField(dimensions=DIMENSIONS)
    # A digest of the model's name and the text it was computed from: the same digest means nothing to do.
    source_digest = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # Cosine distance, pgvector's defaults (m 16, ef_construction 64); see bench/related.py.
            HnswIndex(fields=["embedding"], name="asset_embedding_hnsw", opclasses=["vector_cosine_ops"],
                      m=16, ef_construction=64),
        ]

    def __str__(self) -> str:
        return f"embedding of asset {self.asset_id}"
