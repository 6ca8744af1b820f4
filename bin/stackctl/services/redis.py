"""Redis 7 from Debian: cache, Celery broker and pub/sub, with an append-only file under var/redis."""

from __future__ import annotations

import shutil
import socket

from .. import config
from ..service import Launch, Service, run


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
        ])

    def ready(self) -> bool:
        return redis_command(self.port, "PING") == b"+PONG"

    def version(self) -> str:
        return run(["redis-server", "--version"]).split()[2].removeprefix("v=")
