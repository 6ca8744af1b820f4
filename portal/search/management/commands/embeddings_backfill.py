import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from portal.search.services import embeddings_backfill, search_document_count


class Command(BaseCommand):
    help = ("Compute the embedding (related media) of every asset that has none or whose title, description, "
            "tags or extracted text changed since; unchanged ones are skipped. Runs the model in this process.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=64, help="assets per model run and per upsert")

    def handle(self, *args: Any, **options: Any) -> None:
        with tqdm(total=search_document_count(), unit="asset", desc="embeddings", file=sys.stderr) as bar:
            written = embeddings_backfill(batch_size=max(1, options["batch_size"]), progress=bar.update)
        self.stdout.write(f"{written} embeddings written")
