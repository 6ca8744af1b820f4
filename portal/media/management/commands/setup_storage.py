"""Create the buckets, the public bucket's read policy and the upload CORS rule. Idempotent;
the Procfile's release phase runs it."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from portal.integrations import s3


class Command(BaseCommand):
    help = "Create or update the S3 buckets, their read policy and CORS. Safe to run on every release."

    def handle(self, *args: Any, **options: Any) -> None:
        s3.bucket_ensure(bucket=settings.S3_PRIVATE_BUCKET, public_read=False, cors_origins=settings.S3_CORS_ORIGINS)
        s3.bucket_ensure(bucket=settings.S3_PUBLIC_BUCKET, public_read=True, cors_origins=["*"])
        self.stdout.write(f"Buckets ready: {settings.S3_PRIVATE_BUCKET} (private), "
                          f"{settings.S3_PUBLIC_BUCKET} (public)")
