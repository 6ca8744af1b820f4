"""Redis 7 from Debian: cache, Celery broker and pub/sub, with an append-only file under var/redis.

SCALE=2 adds `redis-replica` (a replica of `redis`, with the same persistence) and three sentinels
(Debian's `redis-sentinel`) that watch the pair as master `config.SENTINEL_MASTER` and promote the
replica when the master is down. The default address stays the master: when `redis` starts while
the sentinels name another master (it was down long enough to be failed over), it first rejoins as
that master's replica, then asks the sentinels to fail back to it (`restore_master`).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import time

import redis as redis_py

from .. import config
from ..service import Launch, Service, StackError, log, run


def redis_command(port: int, *words: str) -> bytes:
    """Send one inline command and return the first reply line (no client needed)."""
    with socket.create_connection((config.HOST, port), timeout=1.0) as conn:
        conn.sendall((" ".join(words) + "\r\n").encode())
        return conn.recv(4096).split(b"\r\n", 1)[0]


class Redis(Service):
    name = "redis"
    port = config.PORTS.redis
    url = config.URLS["REDIS_URL"]
    start_timeout = 20.0

    def installed(self) -> bool:
        return shutil.which("redis-server") is not None

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> Launch:
        return Launch([
            "redis-server", "--bind", config.HOST, "--port", str(self.port),
            "--dir", str(self.data_dir), "--daemonize", "no", "--save", "",
            # Queued tasks are Redis lists: an append-only file written before each reply keeps them
            # through a crash of the process (a lost second at most if the machine itself dies).
            "--appendonly", "yes", "--appendfsync", "everysec",
            "--protected-mode", "yes", "--loglevel", "warning", "--databases", "64",
            *self.extra_args(),
        ])

    def extra_args(self) -> list[str]:
        return []

    def ready(self) -> bool:
        return redis_command(self.port, "PING") == b"+PONG"

    def after_ready(self) -> None:
        if any(sentinel.running() for sentinel in sentinels()):
            restore_master()

    def version(self) -> str:
        return run(["redis-server", "--version"]).split()[2].removeprefix("v=")


class RedisReplica(Redis):
    """SCALE=2: a replica of `redis`, persisting like it, so a promoted replica keeps queued tasks too."""

    name = "redis-replica"
    port = config.PORTS.redis_replica
    url = f"redis://{config.HOST}:{config.PORTS.redis_replica}/0"
    depends_on = ("redis",)

    def extra_args(self) -> list[str]:
        return ["--replicaof", config.HOST, str(config.PORTS.redis)]

    def after_ready(self) -> None:
        pass


class Sentinel(Service):
    """One of three sentinels; two must agree that the master is down before the replica is promoted."""

    start_timeout = 20.0
    depends_on = ("redis", "redis-replica")

    def installed(self) -> bool:
        return shutil.which("redis-sentinel") is not None

    def prepare(self) -> None:
        # Written fresh at every start: a sentinel rewrites its file with what it learnt (the current
        # master, replicas, other sentinels, its epoch), and that must not outlive the stack's topology.
        self.data_dir.mkdir(parents=True, exist_ok=True)
        master = config.SENTINEL_MASTER
        (self.data_dir / "sentinel.conf").write_text("\n".join([
            f"bind {config.HOST}", f"port {self.port}", "daemonize no", f'dir "{self.data_dir}"',
            "loglevel notice", "logfile \"\"",
            f"sentinel monitor {master} {config.HOST} {config.PORTS.redis} 2",
            f"sentinel down-after-milliseconds {master} {config.SENTINEL_DOWN_AFTER_MS}",
            f"sentinel failover-timeout {master} {max(10_000, 3 * config.SENTINEL_DOWN_AFTER_MS)}",
            f"sentinel parallel-syncs {master} 1", "",
        ]))

    def command(self) -> Launch:
        return Launch(["redis-sentinel", str(self.data_dir / "sentinel.conf")])

    def ready(self) -> bool:
        return master_address(self.port) is not None

    def version(self) -> str:
        return run(["redis-sentinel", "--version"]).split()[2].removeprefix("v=")


class Sentinel1(Sentinel):
    name = "sentinel1"
    port = config.PORTS.sentinel1
    url = f"redis://{config.HOST}:{config.PORTS.sentinel1}"


class Sentinel2(Sentinel):
    name = "sentinel2"
    port = config.PORTS.sentinel2
    url = f"redis://{config.HOST}:{config.PORTS.sentinel2}"


class Sentinel3(Sentinel):
    name = "sentinel3"
    port = config.PORTS.sentinel3
    url = f"redis://{config.HOST}:{config.PORTS.sentinel3}"


def sentinels() -> list[Sentinel]:
    return [Sentinel1(), Sentinel2(), Sentinel3()]


def master_address(sentinel_port: int) -> tuple[str, int] | None:
    """The master's address as one sentinel knows it."""
    client = redis_py.Redis(host=config.HOST, port=sentinel_port, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        address = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", config.SENTINEL_MASTER)
    finally:
        client.close()
    return (address[0].decode(), int(address[1])) if address else None


def role(port: int) -> str:
    """`master` or `slave`, and for a replica whether its link to the master is up (`slave:up`); `down`."""
    client = redis_py.Redis(host=config.HOST, port=port, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        info = client.info("replication")
    except redis_py.ConnectionError:
        return "down"
    finally:
        client.close()
    return str(info["role"]) + (f":{info['master_link_status']}" if info["role"] == "slave" else "")


def restore_master(timeout: float = 90.0) -> None:
    """Make `redis` (the default address) the master again after a failover left the replica in charge:
    it replicates from the promoted one until in sync (nothing written meanwhile is lost), then the
    sentinels fail over back to it. A no-op when every running sentinel already names it."""
    home = (config.HOST, config.PORTS.redis)
    watching = [sentinel.port for sentinel in sentinels() if sentinel.running()]
    deadline = time.monotonic() + timeout

    def named() -> set[tuple[str, int]]:
        """What the sentinels that answer say (one that does not is no vote)."""
        answers: set[tuple[str, int]] = set()
        for port in watching:
            with contextlib.suppress(redis_py.RedisError):
                answers |= {address for address in [master_address(port)] if address is not None}
        return answers

    if named() <= {home}:
        return
    log(f"redis: the sentinels name another master; rejoining it, then failing back to {home[1]}")
    previous: set[tuple[str, int]] = set()
    asked = False  # once the sentinels took the failover, only wait: never point redis elsewhere again
    while time.monotonic() < deadline:
        answers = named()
        if answers == {home} and role(home[1]) == "master":
            # The sentinels would demote the one failed back from after about 10 s; done now, as they would.
            for _host, port in previous:
                if role(port) == "master":
                    replicate(port, home)
            if all(role(port) in ("slave:up", "down") for _host, port in previous):
                log("redis: master again")
                return
            time.sleep(0.2)
            continue
        others = answers - {home}
        previous |= others
        if not asked and others and role(home[1]) == "master":
            replicate(home[1], next(iter(others)))
        elif not asked and role(home[1]) == "slave:up":
            # Refused until the sentinels have seen this replica in sync (-NOGOODSLAVE): asked again.
            for port in watching:
                with contextlib.suppress(redis_py.RedisError):
                    asked = _command(port, "SENTINEL", "FAILOVER", config.SENTINEL_MASTER) in (b"OK", "OK", True)
                if asked:
                    break
        time.sleep(0.5)
    raise StackError(f"redis: still not the master after {timeout:.0f}s (sentinels: {named()}, role: {role(home[1])})")


def replicate(port: int, master: tuple[str, int]) -> None:
    """Make the Redis on `port` a replica of `master` as a sentinel does: in one transaction with closing
    its clients, so they reconnect and ask the sentinels again. (A client left blocked in BRPOP would get
    `-UNBLOCKED`, a reply error Celery's worker does not recover from, instead of a lost connection.)"""
    client = redis_py.Redis(host=config.HOST, port=port, socket_timeout=2.0, socket_connect_timeout=1.0)
    try:
        with client.pipeline(transaction=True) as steps:
            steps.execute_command("REPLICAOF", master[0], str(master[1]))
            steps.execute_command("CLIENT", "KILL", "TYPE", "normal")
            steps.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            steps.execute()
    except redis_py.ConnectionError:
        pass  # our own connection was among those closed
    finally:
        client.close()


def _command(port: int, *words: str) -> object:
    client = redis_py.Redis(host=config.HOST, port=port, socket_timeout=2.0, socket_connect_timeout=1.0)
    try:
        return client.execute_command(*words)
    finally:
        client.close()
