"""Uploads run against the real S3 server, in a private bucket of this test run's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.storage import MIB, _isolated_storage, announcements, media_files, test_bucket  # noqa: F401


@pytest.fixture
def api(client_as: Callable[[object], Client], editor: object) -> Client:
    """The editor's browser."""
    return client_as(editor)


@pytest.fixture
def other_editor(db: None) -> object:
    return UserFactory(username="other-ed", editor=True)


@pytest.fixture
def small_images(settings: Any) -> int:
    """Images up to 1 MiB, so "too large" needs only a couple of MiB of test data."""
    settings.UPLOAD_MAX_MB = {**settings.UPLOAD_MAX_MB, "image": 1}
    return 1 * MIB


@pytest.fixture
def multipart_settings(settings: Any) -> int:
    """Multipart from 6 MiB in 5 MiB parts (S3's minimum part size): an 11 MiB file is 3 parts."""
    settings.UPLOAD_MULTIPART_THRESHOLD_MB = 6
    settings.UPLOAD_PART_SIZE_MB = 5
    return 5 * MIB
