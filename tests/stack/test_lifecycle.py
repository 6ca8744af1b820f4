"""bin/stack's promises, checked on a second stack instance (own var/ and ports) so the
stack the rest of the suite uses is never disturbed: `up` twice is a no-op, `up` after a
crash recovers, a busy port is reported, and `down` leaves no process behind."""

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

PORT_VARS = {
    "STACK_PG_PORT": config.PORTS.postgres, "STACK_REDIS_PORT": config.PORTS.redis,
    "STACK_MEMCACHED_PORT": config.PORTS.memcached, "STACK_OPENSEARCH_PORT": config.PORTS.opensearch,
    "STACK_OPENSEARCH_TRANSPORT_PORT": config.PORTS.opensearch_transport, "STACK_FERRETDB_PORT": config.PORTS.ferretdb,
    "STACK_S3_PORT": config.PORTS.s3, "STACK_CDN_PORT": config.PORTS.cdn,
}
SHIFT = 7  # ports of the drill instance: the main ones plus this


@pytest.fixture(scope="module")
def drill() -> Iterator[dict[str, str]]:
    # Under var/, not pytest's 0700 temp dir: the postgres user must be able to reach its data.
    config.VAR.mkdir(exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="stack-drill-", dir=config.VAR))
    os.chmod(var, 0o755)  # noqa: S103
    # SCALE=1 whatever `make test` exports: the drill is the one-of-each stack (second instances have
    # their own drills: tests/stack/test_search_cluster.py, test_redis_sentinel.py, tests/ops/test_replica.py).
    env = {**os.environ, "STACK_VAR_DIR": str(var), "STACK_BUILD_DIR": str(config.BUILD), "SCALE": "1",
           **{name: str(port + SHIFT) for name, port in PORT_VARS.items()}}
    yield env
    stack_cli(env, "down")
    shutil.rmtree(var, ignore_errors=True)


def stack_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(config.ROOT / "bin" / "stack"), *args], env=env, capture_output=True, text=True,
                          timeout=600)


def pids(env: dict[str, str]) -> dict[str, int]:
    run_dir = Path(env["STACK_VAR_DIR"]) / "run"
    return {p.stem: int(p.read_text()) for p in run_dir.glob("*.pid") if "." not in p.stem}


def processes_using(path: str) -> list[str]:
    """Every live process whose command line or working directory mentions path."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if path in cmdline or cwd.startswith(path):
            found.append(f"{proc.name}: {cmdline[:120]}")
    return found


def test_up_twice_is_a_no_op_the_second_time(drill):
    first = stack_cli(drill, "up")
    assert first.returncode == 0, first.stdout + first.stderr
    before = pids(drill)
    assert set(before) == {"postgres", "redis", "memcached", "opensearch", "ferretdb", "s3", "nginx"}

    second = stack_cli(drill, "up")
    assert second.returncode == 0, second.stderr
    assert "starting" not in second.stdout
    assert pids(drill) == before


def test_status_prints_every_server_up(drill):
    table = stack_cli(drill, "status").stdout.splitlines()
    assert table[0].split() == ["SERVER", "VERSION", "URL", "STATE"]
    assert {line.split()[0]: line.split()[-1] for line in table[1:]} == dict.fromkeys(
        ["postgres", "redis", "memcached", "opensearch", "ferretdb", "s3", "nginx"], "up")


@pytest.mark.parametrize("name", ["postgres", "redis", "ferretdb", "opensearch", "nginx"])
def test_up_after_a_crash_recovers(drill, name):
    stack_cli(drill, "kill", name)  # SIGKILL: pid file, postmaster.pid, locks all left behind
    if name == "postgres":  # its data sits under var/, or outside it when the checkout is in a 0700 folder
        var = Path(drill["STACK_VAR_DIR"]).resolve()
        folders = [var / "postgres", config.outside_for(var) / "postgres"]
        assert any((folder / "data" / "postmaster.pid").exists() for folder in folders)
    recovered = stack_cli(drill, "up", name)
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert f"{name}: ready" in recovered.stdout


def test_a_busy_port_is_reported_not_moved(drill):
    stack_cli(drill, "down", "memcached")
    port = int(drill["STACK_MEMCACHED_PORT"])
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = stack_cli(drill, "up", "memcached")
    assert result.returncode == 1
    assert f"memcached: port {port} is already in use" in result.stderr
    assert stack_cli(drill, "up", "memcached").returncode == 0


def test_down_stops_everything_it_started_and_leaves_no_orphan(drill):
    assert stack_cli(drill, "up").returncode == 0
    started = pids(drill)
    result = stack_cli(drill, "down")
    assert result.returncode == 0, result.stderr
    assert pids(drill) == {}
    assert not [pid for pid in started.values() if Path(f"/proc/{pid}").exists()
                and "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]]
    assert processes_using(drill["STACK_VAR_DIR"]) == []
