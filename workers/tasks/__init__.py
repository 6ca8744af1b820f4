from workers.tasks import analytics, jobs, media, ops, processing, search, uploads

__all__ = ["analytics", "jobs", "media", "ops", "processing", "search", "uploads"]
