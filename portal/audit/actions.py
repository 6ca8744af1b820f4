"""What the audit log records, by name (kept in LogEntry.additional_data["action"])."""

from django.db import models


class Action(models.TextChoices):
    PUBLISHED = "published", "Published"
    UNPUBLISHED = "unpublished", "Unpublished"
    DELETED = "deleted", "Deleted"
    UPLOADED = "uploaded", "Uploaded"
    REPROCESSED = "reprocessed", "Processed again"
    RETRIED = "retried", "Retried a job"
    SIGNED_IN = "signed_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Failed to sign in"
