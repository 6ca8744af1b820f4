"""Building Go servers (FerretDB, versitygw) from the Go module proxy, hermetically."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from .service import StackError, log

# Hermetic go: never download a toolchain, never stamp our repository's git state into
# the binary, no C compiler needed (the SQLite driver is pure Go). Caches stay the
# defaults, so a rebuild is mostly a link.
GO_ENV = {"GOTOOLCHAIN": "local", "GOFLAGS": "-buildvcs=false", "CGO_ENABLED": "0"}


def go_binary() -> str:
    """The go command, wherever the machine keeps it."""
    found = shutil.which("go") or "/usr/local/go/bin/go"
    if not os.access(found, os.X_OK):
        raise StackError("the `go` command (1.25 or newer) builds FerretDB and versitygw, and was not found")
    return found


def go_run_verbose(argv: list[str], *, cwd: Path, label: str, env: dict[str, str] | None = None) -> None:
    """Run `go build -v`/`go install -v`, logging every 10 s so a cold compile visibly moves."""
    started = last = time.monotonic()
    count, tail = 0, [""]
    with subprocess.Popen(argv, cwd=cwd, env={**os.environ, **GO_ENV, **(env or {})}, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:  # -v prints one package per line as it is compiled
            count += 1
            tail = [*tail[-40:], line.rstrip()]
            if time.monotonic() - last > 10:
                last = time.monotonic()
                log(f"{label}: {count} packages compiled ({last - started:.0f}s), now {line.strip()}")
    if process.returncode != 0:
        raise StackError(f"{label}: `{' '.join(argv)}` failed ({process.returncode})\n" + "\n".join(tail))
