from workers.tasks import analytics, media, ops, processing, uploads

__all__ = ["analytics", "media", "ops", "processing", "uploads"]
