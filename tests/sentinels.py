"""A Sentinel-managed Redis pair of a test's (or a benchmark's) own: `bin/stack` with SCALE=2 starts
`redis`, `redis-replica` and `sentinel1..3` exactly as it does for the stack, but in its own var/ and on
free ports, so killing its master never touches the shared Redis the rest of the suite uses."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from stackctl import config

NAMES = ("redis", "redis-replica", "sentinel1", "sentinel2", "sentinel3")
# How long the sentinels wait before failing a silent master over (the stack's default is 30 s).
DOWN_AFTER_MS = 1000


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind((config.HOST, 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


class SentinelPair:
    def __init__(self) -> None:
        config.VAR.mkdir(exist_ok=True)
        self.var = Path(tempfile.mkdtemp(prefix="sentinel-drill-", dir=config.VAR))
        self.master_port, self.replica_port, *self.sentinel_ports = free_ports(5)
        self.env = {**os.environ, "SCALE": "2", "STACK_VAR_DIR": str(self.var), "STACK_BUILD_DIR": str(config.BUILD),
                    "STACK_REDIS_PORT": str(self.master_port), "STACK_REDIS_REPLICA_PORT": str(self.replica_port),
                    **{f"STACK_SENTINEL{i}_PORT": str(port) for i, port in enumerate(self.sentinel_ports, 1)},
                    "STACK_SENTINEL_DOWN_AFTER_MS": str(DOWN_AFTER_MS)}

    # --- what the portal is given ----------------------------------------------------------------
    @property
    def sentinels(self) -> str:
        """REDIS_SENTINELS for these sentinels."""
        return ",".join(f"{config.HOST}:{port}" for port in self.sentinel_ports)

    def url(self, db: int) -> str:
        """What settings make of `redis://…/db` with REDIS_SENTINELS set to these sentinels."""
        return ";".join(f"sentinel://{config.HOST}:{port}/{db}" for port in self.sentinel_ports)

    # --- the servers -----------------------------------------------------------------------------
    def stack(self, *args: str) -> str:
        done = subprocess.run([str(config.ROOT / "bin" / "stack"), *args], env=self.env, capture_output=True,
                              text=True, timeout=180, check=False)
        assert done.returncode == 0, f"bin/stack {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout

    def up(self) -> SentinelPair:
        self.stack("up", *NAMES)
        return self

    def down(self) -> None:
        try:
            self.stack("down", *NAMES)
        finally:
            shutil.rmtree(self.var, ignore_errors=True)

    def kill_master(self) -> None:
        """SIGKILL `redis`, as a crash would: no shutdown, no goodbye to its replica or the sentinels."""
        self.stack("kill", "redis")

    def restore(self) -> str:
        """Start `redis` again: it rejoins as a replica, then the sentinels fail back to it (services/redis.py)."""
        return self.stack("up", "redis")

    def named_master(self) -> set[int]:
        """The master's port as each sentinel names it."""
        ports = set()
        for port in self.sentinel_ports:
            client = redis.Redis(host=config.HOST, port=port, socket_timeout=1.0)
            try:
                ports.add(int(client.sentinel_get_master_addr_by_name(config.SENTINEL_MASTER)[1]))
            finally:
                client.close()
        return ports

    def role(self, port: int) -> str:
        client = redis.Redis(host=config.HOST, port=port, socket_timeout=1.0)
        try:
            return str(client.info("replication")["role"])
        finally:
            client.close()

    def replicated(self) -> int:
        """How many replicas acknowledged every write the master has taken so far (a write of our own,
        then WAIT: the replication stream is ordered)."""
        client = redis.Redis(host=config.HOST, port=self.master_port, socket_timeout=10.0)
        try:
            client.set("sentinel-drill:marker", time.time())
            return int(client.execute_command("WAIT", 1, 5000))
        finally:
            client.close()

    def wait_for_master(self, port: int, timeout: float = 30.0) -> float:
        """Until every sentinel names `port` and it says it is the master; returns the seconds waited."""
        started = time.monotonic()
        while True:
            try:
                if self.named_master() == {port} and self.role(port) == "master":
                    return time.monotonic() - started
            except redis.RedisError:
                pass
            assert time.monotonic() - started < timeout, f"the sentinels never named {port} (now {self.named_master()})"
            time.sleep(0.05)
