"""The Procfile run as a PaaS runs it, by honcho, with nothing but environment variables (no
settings file, no .env, production mode): `release` sets everything up idempotently, then the
long-running processes come up and the portal is ready."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from stackctl import config

from portal.jobs import broker
from tests.deploy.conftest import _database_url

pytestmark = pytest.mark.django_db(transaction=True)

HONCHO = str(config.ROOT / ".venv" / "bin" / "honcho")
WEB_PORT, STREAM_PORT, FLOWER_PORT = 8650, 8651, 8652
PROCESSES = ["web", "stream", "worker_interactive", "worker_media", "worker_bulk", "beat", "flower"]
QUEUE_NODES = ("interactive", "media", "bulk")


def paas_env() -> dict[str, str]:
    """What an operator sets on a PaaS: URLs, secrets and sizes. PATH is the buildpack's."""
    test_db = settings.DATABASES["default"]["NAME"]
    return {
        "PATH": f"{config.ROOT / '.venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": _database_url(),
        "CACHE_URL": settings.CACHES["default"]["LOCATION"],
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PROGRESS_REDIS_URL": settings.PROGRESS_REDIS_URL,
        "SEARCH_URL": settings.SEARCH_URL,
        "SEARCH_INDEX_PREFIX": f"{test_db}_honcho",
        "MONGODB_URL": f"{settings.MONGODB_URL.rsplit('/', 1)[0]}/{test_db}_honcho",
        "S3_ENDPOINT_URL": settings.S3_ENDPOINT_URL,
        "S3_ACCESS_KEY_ID": settings.S3_ACCESS_KEY_ID,
        "S3_SECRET_ACCESS_KEY": settings.S3_SECRET_ACCESS_KEY,
        "S3_PUBLIC_BUCKET": settings.S3_PUBLIC_BUCKET,
        "S3_PRIVATE_BUCKET": settings.S3_PRIVATE_BUCKET,
        "CDN_BASE_URL": settings.CDN_BASE_URL,
        "FLOWER_BASIC_AUTH": "ops:honcho-test",
        "FLOWER_PORT": str(FLOWER_PORT),
        "FLOWER_ADDRESS": "127.0.0.1",
        "STREAM_PORT": str(STREAM_PORT),
        "WEB_CONCURRENCY": "1",
        "INTERACTIVE_CONCURRENCY": "1",
        "PYTHONUNBUFFERED": "1",
    }


def answer(url: str, **kwargs: object) -> int:
    try:
        return requests.get(url, timeout=5, **kwargs).status_code  # type: ignore[arg-type]
    except requests.RequestException:  # not up yet, or busy starting (a read timeout)
        return 0


def test_honcho_runs_release_then_brings_every_procfile_process_up_from_the_environment_alone(tmp_path: Path):
    env = paas_env()
    release = subprocess.run([HONCHO, "start", "release"], cwd=config.ROOT, env=env, capture_output=True, text=True,
                             timeout=300, check=False)
    assert release.returncode == 0, release.stdout[-3000:] + release.stderr[-3000:]

    log_path = tmp_path / "honcho.log"
    with log_path.open("wb") as log:
        honcho = subprocess.Popen([HONCHO, "start", "-p", str(WEB_PORT), *PROCESSES], cwd=config.ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        nodes: set[str] = set()
        while time.monotonic() < deadline:
            assert honcho.poll() is None, log_path.read_text()[-4000:]
            ready = answer(f"http://127.0.0.1:{WEB_PORT}/readyz") == 200
            stream = answer(f"http://127.0.0.1:{STREAM_PORT}/healthz") == 200
            flower = answer(f"http://127.0.0.1:{FLOWER_PORT}/workers") == 401
            if ready and stream and flower:
                with broker._connection(pooled=False) as conn:
                    replies = broker.celery_app().control.ping(timeout=1, connection=conn) or []
                nodes |= {name.split("@")[0] for reply in replies for name in reply}
                if set(QUEUE_NODES) <= nodes:
                    break
            time.sleep(1)
        else:
            pytest.fail(f"not everything came up: workers answering {nodes}\n{log_path.read_text()[-4000:]}")
        body = requests.get(f"http://127.0.0.1:{WEB_PORT}/readyz", timeout=5).json()
        assert body["checks"]["database"]["status"] == "ok"
        assert answer(f"http://127.0.0.1:{FLOWER_PORT}/workers", auth=("ops", "honcho-test")) == 200
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(honcho.pid, signal.SIGTERM)  # honcho stops every process it started
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(timeout=10)
    log = log_path.read_text()
    assert "web.1" in log
    assert "beat.1" in log
