from workers.tasks import analytics, audit, jobs, media, ops, processing, search, uploads

__all__ = ["analytics", "audit", "jobs", "media", "ops", "processing", "search", "uploads"]
