"""A clone anywhere starts: a checkout under a 0700 folder (root's home, a `mktemp -d` folder),
where the system users of the servers that drop root (postgres; nginx's workers) cannot enter
var/. Their files go to a folder of that stack's own outside the checkout; where even that is out
of their reach, `up` stops at once naming the folder and the fix. Run on a copy of bin/ and
deploy/ with ports of its own, so the stack the suite uses is never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest
import requests
from botocore.config import Config
from stackctl import config

SHIFT = 13  # the main ports plus this (test_lifecycle's drill: 7, test_elasticsearch's: 20)
PORTS = {"STACK_PG_PORT": config.PORTS.postgres + SHIFT, "STACK_S3_PORT": config.PORTS.s3 + SHIFT,
         "STACK_CDN_PORT": config.PORTS.cdn + SHIFT}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="servers drop privileges only when the stack runs as root")


@dataclass
class Checkout:
    parent: Path  # mode 0700, as mktemp -d makes it
    root: Path
    env: dict[str, str]

    def stack(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """bin/stack of the clone, minus its virtualenv step (this checkout's .venv serves)."""
        return subprocess.run([str(config.ROOT / ".venv" / "bin" / "python"), "-m", "stackctl", *args],
                              env={**self.env, **extra_env, "PYTHONPATH": str(self.root / "bin")}, cwd=self.root,
                              capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def checkout() -> Iterator[Checkout]:
    parent = Path(tempfile.mkdtemp(prefix="portal-clone-"))
    assert parent.stat().st_mode & 0o777 == 0o700
    root = parent / "portal"
    root.mkdir()
    shutil.copytree(config.ROOT / "bin", root / "bin", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(config.ROOT / "deploy", root / "deploy")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("STACK_") and k != "LB"}
    # Built binaries are shared (read by root only); var/ is the clone's own, inside the 0700 folder.
    env = {**inherited, "STACK_BUILD_DIR": str(config.BUILD), **{k: str(v) for k, v in PORTS.items()}}
    clone = Checkout(parent=parent, root=root, env=env)
    try:
        yield clone
    finally:
        clone.stack("down")
        shutil.rmtree(parent, ignore_errors=True)
        shutil.rmtree(config.outside_for(root / "var"), ignore_errors=True)


def test_postgres_and_nginx_start_from_a_checkout_under_a_0700_folder(checkout: Checkout) -> None:
    result = checkout.stack("up", "postgres", "s3", "nginx")
    assert result.returncode == 0, result.stdout + result.stderr

    with psycopg.connect(f"postgres://{config.PG_USER}:{config.PG_PASSWORD}@127.0.0.1:{PORTS['STACK_PG_PORT']}/"
                         f"{config.PG_DB}", connect_timeout=5) as conn:
        assert conn.execute("SELECT unaccent('Crème')").fetchone() == ("Creme",)
    # The CDN's workers (nobody) cache and buffer the object: through nginx to S3 and back.
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{PORTS['STACK_S3_PORT']}",
                      aws_access_key_id=config.S3_ACCESS_KEY, aws_secret_access_key=config.S3_SECRET_KEY,
                      region_name=config.S3_REGION,
                      config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    key = f"clone/{uuid.uuid4()}.txt"
    s3.put_object(Bucket=config.S3_PUBLIC_BUCKET, Key=key, Body=b"x" * 100_000, ContentType="text/plain")
    cdn = f"http://127.0.0.1:{PORTS['STACK_CDN_PORT']}/{key}"
    first, second = requests.get(cdn, timeout=10), requests.get(cdn, timeout=10)
    assert (first.status_code, len(first.content)) == (200, 100_000)
    assert second.headers["X-Cache-Status"] == "HIT"

    # Where they keep their files: outside the checkout for those two, var/ for servers run as root.
    outside = config.outside_for(checkout.root / "var")
    assert (outside / "postgres" / "data" / "PG_VERSION").exists()
    assert any((outside / "nginx" / "cdn-cache").rglob("*"))
    assert (checkout.root / "var" / "s3" / "objects").is_dir()


def test_an_unreachable_folder_stops_up_at_once_naming_it_and_the_fix(checkout: Checkout) -> None:
    # A second instance of the clone told to keep its outside folder inside the 0700 parent too.
    unreachable = checkout.parent / "outside"
    result = checkout.stack("up", "postgres", STACK_VAR_DIR=str(checkout.root / "var-other"),
                            STACK_OUTSIDE_DIR=str(unreachable), STACK_PG_PORT=str(PORTS["STACK_PG_PORT"] + 1))
    assert result.returncode == 1
    assert f"postgres: runs as the system user postgres, who cannot enter {checkout.parent}" in result.stderr
    assert f"chmod o+x {checkout.parent}" in result.stderr
    assert "STACK_OUTSIDE_DIR" in result.stderr
    assert "was not ready after" not in result.stderr, "refused before starting, not after a timeout"
    assert not list((checkout.root / "var-other").glob("run/*.pid"))


def test_down_drops_nginx_caches_outside_the_checkout_and_keeps_the_database(checkout: Checkout) -> None:
    outside = config.outside_for(checkout.root / "var")
    assert (outside / "nginx").exists()
    assert checkout.stack("down", "nginx").returncode == 0
    assert not (outside / "nginx").exists()
    assert (outside / "postgres" / "data" / "PG_VERSION").exists()
