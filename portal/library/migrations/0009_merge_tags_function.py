# Merging two tags is one PL/pgSQL function (called by portal.library.services.tag_merge): it moves
# every membership of the source tag to the target, bumps the moved assets' versions and deletes the
# source, in the caller's transaction, and returns the ids of the assets it moved.

from django.db import migrations

MERGE_TAGS = r"""
CREATE OR REPLACE FUNCTION library_merge_tags(source_id bigint, target_id bigint) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    found integer;
    moved bigint[];
BEGIN
    IF source_id = target_id THEN
        RAISE EXCEPTION 'a tag cannot be merged into itself' USING ERRCODE = '22023';
    END IF;
    -- Lock order, the same as every other writer: the assets first (ascending id, as asset_update
    -- locks its one asset before touching tags), then both tags (ascending id). Two merges that share
    -- an asset or a tag wait for each other instead of deadlocking.
    PERFORM 1 FROM library_asset
     WHERE id IN (SELECT asset_id FROM library_asset_tags WHERE tag_id = source_id)
     ORDER BY id FOR UPDATE;
    SELECT count(*) INTO found
      FROM (SELECT id FROM library_tag WHERE id IN (source_id, target_id) ORDER BY id FOR UPDATE) AS locked;
    IF found <> 2 THEN  -- one of them is gone (merged or deleted by someone else meanwhile)
        RAISE EXCEPTION 'tag % or % does not exist', source_id, target_id USING ERRCODE = 'P0002';
    END IF;
    -- With the source tag locked nobody can link it any more: this sees every membership it has.
    WITH gone AS (DELETE FROM library_asset_tags WHERE tag_id = source_id RETURNING asset_id)
    SELECT coalesce(array_agg(asset_id ORDER BY asset_id), '{}') INTO moved FROM gone;
    INSERT INTO library_asset_tags (asset_id, tag_id)
    SELECT unnest(moved), target_id
        ON CONFLICT (asset_id, tag_id) DO NOTHING;  -- assets that had both keep one row
    -- A new version: an editor's open form (and any fragment keyed on the version) is now stale.
    UPDATE library_asset SET version = version + 1, updated_at = now() WHERE id = ANY(moved);
    DELETE FROM library_tag WHERE id = source_id;
    RETURN moved;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("library", "0008_asset_offer_original")]

    operations = [
        migrations.RunSQL(MERGE_TAGS, reverse_sql="DROP FUNCTION IF EXISTS library_merge_tags(bigint, bigint)"),
    ]
