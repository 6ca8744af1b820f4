"""Create every MongoDB index the portal uses. Idempotent: run on each release (Procfile)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal.integrations import mongo


class Command(BaseCommand):
    help = "Create the MongoDB indexes (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            names = mongo.ensure_indexes()
        except mongo.MongoUnavailable as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"MongoDB database {mongo.database_name()!r}: {len(names)} indexes in place "
                          f"({', '.join(names)})")
