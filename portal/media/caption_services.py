"""Captions: an editor's WebVTT or SRT file goes straight to S3 (a presigned POST), then a completion
step reads it back, refuses it with the line of the first bad cue or stores it as WebVTT with its cues.

The POST's policy redirects the browser (S3's 303) to the completion URL, so the studio's plain form
works without JavaScript. That URL is a GET carrying a signed ticket (asset, language, label, key
and the editor, valid an hour): only the editor who asked can complete it, which is what a CSRF
token would guarantee for a POST.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core import signing
from django.db import transaction

from portal.accounts.models import User
from portal.integrations import s3
from portal.library.lifecycle import announce_asset
from portal.library.models import Asset, Kind
from portal.media.captions import MAX_BYTES, CaptionError, parse, to_webvtt
from portal.media.models import Caption
from portal.media.publication import publication_invalidate

log = logging.getLogger(__name__)
SALT = "portal.media.captions"
TICKET_SECONDS = 3600
UPLOAD_TYPE = "text/plain"
VTT_TYPE = "text/vtt; charset=utf-8"
LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$")


@dataclass(frozen=True)
class CaptionUpload:
    url: str
    fields: dict[str, str]


def _validated(asset: Asset, language: str, label: str) -> tuple[str, str]:
    if asset.kind not in (Kind.VIDEO, Kind.AUDIO):
        raise CaptionError("Only videos and audio have captions.")
    language, label = language.strip(), label.strip()
    if not LANGUAGE.match(language):
        raise CaptionError("The language must be a code such as en, fr or pt-BR.")
    if not label or len(label) > 80:
        raise CaptionError("Give the captions a label of at most 80 characters, such as English.")
    return language, label


def caption_upload_start(*, asset: Asset, editor: User, language: str, label: str,
                         complete_url: str) -> CaptionUpload:
    """The form that sends the file to S3, and where S3 sends the browser afterwards (complete_url
    plus the signed ticket)."""
    language, label = _validated(asset, language, label)
    key = f"captions/{asset.pk}/uploads/{uuid.uuid4().hex}"
    ticket = signing.dumps({"asset": asset.pk, "language": language, "label": label, "key": key,
                            "editor": editor.pk}, salt=SALT)
    post = s3.presigned_post(bucket=settings.S3_PRIVATE_BUCKET, key=key, content_type=UPLOAD_TYPE,
                             max_bytes=MAX_BYTES, expires_s=TICKET_SECONDS,
                             redirect=f"{complete_url}?ticket={ticket}")
    return CaptionUpload(url=post.url, fields=post.fields)


def caption_upload_complete(*, ticket: str, editor: User) -> Caption:
    """Validate what the editor uploaded and keep it as WebVTT. Raises CaptionError (the editor's
    reason; the upload is deleted) for a bad ticket or file."""
    try:
        data = signing.loads(ticket, salt=SALT, max_age=TICKET_SECONDS)
    except signing.BadSignature:
        raise CaptionError("This caption upload has expired or is not yours: upload the file again.") from None
    if data.get("editor") != editor.pk:
        raise CaptionError("This caption upload has expired or is not yours: upload the file again.")
    raw_key = str(data["key"])
    try:
        raw = s3.read(bucket=settings.S3_PRIVATE_BUCKET, key=raw_key, max_bytes=MAX_BYTES + 1)
    except s3.ObjectMissing:
        raise CaptionError("The caption file did not arrive in storage: upload it again.") from None
    try:
        cues = parse(raw)
    finally:
        s3.delete(bucket=settings.S3_PRIVATE_BUCKET, key=raw_key)
    asset_id = int(data["asset"])
    key = f"captions/{asset_id}/{uuid.uuid4().hex}.vtt"
    s3.put(bucket=settings.S3_PRIVATE_BUCKET, key=key, body=to_webvtt(cues).encode(), content_type=VTT_TYPE)
    with transaction.atomic():
        asset = Asset.objects.select_for_update().only("pk", "kind").get(pk=asset_id)
        language, label = _validated(asset, str(data["language"]), str(data["label"]))
        previous = Caption.objects.filter(asset=asset, language=language).first()
        caption, _ = Caption.objects.update_or_create(
            asset=asset, language=language,
            defaults={"label": label, "key": key, "cues": [cue.as_dict() for cue in cues]})
        if previous is not None:
            transaction.on_commit(partial(_delete_quietly, previous.key))
        transaction.on_commit(partial(_announce, asset.pk))
    return caption


def caption_delete(*, caption_id: int) -> None:
    with transaction.atomic():
        caption = Caption.objects.select_for_update().get(pk=caption_id)
        caption.delete()
        transaction.on_commit(partial(_delete_quietly, caption.key))
        transaction.on_commit(partial(_announce, caption.asset_id))


def _announce(asset_id: int) -> None:
    """Public copies are made again with the captions (a task), the index gets their text."""
    publication_invalidate(asset_id=asset_id)
    announce_asset(asset_id, "captions")


def _delete_quietly(key: str) -> None:
    try:
        s3.delete(bucket=settings.S3_PRIVATE_BUCKET, key=key)
    except s3.StorageError:
        log.warning("could not delete the old caption file %s", key)
