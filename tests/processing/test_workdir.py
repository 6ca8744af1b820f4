"""Processing runs' working directories: a live run's is never swept, a dead run's always is, by
whichever process looks next (tests/workers/test_two_hosts.py does it across real worker hosts)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from portal.processing import workdir


@pytest.fixture
def work_dir(settings: Any, tmp_path: Path) -> Path:
    settings.PROCESSING_WORK_DIR = str(tmp_path)
    return tmp_path


def run_in_child() -> tuple[int, Path]:
    """A process that enters a run's working directory and stays there, as a worker mid-job does."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest, no database, just the run's folder
        os.close(read)
        with workdir.job_work_dir("task-in-child") as path:
            os.write(write, str(path).encode())
            time.sleep(300)
        os._exit(0)
    os.close(write)
    path = Path(os.read(read, 4096).decode())
    os.close(read)
    return pid, path


def test_a_live_runs_folder_is_kept_and_a_killed_runs_folder_is_removed_by_the_next_sweep(work_dir):
    pid, path = run_in_child()
    try:
        (path / "source").write_bytes(b"x" * 1000)
        assert workdir.sweep() == []
        assert path.exists(), "another process's live run keeps its folder"
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert path.exists(), "SIGKILL leaves the folder behind"
    assert workdir.sweep() == [path]
    assert not path.exists()


def test_a_run_removes_its_own_folder_and_a_fresh_unlocked_folder_is_left_for_its_maker(work_dir):
    with workdir.job_work_dir("task") as path:
        assert path.parent == work_dir
        assert path.name.startswith(f"{workdir.PREFIX}task-")
    assert not path.exists()
    being_made = work_dir / f"{workdir.PREFIX}other-abc"
    being_made.mkdir()  # made, not yet locked (or by code that does not lock)
    assert workdir.sweep() == []
    old = time.time() - workdir.UNLOCKED_GRACE_SECONDS - 10
    os.utime(being_made, (old, old))
    assert workdir.sweep() == [being_made]
