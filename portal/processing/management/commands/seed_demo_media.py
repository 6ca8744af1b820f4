"""Real demo media: videos, audio, photos with GPS and multi-page PDFs, generated here, stored
in S3 and run through the real pipeline, then published. Idempotent (demo media found → nothing)."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from portal.accounts.models import User
from portal.integrations import s3
from portal.jobs.services import job_create
from portal.library.lifecycle import asset_transition
from portal.library.models import Asset, Collection, Kind, Status, Tag
from portal.library.services import asset_set_published, unique_slug
from portal.processing.samples import make_audio, make_pdf, make_photo, make_video
from portal.processing.services import QUEUE_FOR_KIND, processing_run

VIDEOS = [("Colour bars at the observatory", "smptebars"), ("Studio colour chart", "smptehdbars"),
          ("Test pattern walk-through", "testsrc2")]
AUDIO = [("Harbour bell tone", 330), ("Lighthouse hum", 220), ("Market whistle", 660)]
PHOTOS = [("Canal houses, Amsterdam", 52.3676, 4.9041), ("Harbour at dawn, Lisbon", 38.7223, -9.1393),
          ("Glacier viewpoint, Reykjavík", 64.1466, -21.9426), ("Night market, Taipei", 25.0330, 121.5654)]
DOCUMENTS = [("Annual harbour report", ["Harbour report 2026", "Traffic and tonnage", "Outlook"]),
             ("Field guide to city birds", ["Field guide", "Gulls", "Swifts", "Crows"])]

SEEDED_BY = "seed_demo_media"  # Asset.seeded_by: how a second run finds the first one's assets


class Command(BaseCommand):
    help = "Generate real demo media and run it through the processing pipeline (safe to run twice)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--video-seconds", type=int, default=12)

    def handle(self, *args: Any, video_seconds: int, **options: Any) -> None:
        if Asset.objects.filter(seeded_by=SEEDED_BY).exists():
            self.stdout.write("Demo media already present; nothing to do.")
            return
        editor = User.objects.get(username="editor")  # made by seed_demo
        with tempfile.TemporaryDirectory(prefix="portal-demo-") as tmp:
            work = Path(tmp)
            items: list[tuple[str, str, Path, str]] = []
            for i, (title, source) in enumerate(VIDEOS):
                path = make_video(work / f"v{i}.mp4", seconds=video_seconds, size="640x360", source=source)
                items.append((Kind.VIDEO, title, path, "video/mp4"))
            for i, (title, frequency) in enumerate(AUDIO):
                audio = make_audio(work / f"a{i}.m4a", seconds=8, frequency=frequency, tremolo=True)
                items.append((Kind.AUDIO, title, audio, "audio/mp4"))
            for i, (title, lat, lon) in enumerate(PHOTOS):
                items.append((Kind.IMAGE, title, make_photo(work / f"p{i}.jpg", size=(1600, 1067), lat=lat, lon=lon),
                              "image/jpeg"))
            for i, (title, pages) in enumerate(DOCUMENTS):
                path = work / f"d{i}.pdf"
                path.write_bytes(make_pdf(pages))
                items.append((Kind.DOCUMENT, title, path, "application/pdf"))
            for kind, title, path, content_type in items:
                self._add(editor, kind, title, path, content_type)
        self.stdout.write(self.style.SUCCESS(f"Processed and published {len(items)} demo media assets."))

    def _add(self, editor: User, kind: str, title: str, path: Path, content_type: str) -> None:
        asset = Asset.objects.create(owner=editor, kind=kind, title=title, slug=unique_slug(title),
                                     description=f"Demo {kind} generated locally and run through the pipeline.",
                                     featured=True, seeded_by=SEEDED_BY)
        key = f"originals/{asset.pk}/{uuid.uuid4().hex}"
        s3.upload_file(bucket=settings.S3_PRIVATE_BUCKET, key=key, path=path, content_type=content_type)
        Asset.objects.filter(pk=asset.pk).update(
            source_key=key, source_size=path.stat().st_size, source_type=content_type,
            original_filename=f"{title}{path.suffix}")
        # Through the lifecycle, as an upload goes (draft → uploading → processing); not announced as
        # "uploaded", which would queue a second run in a worker: the run happens here.
        for step in (Status.UPLOADING, Status.PROCESSING):
            asset_transition(asset_id=asset.pk, to=step, actor=editor, reason="demo media seeded")
        asset.tags.set(Tag.objects.order_by("?")[:2])
        asset.collections.set(Collection.objects.order_by("?")[:1])
        job = job_create(asset_id=asset.pk, queue=QUEUE_FOR_KIND[kind], enqueue=False)
        processing_run(job_id=job.pk)  # here, not in a worker: a new user sees the results at once
        asset.refresh_from_db()
        if asset.status == Status.READY:
            asset = asset_set_published(asset_id=asset.pk, editor=editor, published=True)
        self.stdout.write(f"  {kind:<8} {title}: {asset.status}")
