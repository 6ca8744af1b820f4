"""Building Go servers (FerretDB, versitygw) from the Go module proxy, hermetically."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .service import StackError, run_with_progress

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
    """Run `go build -v`/`go install -v` (-v prints one package per line as it is compiled)."""
    run_with_progress(argv, cwd=cwd, label=label, env={**GO_ENV, **(env or {})}, unit="packages compiled")


def writable_copy(module_dir: Path, dest: Path) -> Path:
    """A copy of a module's source we may build in: the module cache is read-only, go refuses
    overlays into it, and make writes its objects beside the sources."""
    shutil.copytree(module_dir, dest)
    for root, _dirs, files in os.walk(dest):
        os.chmod(root, 0o700)
        for name in files:
            os.chmod(os.path.join(root, name), 0o600)
    return dest
