"""The production shape on this machine: `bin/stack` with LB=1 on a var/ directory and ports of
these tests' own (8640–8645), so the developer's stack is never touched. The two gunicorn
instances and the stream process run in production mode against this run's test database and
cache; nginx (CDN and balancer in one process) proxies the shared S3 for its CDN part."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from stackctl import config

from tests.deploy.load import browser

PORTS = {"STACK_CDN_PORT": 8640, "STACK_LB_HTTP_PORT": 8641, "STACK_LB_HTTPS_PORT": 8642,
         "STACK_WEB1_PORT": 8643, "STACK_WEB2_PORT": 8644, "STACK_STREAM_PORT": 8645}
INSTANCES = ("web1", "web2", "stream", "nginx")
# Small limits, so the throttling test needs few attempts (successful sign-ins never count).
LOGIN_FAILURES_PER_ACCOUNT = 3
LOGIN_FAILURES_PER_ADDRESS = 6


@dataclass
class Balancer:
    env: dict[str, str]
    var: Path

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{PORTS['STACK_LB_HTTPS_PORT']}"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{PORTS['STACK_LB_HTTP_PORT']}"

    def instance(self, name: str) -> str:
        return f"http://127.0.0.1:{PORTS[f'STACK_{name.upper()}_PORT']}"

    @property
    def cafile(self) -> str:
        return str(self.var / "nginx" / "tls" / "balancer.crt")

    def cli(self, *args: str) -> str:
        result = subprocess.run([str(config.ROOT / "bin" / "stack"), *args], env=self.env, capture_output=True,
                                text=True, timeout=300, check=False)
        assert result.returncode == 0, f"bin/stack {' '.join(args)}: {result.stdout}{result.stderr}"
        return result.stdout

    def log(self, name: str) -> str:
        return (self.var / "log" / f"{name}.log").read_text(errors="replace")

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return browser(self.cafile).get(f"{self.base}{path}", allow_redirects=False, timeout=10, **kwargs)

    def wait_serving(self, name: str, timeout: float = 30) -> None:
        """Until the balancer sends requests to `name` again (after a restart)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.get("/healthz").headers.get("X-Served-By") == name:
                return
            time.sleep(0.1)
        pytest.fail(f"{name} did not rejoin the balancer within {timeout:.0f}s")


@pytest.fixture(autouse=True)
def _production_password_hashes(settings: Any) -> None:
    """Users made here sign in to instances running production settings, whose hashers do not
    include the fast test-only one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture(scope="module")
def balancer(django_db_setup: None) -> Iterator[Balancer]:
    config.VAR.mkdir(exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="deploy-test-", dir=config.VAR))
    os.chmod(var, 0o755)  # noqa: S103 - nginx's workers (not root) must reach their cache under it
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CACHE_", "STACK_"))}
    env = {
        **inherited, **{name: str(port) for name, port in PORTS.items()},
        "LB": "1", "STACK_VAR_DIR": str(var), "STACK_BUILD_DIR": str(config.BUILD),
        "DJANGO_ENV": "production", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": _database_url(), "CACHE_URL": django_settings.CACHES["default"]["LOCATION"],
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "PROGRESS_REDIS_URL": django_settings.PROGRESS_REDIS_URL,
        "S3_ACCESS_KEY_ID": django_settings.S3_ACCESS_KEY_ID,
        "S3_SECRET_ACCESS_KEY": django_settings.S3_SECRET_ACCESS_KEY,
        "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "8",
        "LOGIN_FAILURES_PER_ACCOUNT": str(LOGIN_FAILURES_PER_ACCOUNT),
        "LOGIN_FAILURES_PER_ADDRESS": str(LOGIN_FAILURES_PER_ADDRESS),
    }
    stack = Balancer(env=env, var=var)
    try:
        stack.cli("up", *INSTANCES)
        yield stack
    finally:
        subprocess.run([str(config.ROOT / "bin" / "stack"), "down", *INSTANCES], env=env, capture_output=True,
                       timeout=120, check=False)
        if not os.environ.get("KEEP_DEPLOY_VAR"):
            shutil.rmtree(var, ignore_errors=True)
