"""Abandon stale upload sessions and delete orphan originals (portal.uploads.cleanup).

Celery beat runs the same service hourly (`uploads-cleanup` in CELERY_BEAT_SCHEDULE, the
`uploads.cleanup` task on the bulk queue); this command is for operators and cron-only set-ups.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from portal.uploads.cleanup import uploads_cleanup


class Command(BaseCommand):
    help = ("Abandon upload sessions pending longer than UPLOAD_ABANDONED_HOURS, free their storage, and "
            "delete objects and multipart uploads under originals/ that nothing refers to. Idempotent.")

    def handle(self, *args: Any, **options: Any) -> None:
        done = uploads_cleanup(now=timezone.now())
        self.stdout.write(f"Abandoned {done['abandoned_sessions']} upload sessions, deleted "
                          f"{done['orphan_objects']} orphan objects, aborted "
                          f"{done['orphan_multipart_uploads']} orphan multipart uploads.")
