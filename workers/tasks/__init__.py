from workers.tasks import media, ops, processing, uploads

__all__ = ["media", "ops", "processing", "uploads"]
