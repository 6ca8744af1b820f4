"""Object storage: the only module that imports boto3 and django-storages.

Files are saved, opened, deleted and given URLs through django-storages' `S3Storage`, one per
bucket, configured by `settings.STORAGES` ("default": the private bucket, URLs signed for at most
PRIVATE_URL_SECONDS; "public": the public bucket, URLs on the CDN's domain). boto3 is used
directly only where storages cannot go: presigned POST policies and multipart uploads (the bytes
go from the browser to S3, never through Django), ranged reads, metadata (HEAD), listings,
server-side copies, batch deletes (DeleteObjects), bucket policy and CORS, and the readiness
probe. Callers see our own small dataclasses and errors, never boto3's.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files import File
from storages.backends.s3 import S3Storage


class StorageError(Exception):
    """Base for storage failures."""


class StorageUnavailable(StorageError):
    """S3 could not be reached or answered with a server error: worth retrying."""


class ObjectMissing(StorageError):
    """The object is not there."""


class ObjectChanged(StorageError):
    """The object is no longer the one pinned by its ETag: If-Match failed (412)."""


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    etag: str
    modified: datetime | None = None


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str


@dataclass(frozen=True)
class MultipartUpload:
    key: str
    upload_id: str
    initiated: datetime


# Every client (storages' and ours): path-style SigV4, fail fast on connect, a few retries.
CLIENT_CONFIG = Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=2,
                       read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})
MISSING_CODES = ("404", "NoSuchKey", "NotFound", "NoSuchUpload")
DELETE_BATCH = 1000  # S3's limit per DeleteObjects request
DOWNLOAD_CHUNK = 1024 * 1024


def _translate(error: BaseException) -> StorageError:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in MISSING_CODES:
            return ObjectMissing(code)
        if code == "PreconditionFailed" or status == 412:
            return ObjectChanged(code)
        if status >= 500:
            return StorageUnavailable(f"S3 answered {status} {code}")
        return StorageError(f"S3 refused: {code}")
    if isinstance(error, FileNotFoundError):  # storages' open() of a missing object
        return ObjectMissing(str(error))
    return StorageUnavailable(str(error))


@contextmanager
def _translated(*, missing_ok: bool = False) -> Iterator[None]:
    """boto3's and storages' errors as ours; with missing_ok, a missing object is no error."""
    try:
        yield
    except (BotoCoreError, ClientError, S3UploadFailedError, FileNotFoundError) as error:
        # A managed transfer wraps the real error (a 5xx, a refused connection) in S3UploadFailedError.
        cause = error.__cause__ if isinstance(error, S3UploadFailedError) and error.__cause__ else error
        translated = _translate(cause)
        if not (missing_ok and isinstance(translated, ObjectMissing)):
            raise translated from error


def storage(bucket: str) -> S3Storage:
    """The S3Storage for `bucket`: the public bucket's from STORAGES["public"], any other (the
    private bucket, or a test's own) from STORAGES["default"]."""
    alias = "public" if bucket == settings.S3_PUBLIC_BUCKET else "default"
    options = {**settings.STORAGES[alias]["OPTIONS"], "bucket_name": bucket}  # type: ignore[dict-item]
    return _storage(json.dumps(options, sort_keys=True))


@cache
def _storage(options: str) -> S3Storage:
    # One per bucket and configuration; its boto3 connection is per thread (storages' own).
    return S3Storage(**json.loads(options), client_config=CLIENT_CONFIG)


def client() -> Any:
    """The boto3 client behind the private bucket's storage, for what storages cannot do."""
    return storage(settings.S3_PRIVATE_BUCKET).connection.meta.client


# --- files, through django-storages -------------------------------------------------------
class _Upload(File):
    """A file and the content type storages stores it under (it reads `content_type`)."""

    def __init__(self, file: IO[bytes], *, content_type: str) -> None:
        super().__init__(file)
        self.content_type = content_type


def put(*, bucket: str, key: str, body: bytes, content_type: str) -> None:
    with _translated():
        storage(bucket).save(key, _Upload(io.BytesIO(body), content_type=content_type))


def upload_file(*, bucket: str, key: str, path: Path, content_type: str) -> None:
    """A local file to S3 (storages' save: boto3's managed transfer, multipart for big files)."""
    with path.open("rb") as fp, _translated():
        storage(bucket).save(key, _Upload(fp, content_type=content_type))


def read(*, bucket: str, key: str, max_bytes: int = 1024 * 1024) -> bytes:
    """A small object's bytes (playlists, extracted text): at most max_bytes of it."""
    with _translated(), storage(bucket).open(key, "rb") as fp:
        return bytes(fp.read(max_bytes))


def exists(*, bucket: str, key: str) -> bool:
    with _translated():
        return bool(storage(bucket).exists(key))


def delete(*, bucket: str, key: str) -> None:
    """Delete one object; a missing one counts as deleted."""
    with _translated(missing_ok=True):
        storage(bucket).delete(key)


def presigned_get(*, bucket: str, key: str, expires_s: int, filename: str, inline: bool) -> str:
    """A signed GET URL valid for expires_s, never longer than PRIVATE_URL_SECONDS."""
    disposition = "inline" if inline else "attachment"
    # RFC 6266: an ASCII fallback plus the UTF-8 name, so no header injection and no mojibake.
    ascii_name = "".join(ch for ch in filename.encode("ascii", "ignore").decode()
                         if ch.isprintable() and ch not in '"\\') or "download"
    header = f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    with _translated():
        return str(storage(bucket).url(key, parameters={"ResponseContentDisposition": header},
                                       expire=min(expires_s, settings.PRIVATE_URL_SECONDS)))


def public_url(key: str) -> str:
    """Where the CDN serves a public-bucket object: storages' URL on the CDN's custom domain."""
    return str(storage(settings.S3_PUBLIC_BUCKET).url(key))


# --- what storages cannot do: boto3 --------------------------------------------------------
def presigned_post(*, bucket: str, key: str, content_type: str, max_bytes: int, expires_s: int,
                   redirect: str = "") -> PresignedPost:
    """A browser POST form whose policy pins the key, the content type and the size range. With
    `redirect`, S3 answers 303 to that URL (plus bucket, key and etag) so a plain form can finish."""
    fields: dict[str, str] = {"Content-Type": content_type}
    conditions: list[Any] = [{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]]
    if redirect:
        fields["success_action_redirect"] = redirect
        conditions.append({"success_action_redirect": redirect})
    with _translated():
        post = client().generate_presigned_post(
            Bucket=bucket, Key=key, ExpiresIn=expires_s, Fields=fields, Conditions=conditions,
        )
    return PresignedPost(url=post["url"], fields=dict(post["fields"]))


def head(*, bucket: str, key: str) -> ObjectInfo | None:
    """Size, type and ETag (storages exposes none of these but the size), or None when missing."""
    meta = None
    with _translated(missing_ok=True):
        meta = client().head_object(Bucket=bucket, Key=key)
    if meta is None:
        return None
    return ObjectInfo(key=key, size=int(meta["ContentLength"]), content_type=meta.get("ContentType", ""),
                      etag=meta.get("ETag", "").strip('"'))


def read_prefix(*, bucket: str, key: str, size: int = 8192, if_match: str = "") -> bytes:
    """The first bytes of an object (for type sniffing) by a ranged GET: storages' open() would
    fetch the whole upload first. With if_match, only from the object with that ETag."""
    with _translated():
        body = client().get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{size - 1}", **_pinned(if_match))["Body"]
        return bytes(body.read())


def download_file(*, bucket: str, key: str, path: Path, if_match: str = "") -> None:
    """An object to a local file by boto3's managed transfer (ranged, parallel): storages' open()
    would spool a multi-gigabyte original to a temporary file before we could copy it. With
    if_match, one streamed GET pinned to that ETag (the managed transfer pins only its own HEAD's,
    and not at all for small objects): ObjectChanged if the key now holds other bytes."""
    with _translated():
        if not if_match:
            client().download_file(bucket, key, str(path))
            return
        body = client().get_object(Bucket=bucket, Key=key, **_pinned(if_match))["Body"]
        with path.open("wb") as out:
            shutil.copyfileobj(body, out, DOWNLOAD_CHUNK)


def _pinned(etag: str) -> dict[str, str]:
    """If-Match for a GET: S3 answers 412 (ObjectChanged) unless the object still has this ETag."""
    return {"IfMatch": f'"{etag}"'} if etag else {}


def copy(*, source_bucket: str, source_key: str, bucket: str, key: str, if_match: str = "") -> str:
    """A server-side copy: the bytes never leave S3. With if_match, only of the object with that
    ETag. Returns the copy's ETag."""
    pinned = {"CopySourceIfMatch": f'"{if_match}"'} if if_match else {}
    with _translated():
        result = client().copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key},
                                      **pinned)
        return str(result.get("CopyObjectResult", {}).get("ETag", "")).strip('"')


def delete_prefix(*, bucket: str, prefix: str) -> int:
    keys = [info.key for info in list_objects(bucket=bucket, prefix=prefix)]
    delete_many(bucket=bucket, keys=keys)
    return len(keys)


def delete_many(*, bucket: str, keys: list[str], done: Callable[[int], None] | None = None) -> None:
    """Delete with DeleteObjects, up to 1000 keys a request; `done(n)` after each batch. Raises
    StorageError if any key could not be deleted (a missing key counts as deleted), so a caller
    that must not drop a takedown can retry."""
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start:start + DELETE_BATCH]
        with _translated():
            answer = client().delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch],
                                                                     "Quiet": True})
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            raise StorageError(f"{len(errors)} of {len(batch)} deletes refused, e.g. {first.get('Key')}: "
                               f"{first.get('Code')}")
        if done is not None:
            done(len(batch))


def list_prefixes(*, bucket: str, prefix: str) -> Iterator[str]:
    """The "folders" right under `prefix` (ListObjectsV2 with a "/" delimiter), e.g. "assets/12/"."""
    with _translated():
        for page in client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            for item in page.get("CommonPrefixes", []):
                yield str(item["Prefix"])


def list_objects(*, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
    with _translated():
        for page in client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield ObjectInfo(key=item["Key"], size=int(item["Size"]), content_type="",
                                 etag=item.get("ETag", "").strip('"'), modified=item.get("LastModified"))


# --- multipart, for large files: the browser PUTs each part to a presigned URL -------------
def multipart_create(*, bucket: str, key: str, content_type: str) -> str:
    with _translated():
        return str(client().create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"])


def multipart_part_url(*, bucket: str, key: str, upload_id: str, number: int, expires_s: int) -> str:
    params = {"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": number}
    with _translated():
        return str(client().generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_s))


def multipart_parts(*, bucket: str, key: str, upload_id: str) -> list[Part]:
    """The parts S3 already holds: what a resumed upload can skip."""
    with _translated():
        pages = client().get_paginator("list_parts").paginate(Bucket=bucket, Key=key, UploadId=upload_id)
        return [Part(number=int(p["PartNumber"]), size=int(p["Size"]), etag=p["ETag"].strip('"'))
                for page in pages for p in page.get("Parts", [])]


def multipart_complete(*, bucket: str, key: str, upload_id: str, parts: list[Part]) -> None:
    ordered = sorted(parts, key=lambda p: p.number)
    payload = {"Parts": [{"PartNumber": p.number, "ETag": f'"{p.etag}"'} for p in ordered]}
    with _translated():
        client().complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload=payload)


def multipart_list(*, bucket: str, prefix: str) -> Iterator[MultipartUpload]:
    """Multipart uploads begun and neither completed nor aborted: invisible parts that still take space."""
    with _translated():
        for page in client().get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Uploads", []):
                yield MultipartUpload(key=item["Key"], upload_id=item["UploadId"], initiated=item["Initiated"])


def multipart_abort(*, bucket: str, key: str, upload_id: str) -> None:
    with _translated(missing_ok=True):
        client().abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


# --- buckets, for the set-up command -----------------------------------------------------
def bucket_ensure(*, bucket: str, public_read: bool, cors_origins: list[str]) -> None:
    """Create the bucket if missing, and (re)apply its read policy and CORS rule: idempotent."""
    s3 = client()
    with _translated():
        try:
            s3.head_bucket(Bucket=bucket)
        except ClientError:
            s3.create_bucket(Bucket=bucket)
        if public_read:
            s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
            }]}))
        if cors_origins:
            # Browsers only read a public bucket (through the CDN); they write to the private one.
            methods = ["GET", "HEAD"] if public_read else ["GET", "HEAD", "PUT", "POST"]
            s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
                "AllowedOrigins": cors_origins, "AllowedMethods": methods,
                "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600,
            }]})


@cache
def _ping_client(timeout: float) -> Any:
    """A client of its own for readiness probes: short timeouts and no retries, so a dead S3
    answers within `timeout` instead of after the normal client's retries."""
    return boto3.client(
        "s3",
        endpoint_url=settings.S3_ENDPOINT_URL,
        aws_access_key_id=settings.S3_ACCESS_KEY_ID,
        aws_secret_access_key=settings.S3_SECRET_ACCESS_KEY,
        region_name=settings.S3_REGION,
        config=CLIENT_CONFIG.merge(Config(connect_timeout=timeout, read_timeout=timeout,
                                          retries={"total_max_attempts": 1})),
    )


def ping(*, timeout: float) -> None:
    """Raise StorageError unless the private bucket answers (HEAD) within about `timeout` seconds."""
    with _translated():
        _ping_client(timeout).head_bucket(Bucket=settings.S3_PRIVATE_BUCKET)
