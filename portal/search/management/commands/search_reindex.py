import sys
from typing import Any

from django.core.management.base import BaseCommand
from tqdm import tqdm

from portal.search.services import search_document_count, search_reindex, search_setup


class Command(BaseCommand):
    help = ("Rebuild the search index from PostgreSQL into a new versioned index, then swap the alias "
            "atomically: searches keep answering throughout.")

    def handle(self, *args: Any, **options: Any) -> None:
        search_setup()  # the very first run has no alias yet
        with tqdm(total=search_document_count(), unit="doc", desc="reindex", file=sys.stderr) as bar:
            name = search_reindex(progress=bar.update)
        self.stdout.write(f"the alias now points at {name}")
