"""FerretDB v1 from the Go module proxy: the MongoDB wire protocol over SQLite files.

Built from the upstream module's own `cmd/ferretdb` (the real CLI, dependencies pinned
by FerretDB's go.sum) plus the fixes in deploy/go/ferretdb/*.patch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import config
from ..service import Launch, Service, StackError, log, run

MODULE = "github.com/FerretDB/FerretDB"
PATCHES = config.ROOT / "deploy" / "go" / "ferretdb"

# Hermetic go: never download a toolchain, never stamp our repository's git state into
# the binary, no C compiler needed (the SQLite driver is pure Go). Caches stay the
# defaults, so a rebuild is mostly a link.
GO_ENV = {"GOTOOLCHAIN": "local", "GOFLAGS": "-buildvcs=false", "CGO_ENABLED": "0"}


def go_binary() -> str:
    """The go command; shared with s3.py (versitygw is built the same way)."""
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


class FerretDB(Service):
    name = "ferretdb"
    port = config.PORTS.ferretdb
    url = config.URLS["MONGODB_URL"]
    start_timeout = 30.0
    pinned = config.VERSIONS["FERRETDB_VERSION"]

    @property
    def patches(self) -> list[Path]:
        return sorted(PATCHES.glob("*.patch"))

    @property
    def binary(self) -> Path:
        # Version and patches are in the name: bumping the pin or editing a patch makes
        # installed() False, and only a finished build is ever renamed to this name.
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in self.patches)).hexdigest()[:8]
        return config.BIN / f"ferretdb-{self.pinned}-{digest}"

    def installed(self) -> bool:
        return self.binary.is_file() and os.access(self.binary, os.X_OK)

    def install(self) -> None:
        go, binary = go_binary(), self.binary
        started = time.monotonic()
        log(f"ferretdb: downloading {MODULE}@{self.pinned} source")
        info = json.loads(run([go, "mod", "download", "-json", f"{MODULE}@{self.pinned}"], env=GO_ENV))
        config.BIN.mkdir(parents=True, exist_ok=True)
        partial = config.BIN / f".{binary.name}.partial"
        with tempfile.TemporaryDirectory(prefix="ferretdb-src-") as tmp:
            source = self._writable_source(Path(info["Dir"]), Path(tmp) / "src")
            log("ferretdb: compiling (cold: about a minute and downloads; warm: seconds)")
            try:
                go_run_verbose([go, "build", "-v", "-trimpath", "-o", str(partial), "./cmd/ferretdb"],
                               cwd=source, label="ferretdb")
                os.replace(partial, binary)  # atomic: a half-built binary never has the real name
            finally:
                partial.unlink(missing_ok=True)
        for old in config.BIN.glob("ferretdb-*"):
            if old != binary:
                old.unlink(missing_ok=True)
        log(f"ferretdb: built {binary.name} in {time.monotonic() - started:.0f}s")

    def _writable_source(self, module_dir: Path, source: Path) -> Path:
        # The module cache is read-only and go refuses overlays into it: build a copy.
        shutil.copytree(module_dir, source)
        for root, _dirs, files in os.walk(source):
            os.chmod(root, 0o700)
            for name in files:
                os.chmod(os.path.join(root, name), 0o600)
        # build/version embeds *.txt and panics at start when version.txt is missing,
        # which it is outside FerretDB's own release tooling.
        (source / "build" / "version" / "version.txt").write_text(self.pinned + "\n")
        if self.patches and shutil.which("git") is None:
            raise StackError("ferretdb: `git` applies deploy/go/ferretdb/*.patch and was not found")
        for patch in self.patches:
            log(f"ferretdb: applying {patch.name}")
            # The ceiling keeps git from treating an enclosing checkout as the repository.
            run(["git", "apply", "--verbose", str(patch)], cwd=source,
                env={"GIT_CEILING_DIRECTORIES": str(source.parent)})
        return source

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)  # the SQLite handler refuses a missing directory

    def command(self) -> Launch:
        return Launch([
            str(self.binary),
            "--handler=sqlite",
            f"--sqlite-url=file:{self.data_dir}/",  # a directory, one <database>.sqlite each; must end in /
            f"--listen-addr={config.HOST}:{self.port}",
            f"--state-dir={self.data_dir}",  # state.json (instance UUID) beside the data, not in the cwd
            "--telemetry=disable",
            "--debug-addr=-",  # no metrics/pprof listener on 127.0.0.1:8088
            # At info every connection is logged, and at warn every failed command as a full
            # wire dump (pymongo's endSessions, unsupported by FerretDB 1.x, at each client close).
            "--log-level=error",
        ], cwd=self.data_dir)

    def ready(self) -> bool:
        import pymongo  # the project's venv has it; imported here so `bin/stack` runs without it

        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            self.url, serverSelectionTimeoutMS=500, connectTimeoutMS=500,
        )
        with client:
            return bool(client.admin.command("ping").get("ok"))

    def version(self) -> str:
        return self.pinned
