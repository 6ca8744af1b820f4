"""An nginx CDN of the tests' own: `bin/stack up nginx` on its own var/ and a free port, proxying
the shared S3's public bucket with the config in deploy/nginx/ as it is in this checkout (the
developer's nginx keeps running whatever config it was started with). Module-scoped: each module
that imports the fixture gets its own instance."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from stackctl import config


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((config.HOST, 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def own_cdn() -> Iterator[str]:
    config.VAR.mkdir(exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="cdn-test-", dir=config.VAR))
    os.chmod(var, 0o755)  # noqa: S103 - nginx's workers keep their cache under it
    port = _free_port()
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("STACK_") and k != "LB"}
    env = {**inherited, "STACK_VAR_DIR": str(var), "STACK_BUILD_DIR": str(config.BUILD), "STACK_CDN_PORT": str(port)}

    def stack(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(config.ROOT / "bin" / "stack"), *args], env=env, capture_output=True,
                              text=True, timeout=120, check=False)

    try:
        started = stack("up", "nginx")
        assert started.returncode == 0, started.stdout + started.stderr
        yield f"http://{config.HOST}:{port}"
    finally:
        stack("down", "nginx")
        shutil.rmtree(var, ignore_errors=True)
