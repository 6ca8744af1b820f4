"""The portal itself behind the balancer (LB=1 only): two gunicorn instances of the Procfile's
`web` process (config/gunicorn.py, unchanged) and one `stream` process (uvicorn) for the
progress streams. They inherit the environment `bin/stack` runs in (DATABASE_URL, DJANGO_ENV…),
so the same commands serve a developer's portal or a test's database."""

from __future__ import annotations

import urllib.request

from .. import config
from ..service import Launch, Service

VENV_BIN = config.ROOT / ".venv" / "bin"


class Gunicorn(Service):
    start_timeout = 60.0
    depends_on = ("postgres", "redis")

    def command(self) -> Launch:
        return Launch([str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py"], env={
            "GUNICORN_BIND": f"{config.HOST}:{self.port}",
            "PORTAL_INSTANCE": self.name,  # X-Served-By: which instance answered
            "FORWARDED_ALLOW_IPS": config.LB_SOURCE_ADDRESS,  # the balancer, and nobody else
            "PYTHONUNBUFFERED": "1",
        })

    def ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
            return response.status == 200

    def version(self) -> str:
        return "portal (gunicorn)"


class Web1(Gunicorn):
    name = "web1"
    port = config.PORTS.web1
    url = f"http://{config.HOST}:{config.PORTS.web1}"


class Web2(Gunicorn):
    name = "web2"
    port = config.PORTS.web2
    url = f"http://{config.HOST}:{config.PORTS.web2}"


class Stream(Service):
    """The Procfile's `stream` process: uvicorn serving the SSE progress streams."""

    name = "stream"
    port = config.PORTS.stream
    url = f"http://{config.HOST}:{config.PORTS.stream}"
    start_timeout = 60.0
    depends_on = ("postgres", "redis")

    def command(self) -> Launch:
        return Launch([str(VENV_BIN / "uvicorn"), "config.asgi:application", "--host", config.HOST,
                       "--port", str(self.port), "--lifespan", "off", "--no-access-log", "--proxy-headers",
                       "--forwarded-allow-ips", config.LB_SOURCE_ADDRESS, "--timeout-graceful-shutdown", "5"],
                      env={"PORTAL_INSTANCE": self.name, "FORWARDED_ALLOW_IPS": config.LB_SOURCE_ADDRESS})

    def ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
            return response.status == 200

    def version(self) -> str:
        return "portal (uvicorn)"
