"""FerretDB v1 from the Go module proxy: the MongoDB wire protocol over SQLite files.

Built from the upstream module's own `cmd/ferretdb` (the real CLI, dependencies pinned
by FerretDB's go.sum) plus the fixes in deploy/go/ferretdb/*.patch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import config
from ..gobuild import GO_ENV, go_binary, go_run_verbose, writable_copy
from ..service import Launch, Service, StackError, log, run

MODULE = "github.com/FerretDB/FerretDB"
PATCHES = config.ROOT / "deploy" / "go" / "ferretdb"


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
        writable_copy(module_dir, source)
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
