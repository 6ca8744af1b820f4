"""What the PostgreSQL fallback needs: pg_trgm, and a GIN trigram index on asset titles for the
similarity operators (typos and prefixes while OpenSearch is down)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("library", "0002_asset_original_filename_asset_public_key_and_more")]

    operations = [
        TrigramExtension(),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS search_asset_title_trgm ON library_asset USING gin (title gin_trgm_ops)",
            reverse_sql="DROP INDEX IF EXISTS search_asset_title_trgm",
        ),
    ]
