"""What every benchmark needs and none of them measures: the machine's description, a database of
the bench's own, server processes in their own process group, a percentile. Django-free at import
(the benchmarks set their environment before Django loads); database_recreate imports it late."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
LOG_DIR = ROOT / "var" / "bench"
# The stack's PostgreSQL; the portal role may CREATEDB, so each benchmark owns a database.
ADMIN_DB_URL = os.environ.get("DATABASE_URL", "postgres://portal:portal@127.0.0.1:15432/portal")


def bench_database_url(name: str) -> str:
    return urlunsplit(urlsplit(ADMIN_DB_URL)._replace(path=f"/{name}"))


def django_setup(database: str, **overrides: str) -> None:
    """Set the environment and start Django: development mode without DEBUG, i.e. production's code
    paths (cached template loader, no query log) without its mandatory secret key and HTTPS redirect,
    which would answer every plain-HTTP request with a 301. The server processes a bench starts
    inherit the same environment."""
    os.environ.update({
        "DJANGO_ENV": "development", "DJANGO_DEBUG": "false", "DATABASE_URL": bench_database_url(database),
        "LOG_LEVEL": "WARNING", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4", **overrides,
    })
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.development"
    sys.path.insert(0, str(ROOT))
    import django  # noqa: PLC0415 - only once the environment above is in place

    django.setup()


def database_recreate(name: str) -> None:
    """A fresh, migrated database per run: earlier runs and the developer's data never skew a figure.
    Django must already be set up with DATABASE_URL = bench_database_url(name)."""
    import psycopg  # noqa: PLC0415 - only once Django's settings are in place
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415
    from psycopg import sql  # noqa: PLC0415

    connection.close()
    with psycopg.connect(ADMIN_DB_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    call_command("migrate", interactive=False, verbosity=0)


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split(" [")[0]
    return (f"{os.cpu_count()} cores, {model}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, Django {version('django')}" + (f", {wrk}" if wrk else ""))


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def log_path(name: str) -> Path:
    return LOG_DIR / f"{name}.log"


def start(name: str, argv: list[str], ready: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """A server in its own process group (so stop() ends it and its children, nothing else), logging
    to var/bench/<name>.log, waited for until `ready` (a URL answering 200, or host:port accepting)."""
    log = log_path(name)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        server = subprocess.Popen(argv, cwd=ROOT, env=env or os.environ.copy(), stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"{name} exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError, IndexError, ValueError):
            if ready.startswith("http://"):
                if http_get(ready) == 200:
                    return server
            else:  # host:port accepting connections
                socket.create_connection(tuple(ready.rsplit(":", 1)), timeout=1).close()
                return server
        time.sleep(0.1)
    stop(server)
    raise SystemExit(f"{name} did not come up within 30s:\n{log.read_text()[-3000:]}")


def gunicorn(name: str, port: int, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The Procfile's web process (config/gunicorn.py) on HOST:port, answering /healthz."""
    env = {**(env or os.environ), "GUNICORN_BIND": f"{HOST}:{port}"}
    argv = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "config/gunicorn.py"]
    return start(name, argv, f"http://{HOST}:{port}/healthz", env)


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)  # the group start() created: this server and its children only
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def http_get(url: str) -> int:
    """One GET on a new connection, read to the end; the status code."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        head = sock.recv(64)
        while sock.recv(65536):
            pass
        return int(head.split(b" ")[1])
