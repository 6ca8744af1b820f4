"""pgvector for Debian's PostgreSQL: built from its C source with PGXS, installed into that server.

Debian 12 packages no pgvector for PostgreSQL 15. The source comes from the Go module proxy (the
repository is published there as a module zip): `go mod download` fetches it and checks it against
the checksum database, then `make USE_PGXS=1` builds it against postgresql-server-dev's headers and
`make install` copies vector.so and the SQL scripts into the server's own directories. A running
server needs no restart: CREATE EXTENSION loads the library.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from . import config
from .gobuild import GO_ENV, go_binary, writable_copy
from .service import StackError, log, run, run_with_progress

MODULE = "github.com/pgvector/pgvector"
PINNED = config.VERSIONS["PGVECTOR_VERSION"]  # "v0.8.6": the module's tag


def pg_config(major: str) -> str:
    return f"/usr/lib/postgresql/{major}/bin/pg_config"


def _pg_config_value(major: str, flag: str) -> str:
    return run([pg_config(major), flag]).strip()


def marker() -> Path:
    return config.BUILD / "pgvector.installed"


def fingerprint(major: str) -> str:
    """The pin and the exact server it was built against: a Debian minor upgrade rebuilds it too."""
    return f"{PINNED} {_pg_config_value(major, '--version')}"


def installed(major: str) -> bool:
    """Counted as installed when the marker holds this fingerprint AND the server still has the files
    (a reinstalled postgresql package, or another machine sharing STACK_BUILD_DIR, has not)."""
    if not os.access(pg_config(major), os.X_OK):
        return False  # postgresql-server-dev not installed yet: install() says so
    try:
        recorded = marker().read_text().strip()
    except OSError:
        return False
    version = PINNED.removeprefix("v")
    share = Path(_pg_config_value(major, "--sharedir")) / "extension"
    library = Path(_pg_config_value(major, "--pkglibdir")) / "vector.so"
    return recorded == fingerprint(major) and library.is_file() and (share / f"vector--{version}.sql").is_file()


def install(major: str) -> None:
    """Download, build and install; the marker is written only after `make install` succeeded."""
    if not os.access(pg_config(major), os.X_OK):
        raise StackError(f"pgvector: {pg_config(major)} is missing (Debian package postgresql-server-dev-{major})")
    for tool in ("make", "gcc"):
        if shutil.which(tool) is None:
            raise StackError(f"pgvector: `{tool}` builds the extension and was not found (apt-get install {tool})")
    started = time.monotonic()
    log(f"pgvector: downloading {MODULE}@{PINNED} source (checked against the checksum database)")
    info = json.loads(run([go_binary(), "mod", "download", "-json", f"{MODULE}@{PINNED}"], env=GO_ENV))
    if info.get("Error"):
        raise StackError(f"pgvector: go mod download: {info['Error']}")
    with tempfile.TemporaryDirectory(prefix="pgvector-src-") as tmp:
        source = writable_copy(Path(info["Dir"]), Path(tmp) / "src")
        make = ["make", f"-j{os.cpu_count() or 1}", "USE_PGXS=1", f"PG_CONFIG={pg_config(major)}"]
        run_with_progress(make, cwd=source, label="pgvector: compiling")
        try:
            run_with_progress([*make, "install"], cwd=source, label="pgvector: installing")
        except StackError as error:
            raise StackError(f"{error}\n(make install writes into PostgreSQL's directories: run as root)") from error
    config.BUILD.mkdir(parents=True, exist_ok=True)
    marker().write_text(fingerprint(major) + "\n")
    log(f"pgvector: {PINNED} built and installed into PostgreSQL {major} in {time.monotonic() - started:.0f}s")

