"""Assets, collections and tags: schema and single-row rules. Writes live in services.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from portal.library.errors import IllegalTransition
from portal.library.revisions import Revisions

if TYPE_CHECKING:
    from portal.accounts.models import User


class Kind(models.TextChoices):
    VIDEO = "video", "Video"
    AUDIO = "audio", "Audio"
    IMAGE = "image", "Image"
    DOCUMENT = "document", "Document"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    UNLISTED = "unlisted", "Unlisted"
    PRIVATE = "private", "Private"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    UPLOADING = "uploading", "Uploading"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"


# The lifecycle (see ARCHITECTURE.md). A draft may be published before any file exists
# (metadata-only assets); the upload issue routes files through uploading/processing.
TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.UPLOADING, Status.PUBLISHED},
    Status.UPLOADING: {Status.PROCESSING, Status.FAILED, Status.DRAFT},
    Status.PROCESSING: {Status.READY, Status.FAILED},
    Status.READY: {Status.PUBLISHED, Status.PROCESSING},
    Status.PUBLISHED: {Status.READY, Status.PROCESSING},
    Status.FAILED: {Status.PROCESSING, Status.UPLOADING},
}

# The "listed" rule, written once: what listings and search may show (published and public, never
# unlisted or private). Queries, related models' filters, a row's own check and the search engine's
# filter are all built from these fields.
LISTED_FIELDS: dict[str, str] = {"status": Status.PUBLISHED, "visibility": Visibility.PUBLIC}
LISTED = Q(**LISTED_FIELDS)


def listed_through(relation: str) -> Q:
    """LISTED seen from a model related to assets, e.g. listed_through("assets") for tags."""
    return Q(**{f"{relation}__{field}": value for field, value in LISTED_FIELDS.items()})


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Collection(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="collections")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = Revisions(tracked=["title", "description"])

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("library:collection", args=[self.slug])


class AssetQuerySet(models.QuerySet["Asset"]):
    def listed(self) -> AssetQuerySet:
        """What may appear in listings: published and public, never unlisted or private."""
        return self.filter(LISTED)

    def visible_to(self, user: User | object) -> AssetQuerySet:
        """What a user may open by URL: published public/unlisted, plus everything for editors
        and their own assets for owners."""
        if getattr(user, "is_editor", False):
            return self.all()
        visible = Q(status=Status.PUBLISHED, visibility__in=[Visibility.PUBLIC, Visibility.UNLISTED])
        if getattr(user, "is_authenticated", False):
            visible |= Q(owner=user)
        return self.filter(visible)


class Asset(models.Model):
    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assets")
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    featured = models.BooleanField(default=False)
    attributes = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    # The uploaded original, in the private bucket. The key is ours, never the user's file name.
    source_key = models.CharField(max_length=200, blank=True)
    source_size = models.BigIntegerField(null=True, blank=True)
    source_type = models.CharField(max_length=100, blank=True, help_text="MIME type sniffed from the bytes")
    # The ETag of the object finalize checked: the upload's policy stays valid after finalize, so
    # processing reads the key only if it still holds these bytes (If-Match). Empty: not pinned.
    source_etag = models.CharField(max_length=100, blank=True)
    original_filename = models.CharField(max_length=255, blank=True)
    # Where the CDN serves it from while published and public (a copy in the public bucket).
    public_key = models.CharField(max_length=200, blank=True)
    # What processing made of the file: written by portal.processing only, read by media, search
    # and analytics. The run (job) whose outputs are current, their folder in the private bucket,
    # their paths relative to it, and the metadata pages show (duration, size, codecs, peaks...).
    renditions_job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    renditions_prefix = models.CharField(max_length=200, blank=True)
    renditions = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    media = models.JSONField(default=dict, blank=True)
    # Why the last upload or processing run failed, in words for the editor; empty otherwise.
    upload_error = models.TextField(blank=True)
    processing_error = models.TextField(blank=True)
    # The demo command that made it ("seed_demo", "seed_demo_media"); empty for real content.
    seeded_by = models.CharField(max_length=40, blank=True)
    # The editor's opt-in: only then do visitors see where it was made, coarsened (`shared_location`).
    share_location = models.BooleanField(
        default=False, help_text="Show visitors roughly where this was made (to about 1 km) and let them find it "
                                 "by place. Editors always see the exact location.")
    # The editor's opt-in: only then does the original (with all its metadata: GPS, camera serial...)
    # reach the public bucket and visitors' downloads; otherwise they get a copy without metadata.
    offer_original = models.BooleanField(
        default=False, help_text="Let visitors download the original file, with all its embedded metadata "
                                 "(location, camera serial number...). Otherwise they get a copy without it.")
    tags = models.ManyToManyField(Tag, related_name="assets", blank=True)
    collections = models.ManyToManyField(Collection, related_name="assets", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = AssetQuerySet.as_manager()
    # What an editor's form sets; status belongs to the lifecycle, the rest to uploads and processing.
    history = Revisions(tracked=["title", "kind", "description", "visibility", "featured", "share_location",
                                 "offer_original"], m2m_fields=["tags", "collections"])

    class Meta:
        indexes = [
            # Browse: listed assets newest first (all kinds, or one kind), and A–Z.
            models.Index(fields=["-published_at", "-id"], condition=LISTED, name="asset_listed_recent"),
            models.Index(fields=["kind", "-published_at", "-id"], condition=LISTED, name="asset_listed_kind_recent"),
            models.Index(fields=["title", "id"], condition=LISTED, name="asset_listed_title"),
            models.Index(fields=["kind", "title", "id"], condition=LISTED, name="asset_listed_kind_title"),
            # Home: featured strip.
            models.Index(fields=["-published_at"], condition=LISTED & Q(featured=True), name="asset_featured"),
            # Studio: every asset, recently changed first, optionally by status.
            models.Index(fields=["-updated_at", "-id"], name="asset_recently_updated"),
            models.Index(fields=["status", "-updated_at"], name="asset_status_updated"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("library:asset", args=[self.slug])

    @property
    def has_file(self) -> bool:
        return bool(self.source_key)

    @property
    def kind_is_frozen(self) -> bool:
        """The kind picks the processing pipeline and was checked against the file's bytes, so it is
        fixed once a file exists or is on its way (a text file must never reach ffmpeg as a video)."""
        return self.has_file or self.status == Status.UPLOADING

    @property
    def renditions_version(self) -> int:
        """The processing run whose outputs are current (raw metadata is stored per run); 0 if none."""
        return self.renditions_job_id or 0

    def rendition_key(self, relative: str) -> str | None:
        """The private-bucket key of one of the current renditions ("hls/master.m3u8"), or None
        when the current run made no such file."""
        if not self.renditions_prefix or relative not in self.renditions:
            return None
        return self.renditions_prefix + relative

    @property
    def location(self) -> tuple[float, float] | None:
        """Where it was made (the file's GPS, as processing read it), exact: for editors only."""
        gps = (self.media or {}).get("gps") or {}
        try:
            lat, lon = float(gps["lat"]), float(gps["lon"])
        except (KeyError, TypeError, ValueError):
            return None
        return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None

    @property
    def shared_location(self) -> tuple[float, float] | None:
        """What visitors may see and search by: nothing unless the editor opted in, and then rounded to
        two decimals (about 1 km), so a home or a nest is not pinpointed."""
        location = self.location if self.share_location else None
        return (round(location[0], 2), round(location[1], 2)) if location else None

    @property
    def is_public_media(self) -> bool:
        """May its media be served by the CDN? Published and public or unlisted: never private."""
        return self.status == Status.PUBLISHED and self.visibility != Visibility.PRIVATE

    @property
    def is_listed(self) -> bool:
        return all(getattr(self, field) == value for field, value in LISTED_FIELDS.items())

    def move_to(self, status: str) -> None:
        """Refuses a move the lifecycle does not allow. Called only by portal.library.lifecycle,
        which also locks, versions, records and announces the change (tests/library/test_lifecycle.py)."""
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(current=self.status, wanted=status)
        if status == Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        self.status = status


class AssetTransition(models.Model):
    """One status change of an asset: who moved it, from where to where, and why."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, choices=Status.choices)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    # None: the system (a worker, a sweep, a command); the reason says which.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    reason = models.CharField(max_length=300)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["asset", "-id"], name="asset_transition_newest")]

    def __str__(self) -> str:
        return f"asset {self.asset_id}: {self.from_status} → {self.to_status}"
