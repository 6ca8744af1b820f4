"""Working directories of processing runs: one per run under PROCESSING_WORK_DIR (a host's own disk,
never shared), held by an exclusive flock for as long as the run lives.

A worker killed mid-run (SIGKILL, out of memory, a lost machine) leaves its directory behind: the
original and half the outputs, gigabytes for a long video. The kernel drops the lock with the
process, so whichever run or worker starts next on that host removes every directory that no live
process holds. The lock, not a name, tells live from dead: several worker processes may share one
temp dir (the Procfile's three on a host), and the job a dead worker was running may be finished by
another host, whose run never sees this directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

PREFIX = "portal-job-"
LOCK = ".lock"
# A directory without its lock file is being made this instant, or was made by code that does not
# lock: removed only once older than any run can last (processing.run's hard limit is 3660 s).
UNLOCKED_GRACE_SECONDS = 2 * 3600


def work_dir() -> Path:
    return Path(settings.PROCESSING_WORK_DIR or tempfile.gettempdir())


@contextlib.contextmanager
def job_work_dir(name: str) -> Iterator[Path]:
    """A fresh directory for one run, locked while the block runs and removed (still locked) after."""
    sweep()
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{name}-", dir=work_dir()))
    fd = os.open(path / LOCK, os.O_CREAT | os.O_RDWR, 0o600)  # not inherited by the tools (close-on-exec)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)  # before unlocking: a sweep never races this removal
        os.close(fd)


def sweep() -> list[Path]:
    """Remove the directories of runs that died; returns them."""
    removed = []
    for entry in work_dir().glob(f"{PREFIX}*"):
        if _abandoned(entry):
            log.warning("removing %s, left by a processing run that did not finish", entry)
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _abandoned(entry: Path) -> bool:
    try:
        fd = os.open(entry / LOCK, os.O_RDWR)
    except FileNotFoundError:
        try:
            return time.time() - entry.stat().st_mtime > UNLOCKED_GRACE_SECONDS
        except FileNotFoundError:  # removed meanwhile
            return False
    except OSError:  # not a directory, not ours to read
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # a live run holds it
    finally:
        os.close(fd)
    return True
