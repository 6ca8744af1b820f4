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

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from portal.analytics.models import MigrationCheckpoint
from portal.integrations import mongo


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


@dataclass
class Checkpoint:
    name: str
    dry_run: bool = False
    row: MigrationCheckpoint = field(init=False)

    def __post_init__(self) -> None:
        if self.dry_run:  # read what is there, write nothing, not even the checkpoint's row
            self.row = MigrationCheckpoint.objects.filter(name=self.name).first() or MigrationCheckpoint(name=self.name)
        else:
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


class MigrationCommand(BaseCommand):
    """The shape of every migration command: options, checkpoint, the walk, then verification.
    A subclass names itself (`name`, the checkpoint's key), says what it moves (`what`) and
    implements `migrate` (one walk from the checkpoint) and `sides` (both sides, for `verify`)."""

    name = ""
    what = ""
    default_batch_size = 100

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=self.default_batch_size)
        parser.add_argument("--dry-run", action="store_true", help="read and report, write nothing")
        parser.add_argument("--restart", action="store_true", help="ignore the checkpoint and start over")
        parser.add_argument("--throttle", type=float, default=0.0, help="seconds to pause between batches")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        checkpoint = Checkpoint(self.name, dry_run=dry_run)
        if options["restart"] or checkpoint.row.finished:
            checkpoint.restart()
        if checkpoint.last_key:
            self.stdout.write(f"resuming after asset {checkpoint.last_key} ({checkpoint.row.processed} done)")
        try:
            self.migrate(checkpoint, size=max(1, options["batch_size"]), dry_run=dry_run, throttle=options["throttle"])
            mismatches = verify(*self.sides(), out=self.stdout)
        except mongo.MongoUnavailable as error:
            raise CommandError(f"{error}; rerun to resume after asset {checkpoint.last_key}") from error
        if dry_run:
            self.stdout.write("dry run: nothing was written")
        elif mismatches:
            raise CommandError(f"{len(mismatches)} mismatches after {self.what}; see above. Once the cause is "
                               "fixed, rerun with --restart to walk every row again")
        else:
            checkpoint.finish()

    def migrate(self, checkpoint: Checkpoint, *, size: int, dry_run: bool, throttle: float) -> None:
        raise NotImplementedError

    def sides(self) -> tuple[Side, Side]:
        raise NotImplementedError
