"""Demo content for a new checkout: an editor, collections, tags and a few hundred assets.

Idempotent: a second run finds the demo content and changes nothing (pass --reset to rebuild it).
"""

from __future__ import annotations

import os
import random
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from portal.accounts.models import User
from portal.accounts.services import user_make_editor
from portal.core.fragments import bump_generation
from portal.library.lifecycle import assets_seed
from portal.library.models import Asset, Collection, Kind, Status, Tag, Visibility
from portal.library.services import unique_slug

SUBJECTS = ["Harbour", "Glacier", "City Hall", "Night Market", "Lighthouse", "Orchard", "Library", "Delta",
            "Observatory", "Rail Yard", "Festival", "Archive", "Canyon", "Workshop", "Forest", "Stadium"]
TREATMENTS = {
    Kind.VIDEO: ["Timelapse of the", "Walking tour:", "Drone flight over the", "Interview at the"],
    Kind.AUDIO: ["Field recording:", "Podcast episode on the", "Oral history of the", "Soundscape of the"],
    Kind.IMAGE: ["Panorama of the", "Portrait series:", "Aerial photo of the", "Detail study:"],
    Kind.DOCUMENT: ["Annual report on the", "Guide to the", "Survey of the", "Minutes: committee on the"],
}
TAGS = ["nature", "city", "history", "people", "night", "water", "architecture", "science", "music", "travel",
        "winter", "summer", "archive", "education", "community", "transport", "art", "food", "sport", "weather"]
COLLECTIONS = [("Coastlines", "Sea, harbours and the people who work them."),
               ("Urban Life", "Streets, markets and public buildings."),
               ("Voices", "Interviews, oral histories and recordings."),
               ("Seasons", "The same places through the year."),
               ("From the Archive", "Digitised material from our holdings."),
               ("Science Today", "Research, observatories and field work.")]
DEFAULT_COUNT = 240


class Command(BaseCommand):
    help = "Create demo content (an editor account, collections, tags and assets). Safe to run twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="assets to create")
        parser.add_argument("--reset", action="store_true", help="delete existing demo assets first")

    def handle(self, *args: Any, count: int, reset: bool, **options: Any) -> None:
        editor = self._editor()
        if reset:
            Asset.objects.filter(seeded_by="seed_demo").delete()
        existing = Asset.objects.filter(seeded_by="seed_demo").count()
        if existing >= count:
            self.stdout.write(f"Demo content already present ({existing} assets); nothing to do.")
        else:
            self._create(editor, count - existing, seed=existing)
            self.stdout.write(self.style.SUCCESS(f"Created {count - existing} demo assets."))
        password = os.environ.get("DEMO_EDITOR_PASSWORD", "portal-demo")
        self.stdout.write(f"Editor login: username 'editor', password '{password}' (set DEMO_EDITOR_PASSWORD).")

    def _editor(self) -> User:
        editor, created = User.objects.get_or_create(username="editor", defaults={"email": "editor@example.com"})
        if created:
            editor.set_password(os.environ.get("DEMO_EDITOR_PASSWORD", "portal-demo"))
            editor.save()
        user_make_editor(user=editor)
        return editor

    @transaction.atomic
    def _create(self, editor: User, count: int, seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 - demo data, not security
        tags = [Tag.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0] for name in TAGS]
        collections = [
            Collection.objects.get_or_create(title=title, defaults={
                "slug": slugify(title), "description": text, "owner": editor})[0]
            for title, text in COLLECTIONS
        ]
        now = timezone.now()
        assets, statuses = [], []
        for i in range(count):
            kind = list(Kind)[i % 4]
            title = f"{rng.choice(TREATMENTS[kind])} {rng.choice(SUBJECTS)} #{seed + i + 1}"
            # Metadata only, so no "ready" (that is what processing makes of a file): published or draft.
            status = Status.PUBLISHED if rng.random() < 0.85 else Status.DRAFT
            statuses.append(status)
            visibility = rng.choices(list(Visibility), weights=[85, 10, 5])[0]
            assets.append(Asset(
                kind=kind, title=title, slug=unique_slug(title), owner=editor, visibility=visibility,
                description=f"A demo {kind.label.lower()} about the {rng.choice(SUBJECTS).lower()}.",
                featured=rng.random() < 0.05, seeded_by="seed_demo",
                published_at=now - timedelta(hours=rng.randint(1, 24 * 365)) if status == Status.PUBLISHED else None,
            ))
        assets_seed(assets=assets, statuses=statuses, actor=editor, reason="demo content seeded")
        for asset in assets:
            asset.tags.set(rng.sample(tags, rng.randint(1, 4)))
            asset.collections.set(rng.sample(collections, rng.randint(0, 2)))
        transaction.on_commit(bump_generation)
