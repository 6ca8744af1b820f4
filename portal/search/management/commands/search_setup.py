from typing import Any

from django.core.management.base import BaseCommand

from portal.search.services import search_setup


class Command(BaseCommand):
    help = "Create the current versioned search index and its alias if missing; does nothing if present."

    def handle(self, *args: Any, **options: Any) -> None:
        created = search_setup()
        self.stdout.write(f"created {created}" if created else "search index present: nothing to do")
