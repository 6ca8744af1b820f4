from workers.tasks import uploads

__all__ = ["uploads"]
