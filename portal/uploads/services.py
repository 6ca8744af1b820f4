"""Uploads: sign, check, finalize. Django never receives the file's bytes."""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import User
from portal.integrations import s3
from portal.library.errors import IllegalTransition
from portal.library.lifecycle import asset_transition
from portal.library.models import Asset, Kind, Status
from portal.library.policy import can_edit
from portal.library.services import AssetData, asset_create
from portal.uploads.errors import UploadError, UploadNotFound
from portal.uploads.filenames import clean_filename, title_from_filename
from portal.uploads.models import UploadSession, UploadStatus
from portal.uploads.sniffing import kind_for_type, sniffed_kind

MIB = 1024 * 1024
ACCEPTED = "video, audio, images (JPEG, PNG, GIF, WebP), PDF, plain text or Office documents"


@dataclass(frozen=True)
class UploadTicket:
    """What the browser needs to send the file to S3 itself."""

    session: UploadSession
    method: str  # "POST" (one request) or "multipart" (presigned part URLs, resumable)
    url: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        s = self.session
        return {"session": str(s.pk), "asset": s.asset_id, "key": s.key, "method": self.method, "url": self.url,
                "fields": self.fields, "uploadId": s.multipart_upload_id, "partSize": s.part_size,
                "parts": s.part_count, "editUrl": reverse("studio:asset_edit", args=[s.asset_id])}


# "a image" reads badly in an error message: each kind with its article.
A_KIND = {Kind.VIDEO: "a video", Kind.AUDIO: "an audio file", Kind.IMAGE: "an image", Kind.DOCUMENT: "a document"}


def max_bytes(kind: str) -> int:
    return int(settings.UPLOAD_MAX_MB[kind]) * MIB


def _bucket() -> str:
    return str(settings.S3_PRIVATE_BUCKET)


def _check_declared(*, name: str, size: int, content_type: str) -> str:
    kind = kind_for_type(content_type)
    if kind is None:
        raise UploadError(f"“{name}” is not a type we accept ({content_type or 'unknown type'}). Upload {ACCEPTED}.")
    if size <= 0:
        raise UploadError(f"“{name}” is empty.")
    if size > max_bytes(kind):
        raise UploadError(f"“{name}” is {filesizeformat(size)}; the largest {Kind(kind).label.lower()} "
                          f"we accept is {filesizeformat(max_bytes(kind))}.")
    return kind


def upload_start(*, owner: User, filename: str, size: int, content_type: str,
                 asset_id: int | None = None) -> UploadTicket:
    """Create (or reuse, to retry) the asset and an upload session, and sign the browser's upload."""
    name = clean_filename(filename)
    content_type = content_type.split(";")[0].strip().lower()[:100]
    if not content_type:  # some browsers send no type for some files: fall back on the extension
        content_type = (mimetypes.guess_type(name)[0] or "").lower()
    kind = _check_declared(name=name, size=size, content_type=content_type)
    multipart = size >= settings.UPLOAD_MULTIPART_THRESHOLD_MB * MIB
    with transaction.atomic():
        if asset_id is None:  # through the library, like the studio's: validated and announced
            asset = asset_create(owner=owner, data=AssetData(title=title_from_filename(name), kind=kind))
        else:
            found = Asset.objects.select_for_update().filter(pk=asset_id).first()
            if found is None or not can_edit(owner, found):  # the upload page asks the same
                raise UploadNotFound("No such asset.")
            asset = found
            if asset.kind != kind:
                raise UploadError(f"“{name}” is not {A_KIND[Kind(asset.kind)]}, like this asset.")
        try:  # a second try while the first is pending stays "uploading"
            asset = asset_transition(asset_id=asset.pk, to=Status.UPLOADING, actor=owner, reason="upload started")
        except IllegalTransition as error:
            raise UploadError(f"A file cannot be uploaded to an asset that is {asset.status}.") from error
        key = f"originals/{asset.pk}/{uuid.uuid4().hex}"  # ours: never derived from the file name
        session = UploadSession.objects.create(
            asset=asset, owner=owner, key=key, original_filename=name, declared_size=size,
            declared_type=content_type, kind=kind,
            expires_at=timezone.now() + timedelta(seconds=settings.UPLOAD_POLICY_SECONDS),
        )
        if multipart:
            session.multipart_upload_id = s3.multipart_create(bucket=_bucket(), key=key, content_type=content_type)
            session.part_size = settings.UPLOAD_PART_SIZE_MB * MIB
            session.save(update_fields=["multipart_upload_id", "part_size"])
            return UploadTicket(session=session, method="multipart")
    post = s3.presigned_post(bucket=_bucket(), key=key, content_type=content_type, max_bytes=max_bytes(kind),
                             expires_s=settings.UPLOAD_POLICY_SECONDS)
    return UploadTicket(session=session, method="POST", url=post.url, fields=post.fields)


def session_for(*, user: User, session_id: uuid.UUID) -> UploadSession:
    """The user's own session; anyone else's is simply not found."""
    try:
        return UploadSession.objects.select_related("asset").get(pk=session_id, owner=user)
    except UploadSession.DoesNotExist as error:
        raise UploadNotFound("No such upload.") from error


def upload_part_urls(*, user: User, session_id: uuid.UUID, numbers: list[int]) -> dict[int, str]:
    session = session_for(user=user, session_id=session_id)
    if not session.is_multipart or session.status != UploadStatus.PENDING:
        raise UploadError("This upload is not waiting for parts.")
    if any(n < 1 or n > session.part_count for n in numbers):
        raise UploadError(f"Part numbers must be between 1 and {session.part_count}.")
    return {n: s3.multipart_part_url(bucket=_bucket(), key=session.key, upload_id=session.multipart_upload_id,
                                     number=n, expires_s=settings.UPLOAD_POLICY_SECONDS) for n in numbers}


def upload_parts(*, user: User, session_id: uuid.UUID) -> list[s3.Part]:
    """The parts S3 already holds with the size they must have, so an interrupted upload resumes
    instead of starting over; a part of the wrong size is left out, so the uploader sends it again."""
    session = session_for(user=user, session_id=session_id)
    if not session.is_multipart:
        raise UploadError("This upload is not a multipart upload.")
    if session.status != UploadStatus.PENDING:
        return []
    parts = s3.multipart_parts(bucket=_bucket(), key=session.key, upload_id=session.multipart_upload_id)
    return [part for part in parts if part.size == session.expected_part_size(part.number)]


def _check_part_sizes(session: UploadSession, parts: list[s3.Part]) -> None:
    """A presigned part URL cannot bound its body's size: check every part against the declared size
    before S3 assembles them. Refused, the session stays open: resending the part replaces it."""
    wrong = [f"{p.number} ({p.size:,} bytes instead of {session.expected_part_size(p.number):,})"
             for p in sorted(parts, key=lambda p: p.number) if p.size != session.expected_part_size(p.number)]
    if wrong:
        raise UploadError(f"Parts of “{session.original_filename}” with the wrong size: {', '.join(wrong)}. "
                          f"Resume the upload to send them again.")


def _fail(session: UploadSession, reason: str) -> UploadSession:
    """Record why, keep the asset retryable (failed → uploading again), drop the unusable bytes.
    An asset that another session already moved on is left as it is."""
    session.status = UploadStatus.FAILED
    session.error = reason
    session.finalized_at = timezone.now()
    session.save(update_fields=["status", "error", "finalized_at"])
    asset = session.asset
    if asset.status in (Status.UPLOADING, Status.FAILED):
        asset.upload_error = reason
        asset.save(update_fields=["upload_error", "updated_at"])
        session.asset = asset_transition(asset_id=asset.pk, to=Status.FAILED, actor=session.owner, reason=reason)
    transaction.on_commit(partial(_discard, session.key))
    return session


def _discard(key: str) -> None:
    s3.delete(bucket=_bucket(), key=key)


def _replaced(session: UploadSession) -> UploadError:
    return UploadError(f"“{session.original_filename}” was replaced while it was being checked. Finish again.")


def _settled(session: UploadSession, etag: str) -> tuple[str, str]:
    """Where the checked bytes stay, and their ETag there. A POST policy stays valid after finalize
    and could put other bytes under its key, so the checked object (If-Match) is copied to a key no
    policy covers, and the upload's key is freed (or swept as an orphan). POST uploads are below the
    multipart threshold, so the copy is small. A multipart upload's key cannot be written again: its
    upload id is spent once assembled."""
    if session.is_multipart:
        return session.key, etag
    key = f"originals/{session.asset_id}/{uuid.uuid4().hex}"
    try:
        copied = s3.copy(source_bucket=_bucket(), source_key=session.key, bucket=_bucket(), key=key, if_match=etag)
    except s3.ObjectChanged as error:
        raise _replaced(session) from error
    transaction.on_commit(partial(_discard, session.key))
    return key, copied or etag


def _arrived(session: UploadSession) -> s3.ObjectInfo:
    """The uploaded object. A multipart upload is assembled first, once: a finalize retried after a
    failure further on finds the object already assembled (its upload id no longer exists)."""
    name = session.original_filename
    info = s3.head(bucket=_bucket(), key=session.key)
    if info is None and session.is_multipart:
        parts = s3.multipart_parts(bucket=_bucket(), key=session.key, upload_id=session.multipart_upload_id)
        _check_part_sizes(session, parts)
        if len(parts) < session.part_count:
            raise UploadError(f"Only {len(parts)} of {session.part_count} parts of “{name}” have arrived; "
                              f"resume the upload to send the rest.")
        s3.multipart_complete(bucket=_bucket(), key=session.key, upload_id=session.multipart_upload_id,
                              parts=parts)
        info = s3.head(bucket=_bucket(), key=session.key)
    if info is None:
        raise UploadError(f"“{name}” has not reached storage yet. Upload it, then finish again.")
    return info


def upload_finalize(*, user: User, session_id: uuid.UUID) -> UploadSession:
    """Check what really reached S3 and move the asset on. Safe to call twice (idempotent)."""
    with transaction.atomic():
        session = session_for(user=user, session_id=session_id)
        session = UploadSession.objects.select_for_update().select_related("asset").get(pk=session.pk)
        if session.status != UploadStatus.PENDING:
            return session  # a replay answers with the outcome of the first call
        name = session.original_filename
        if session.asset.status not in (Status.UPLOADING, Status.FAILED):  # another session finished first
            return _fail(session, f"Another upload of this asset finished first, so “{name}” was not used.")
        info = _arrived(session)
        if info.size != session.declared_size:
            why = "the upload was cut short" if info.size < session.declared_size else "it is not the file announced"
            return _fail(session, f"“{name}” arrived with {info.size:,} bytes instead of "
                                  f"{session.declared_size:,}: {why}. Try again.")
        if info.size > max_bytes(session.kind):
            return _fail(session, f"“{name}” is larger than {filesizeformat(max_bytes(session.kind))}.")
        try:  # the bytes HEAD described: the policy still lets the browser replace them
            prefix = s3.read_prefix(bucket=_bucket(), key=session.key, if_match=info.etag)
        except s3.ObjectChanged as error:
            raise _replaced(session) from error
        sniffed, kind = sniffed_kind(prefix, session.declared_type)
        if kind != session.kind:
            return _fail(session, f"“{name}” is not really {A_KIND[Kind(session.kind)]}: its content is {sniffed}.")
        asset = session.asset
        asset.source_key, asset.source_etag = _settled(session, info.etag)  # processing reads these (If-Match)
        asset.source_size, asset.source_type = info.size, sniffed
        asset.original_filename = name
        asset.upload_error = ""
        asset.save(update_fields=["source_key", "source_size", "source_type", "source_etag", "original_filename",
                                  "upload_error", "updated_at"])
        session.status = UploadStatus.COMPLETE
        session.finalized_at = timezone.now()
        session.save(update_fields=["status", "finalized_at"])
        # The hook for processing: subscribers of asset_changed see change="uploaded".
        session.asset = asset_transition(asset_id=asset.pk, to=Status.PROCESSING, actor=user,
                                         reason=f"upload of “{name}” checked", change="uploaded")
    return session
