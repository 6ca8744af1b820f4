"""What the library announces, after commit. Search, analytics and processing subscribe
in their AppConfig.ready(); the library imports none of them."""

from django.dispatch import Signal

# kwargs: asset_id (int), change ("created" | "updated" | "published" | "unpublished" | "deleted")
asset_changed = Signal()
# kwargs: collection_id (int), change
collection_changed = Signal()
