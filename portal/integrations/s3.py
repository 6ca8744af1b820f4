"""Object storage: the only module that imports boto3.

Returns our own small dataclasses and raises our own errors, so callers never see
boto3 types. Browser uploads are signed here (presigned POST and multipart part
URLs); the bytes go from the browser to S3 and never through Django.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from django.conf import settings


class StorageError(Exception):
    """Base for storage failures."""


class StorageUnavailable(StorageError):
    """S3 could not be reached or answered with a server error: worth retrying."""


class ObjectMissing(StorageError):
    """The object is not there."""


class ObjectChanged(StorageError):
    """The object is no longer the one pinned by its ETag: If-Match failed (412)."""


DOWNLOAD_CHUNK = 1024 * 1024


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


@cache
def client() -> Any:
    """One client per process (boto3 clients are thread-safe), path-style, SigV4."""
    return boto3.client(
        "s3",
        endpoint_url=settings.S3_ENDPOINT_URL,
        aws_access_key_id=settings.S3_ACCESS_KEY_ID,
        aws_secret_access_key=settings.S3_SECRET_ACCESS_KEY,
        region_name=settings.S3_REGION,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=2,
                      read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}),
    )


def _translate(error: Exception) -> StorageError:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in ("404", "NoSuchKey", "NotFound", "NoSuchUpload"):
            return ObjectMissing(code)
        if code == "PreconditionFailed" or status == 412:
            return ObjectChanged(code)
        if status >= 500:
            return StorageUnavailable(f"S3 answered {status} {code}")
        return StorageError(f"S3 refused: {code}")
    return StorageUnavailable(str(error))


def presigned_post(*, bucket: str, key: str, content_type: str, max_bytes: int, expires_s: int) -> PresignedPost:
    """A browser POST form whose policy pins the key, the content type and the size range."""
    try:
        post = client().generate_presigned_post(
            Bucket=bucket, Key=key, ExpiresIn=expires_s,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        )
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error
    return PresignedPost(url=post["url"], fields=dict(post["fields"]))


def presigned_get(*, bucket: str, key: str, expires_s: int, filename: str, inline: bool) -> str:
    disposition = "inline" if inline else "attachment"
    # RFC 6266: an ASCII fallback plus the UTF-8 name, so no header injection and no mojibake.
    ascii_name = "".join(ch for ch in filename.encode("ascii", "ignore").decode()
                         if ch.isprintable() and ch not in '"\\') or "download"
    params = {
        "Bucket": bucket, "Key": key,
        "ResponseContentDisposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
    }
    return str(client().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_s))


def head(*, bucket: str, key: str) -> ObjectInfo | None:
    try:
        meta = client().head_object(Bucket=bucket, Key=key)
    except (BotoCoreError, ClientError) as error:
        translated = _translate(error)
        if isinstance(translated, ObjectMissing):
            return None
        raise translated from error
    return ObjectInfo(key=key, size=int(meta["ContentLength"]), content_type=meta.get("ContentType", ""),
                      etag=meta.get("ETag", "").strip('"'))


def read_prefix(*, bucket: str, key: str, size: int = 8192, if_match: str = "") -> bytes:
    """The first bytes of an object (for type sniffing), without downloading the rest. With
    if_match, only from the object with that ETag."""
    try:
        body = client().get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{size - 1}", **_pinned(if_match))["Body"]
        return bytes(body.read())
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def read(*, bucket: str, key: str, max_bytes: int = 1024 * 1024) -> bytes:
    """A small object's bytes (playlists, captions); refuses to read more than max_bytes."""
    try:
        body = client().get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}")["Body"]
        return bytes(body.read())
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def put(*, bucket: str, key: str, body: bytes, content_type: str) -> None:
    try:
        client().put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def download_file(*, bucket: str, key: str, path: Path, if_match: str = "") -> None:
    """Stream an object to a local file (boto3's managed transfer: ranged, parallel for big ones).
    With if_match, one streamed GET pinned to that ETag (the managed transfer pins only its own
    HEAD's, and not at all for small objects): ObjectChanged if the key now holds other bytes."""
    try:
        if not if_match:
            client().download_file(bucket, key, str(path))
            return
        body = client().get_object(Bucket=bucket, Key=key, **_pinned(if_match))["Body"]
        with path.open("wb") as out:
            shutil.copyfileobj(body, out, DOWNLOAD_CHUNK)
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def _pinned(etag: str) -> dict[str, str]:
    """If-Match for a GET: S3 answers 412 (ObjectChanged) unless the object still has this ETag."""
    return {"IfMatch": f'"{etag}"'} if etag else {}


def upload_file(*, bucket: str, key: str, path: Path, content_type: str, cache_control: str = "") -> None:
    extra = {"ContentType": content_type, **({"CacheControl": cache_control} if cache_control else {})}
    try:
        client().upload_file(str(path), bucket, key, ExtraArgs=extra)
    except (BotoCoreError, ClientError, S3UploadFailedError) as error:
        cause = error.__cause__ if isinstance(error, S3UploadFailedError) and error.__cause__ else error
        raise _translate(cause) from error


def copy(*, source_bucket: str, source_key: str, bucket: str, key: str, if_match: str = "") -> str:
    """A server-side copy: the bytes never leave S3. With if_match, only of the object with that
    ETag. Returns the copy's ETag."""
    pinned = {"CopySourceIfMatch": f'"{if_match}"'} if if_match else {}
    try:
        result = client().copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key},
                                      **pinned)
        return str(result.get("CopyObjectResult", {}).get("ETag", "")).strip('"')
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def delete(*, bucket: str, key: str) -> None:
    try:
        client().delete_object(Bucket=bucket, Key=key)
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def delete_prefix(*, bucket: str, prefix: str) -> int:
    keys = [info.key for info in list_objects(bucket=bucket, prefix=prefix)]
    delete_many(bucket=bucket, keys=keys)
    return len(keys)


DELETE_BATCH = 1000  # S3's limit per DeleteObjects request


def delete_many(*, bucket: str, keys: list[str], done: Callable[[int], None] | None = None) -> None:
    """Delete with DeleteObjects, up to 1000 keys a request; `done(n)` after each batch. Raises
    StorageError if any key could not be deleted (a missing key counts as deleted), so a caller
    that must not drop a takedown can retry."""
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start:start + DELETE_BATCH]
        try:
            answer = client().delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch],
                                                                     "Quiet": True})
        except (BotoCoreError, ClientError) as error:
            raise _translate(error) from error
        errors = answer.get("Errors") or []
        if errors:
            first = errors[0]
            raise StorageError(f"{len(errors)} of {len(batch)} deletes refused, e.g. {first.get('Key')}: "
                               f"{first.get('Code')}")
        if done is not None:
            done(len(batch))


def list_prefixes(*, bucket: str, prefix: str) -> Iterator[str]:
    """The "folders" right under `prefix` (ListObjectsV2 with a "/" delimiter), e.g. "assets/12/"."""
    try:
        for page in client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
            for item in page.get("CommonPrefixes", []):
                yield str(item["Prefix"])
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def list_objects(*, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
    try:
        for page in client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield ObjectInfo(key=item["Key"], size=int(item["Size"]), content_type="",
                                 etag=item.get("ETag", "").strip('"'), modified=item.get("LastModified"))
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def object_modified(*, bucket: str, key: str) -> datetime | None:
    try:
        return client().head_object(Bucket=bucket, Key=key)["LastModified"]
    except (BotoCoreError, ClientError):
        return None


# --- multipart, for large files: the browser PUTs each part to a presigned URL -------------
def multipart_create(*, bucket: str, key: str, content_type: str) -> str:
    try:
        return str(client().create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)["UploadId"])
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def multipart_part_url(*, bucket: str, key: str, upload_id: str, number: int, expires_s: int) -> str:
    params = {"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": number}
    return str(client().generate_presigned_url("upload_part", Params=params, ExpiresIn=expires_s))


def multipart_parts(*, bucket: str, key: str, upload_id: str) -> list[Part]:
    """The parts S3 already holds: what a resumed upload can skip."""
    try:
        pages = client().get_paginator("list_parts").paginate(Bucket=bucket, Key=key, UploadId=upload_id)
        return [Part(number=int(p["PartNumber"]), size=int(p["Size"]), etag=p["ETag"].strip('"'))
                for page in pages for p in page.get("Parts", [])]
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def multipart_complete(*, bucket: str, key: str, upload_id: str, parts: list[Part]) -> None:
    ordered = sorted(parts, key=lambda p: p.number)
    payload = {"Parts": [{"PartNumber": p.number, "ETag": f'"{p.etag}"'} for p in ordered]}
    try:
        client().complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload=payload)
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def multipart_list(*, bucket: str, prefix: str) -> Iterator[MultipartUpload]:
    """Multipart uploads begun and neither completed nor aborted: invisible parts that still take space."""
    try:
        for page in client().get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Uploads", []):
                yield MultipartUpload(key=item["Key"], upload_id=item["UploadId"], initiated=item["Initiated"])
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def multipart_abort(*, bucket: str, key: str, upload_id: str) -> None:
    try:
        client().abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except (BotoCoreError, ClientError) as error:
        translated = _translate(error)
        if not isinstance(translated, ObjectMissing):
            raise translated from error


# --- buckets, for the set-up command -----------------------------------------------------
def bucket_ensure(*, bucket: str, public_read: bool, cors_origins: list[str]) -> None:
    """Create the bucket if missing, and (re)apply its read policy and CORS rule: idempotent."""
    s3 = client()
    try:
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
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


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
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, connect_timeout=timeout,
                      read_timeout=timeout, retries={"total_max_attempts": 1}),
    )


def ping(*, timeout: float) -> None:
    """Raise StorageError unless the private bucket answers (HEAD) within about `timeout` seconds."""
    try:
        _ping_client(timeout).head_bucket(Bucket=settings.S3_PRIVATE_BUCKET)
    except (BotoCoreError, ClientError) as error:
        raise _translate(error) from error


def is_unavailable(error: Exception) -> bool:
    return isinstance(error, EndpointConnectionError | StorageUnavailable)
