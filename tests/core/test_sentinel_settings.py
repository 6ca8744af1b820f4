"""REDIS_SENTINELS turns every Redis URL of the settings into its Sentinel form, keeping each database;
unset, the URLs stay as given. Read from a fresh process, as a deploy's environment would set them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHOW = """
import json
from django.conf import settings
from workers.celery import app
print(json.dumps({"cache": settings.CACHES["default"], "broker": settings.CELERY_BROKER_URL,
                  "results": settings.CELERY_RESULT_BACKEND, "progress": settings.PROGRESS_REDIS_URL,
                  "app_broker": app.conf.broker_url, "app_results": app.conf.result_backend,
                  "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
                  "results_transport": settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS}))
"""


def settings_with(**env: str) -> dict[str, Any]:
    clean = {key: value for key, value in os.environ.items()
             if key not in {"REDIS_SENTINELS", "REDIS_SENTINEL_MASTER", "CACHE_URL", "CELERY_BROKER_URL",
                            "CELERY_RESULT_BACKEND", "PROGRESS_REDIS_URL", "REDIS_URL"}}
    done = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {SHOW}"], cwd=ROOT, text=True,
                          env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DJANGO_ENV": "test", **env},
                          capture_output=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_with_sentinels_every_url_finds_the_master_through_them_and_keeps_its_database() -> None:
    seen = settings_with(REDIS_SENTINELS="10.0.0.1:26379,10.0.0.2:26379", REDIS_SENTINEL_MASTER="main",
                         CACHE_URL="redis://:secret@127.0.0.1:6379/5", CELERY_BROKER_URL="redis://127.0.0.1:6379/6",
                         PROGRESS_REDIS_URL="redis://127.0.0.1:6379/7")
    both = "sentinel://10.0.0.1:26379/{db};sentinel://10.0.0.2:26379/{db}"
    assert seen["broker"] == seen["results"] == seen["app_broker"] == seen["app_results"] == both.format(db=6)
    assert seen["progress"] == both.format(db=7)
    assert seen["transport"]["master_name"] == seen["results_transport"]["master_name"] == "main"
    cache = seen["cache"]
    assert cache["LOCATION"] == ["redis://:secret@main/5"]  # the master only, with its password
    assert cache["OPTIONS"]["CLIENT_CLASS"] == "django_redis.client.SentinelClient"
    assert cache["OPTIONS"]["CONNECTION_FACTORY"] == "portal.integrations.redis_client.SentinelConnectionFactory"
    assert cache["OPTIONS"]["SENTINELS"] == [["10.0.0.1", 26379], ["10.0.0.2", 26379]]
    assert cache["OPTIONS"]["IGNORE_EXCEPTIONS"] is True  # a dead cache is still a miss


def test_without_sentinels_the_urls_are_used_as_given() -> None:
    seen = settings_with(CACHE_URL="redis://127.0.0.1:6379/5", CELERY_BROKER_URL="redis://127.0.0.1:6379/6",
                         PROGRESS_REDIS_URL="redis://127.0.0.1:6379/7")
    assert seen["broker"] == seen["app_broker"] == "redis://127.0.0.1:6379/6"
    assert seen["progress"] == "redis://127.0.0.1:6379/7"
    assert seen["cache"]["LOCATION"] == "redis://127.0.0.1:6379/5"
    assert "CLIENT_CLASS" not in seen["cache"]["OPTIONS"]


def test_cache_objects_share_one_sentinel_manager() -> None:
    """The web process makes a cache object per request; django-redis's own factory built a Sentinel
    manager (three clients, ~5 ms) for each."""
    from django_redis.cache import RedisCache  # noqa: PLC0415 - Django is set up by pytest-django

    from config.settings.base import cache_settings  # noqa: PLC0415

    params = dict(cache_settings("sentinel://127.0.0.1:26380/5;sentinel://127.0.0.1:26381/5")["default"])
    location = params.pop("LOCATION")
    first, second = RedisCache(location, params), RedisCache(location, params)
    assert first.client.connection_factory._sentinel is second.client.connection_factory._sentinel
    assert [s.connection_pool.connection_kwargs["port"]
            for s in first.client.connection_factory._sentinel.sentinels] == [26380, 26381]
