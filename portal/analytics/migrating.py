"""What the SQL ↔ NoSQL migration commands share: a durable checkpoint, a progress bar, and the
final verification (counts and a checksum of both sides, with the mismatches listed).

A command walks its source in key order, in batches; after each batch it stores the last key it
finished in PostgreSQL (MigrationCheckpoint), so a run killed at any point resumes after the last
finished batch, and redoing a batch is harmless because every write is an idempotent upsert.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction
from tqdm import tqdm

from portal.analytics.models import MigrationCheckpoint


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


@dataclass
class Checkpoint:
    name: str
    dry_run: bool = False
    row: MigrationCheckpoint = field(init=False)

    def __post_init__(self) -> None:
        self.row, _ = MigrationCheckpoint.objects.get_or_create(name=self.name)

    @property
    def last_key(self) -> int:
        return self.row.last_key

    def restart(self) -> None:
        if not self.dry_run:
            MigrationCheckpoint.objects.filter(name=self.name).update(last_key=0, processed=0, finished=False)
        self.row.last_key, self.row.processed, self.row.finished = 0, 0, False

    def advance(self, *, last_key: int, count: int) -> None:
        """Record a finished batch. Call inside the batch's own transaction when its writes are in
        PostgreSQL too, so the two commit together."""
        self.row.last_key, self.row.processed = last_key, self.row.processed + count
        if not self.dry_run:
            MigrationCheckpoint.objects.filter(name=self.name).update(last_key=last_key,
                                                                      processed=self.row.processed)

    def finish(self) -> None:
        if not self.dry_run:
            MigrationCheckpoint.objects.filter(name=self.name).update(finished=True)


def progress(total: int, *, description: str, out: Writer) -> tqdm[Any]:
    return tqdm(total=total, desc=description, unit="row", file=out, dynamic_ncols=True, mininterval=0.5)


def pause(seconds: float) -> None:
    """--throttle: go easy on a production database between batches."""
    if seconds > 0:
        time.sleep(seconds)


@dataclass(frozen=True)
class Side:
    """One side of a verification: key → value as text."""

    name: str
    rows: dict[str, str]

    @property
    def checksum(self) -> str:
        digest = hashlib.sha256()
        for key in sorted(self.rows):
            digest.update(f"{key}\t{self.rows[key]}\n".encode())
        return digest.hexdigest()[:16]


def verify(source: Side, target: Side, *, out: Writer, limit: int = 20) -> list[str]:
    """Print counts and checksums of both sides and any mismatch; returns the mismatch lines."""
    mismatches: list[str] = []
    for key in sorted(source.rows.keys() | target.rows.keys(), key=_natural):
        here, there = source.rows.get(key), target.rows.get(key)
        if here != there:
            mismatches.append(f"{key}: {source.name} {here!r}, {target.name} {there!r}")
    out.write(f"verify: {source.name} {len(source.rows)} rows, checksum {source.checksum}; "
              f"{target.name} {len(target.rows)} rows, checksum {target.checksum}\n")
    if mismatches:
        out.write(f"verify: {len(mismatches)} MISMATCHES\n")
        for line in mismatches[:limit]:
            out.write(f"  {line}\n")
        if len(mismatches) > limit:
            out.write(f"  … and {len(mismatches) - limit} more\n")
    else:
        out.write("verify: OK, both sides match\n")
    return mismatches


def _natural(key: str) -> tuple[int, str]:
    head = key.split(":", 1)[0]
    return (int(head), key) if head.isdigit() else (0, key)


def chunked(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


atomic = transaction.atomic
