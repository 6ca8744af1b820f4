"""What the library announces, after commit. Search, analytics and processing subscribe
in their AppConfig.ready(); the library imports none of them."""

from django.dispatch import Signal

# kwargs: asset_id (int), change ("created" | "updated" | "published" | "unpublished" | "deleted")
asset_changed = Signal()
# kwargs: collection_id (int), change
collection_changed = Signal()
# kwargs: source_id, target_id (int), asset_ids (list[int]: the assets whose tags changed). Sent INSIDE
# the merge's transaction (the one exception): what a receiver writes (search's pending-index rows)
# commits with the merge or not at all. The assets are announced one by one after commit as usual.
tags_merged = Signal()
