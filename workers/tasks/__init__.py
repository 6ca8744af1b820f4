from workers.tasks import analytics, media, ops, processing, search, uploads

__all__ = ["analytics", "media", "ops", "processing", "search", "uploads"]
