from workers.tasks import processing, uploads

__all__ = ["processing", "uploads"]
