"""Shared fixtures. Tests talk to the real servers that bin/stack runs, never to fakes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.dispatch import receiver
from django.test import Client
from django.test.signals import setting_changed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bin"))
os.environ.setdefault("DJANGO_ENV", "test")

from stackctl import stack  # noqa: E402 - needs bin/ on the path
from stackctl.service import Service  # noqa: E402

from tests.factories import AssetFactory, CollectionFactory, TagFactory, UserFactory  # noqa: E402


@receiver(setting_changed)
def _point_celery_at_the_current_broker(setting: str, **kwargs: object) -> None:
    """Celery reads its broker URL once and keeps producer pools bound to it; a test that moves
    CELERY_BROKER_URL (its own Redis database, a dead port) must move the app's pools too, or later
    pings and sends go to the previous broker."""
    if setting not in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        return
    from workers.celery import app  # noqa: PLC0415 - Django is set up only once tests run

    app.conf.broker_url = django_settings.CELERY_BROKER_URL
    app.conf.result_backend = django_settings.CELERY_RESULT_BACKEND
    app._pool = None  # dropped, not closed: code still holding the old pool may finish with it
    app.amqp._producer_pool = None


def pytest_configure(config: pytest.Config) -> None:
    """Bring the whole stack up once per run (a no-op when `make test` already did)."""
    if not os.environ.get("STACK_SKIP_UP"):
        stack.up()


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    cache.clear()


@pytest.fixture
def stopped() -> Callable[[str], AbstractContextManager[Service]]:
    """`with stopped("redis"): ...` stops one real server and restarts it afterwards, whatever happened."""
    return stack.stopped


@pytest.fixture
def editor(db: None) -> object:
    return UserFactory(username="ed", editor=True)


@pytest.fixture
def visitor(db: None) -> object:
    return UserFactory(username="vi")


@pytest.fixture
def client_as(db: None) -> Callable[[object], Client]:
    """A fresh client logged in as the given user (each call is its own browser session)."""

    def make(user: object) -> Client:
        client = Client()
        client.force_login(user)  # type: ignore[arg-type]
        return client

    return make


@pytest.fixture
def asset_factory(db: None) -> type[AssetFactory]:
    return AssetFactory


@pytest.fixture
def tag_factory(db: None) -> type[TagFactory]:
    return TagFactory


@pytest.fixture
def collection_factory(db: None) -> type[CollectionFactory]:
    return CollectionFactory
