"""Memcached from Debian: the alternative cache backend the caching tests cover."""

from __future__ import annotations

import shutil
import socket

from .. import config
from ..service import Launch, Service, run


class Memcached(Service):
    name = "memcached"
    port = config.PORTS.memcached
    url = config.URLS["MEMCACHED_URL"]
    start_timeout = 15.0

    def installed(self) -> bool:
        return shutil.which("memcached") is not None

    def command(self) -> Launch:
        # -u: memcached refuses to run as root without naming a user to drop to.
        return Launch(["memcached", "-l", config.HOST, "-p", str(self.port), "-U", "0", "-m", "128", "-u", "nobody"])

    def ready(self) -> bool:
        with socket.create_connection((config.HOST, self.port), timeout=1.0) as conn:
            conn.sendall(b"version\r\n")
            return conn.recv(256).startswith(b"VERSION ")

    def version(self) -> str:
        return run(["memcached", "-V"]).split()[1]
