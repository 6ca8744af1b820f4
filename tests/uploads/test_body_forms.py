"""The upload API's JSON bodies are validated by forms: values that Python's int() or isinstance()
would have let through (true as a size, true as a part number) are refused like any other junk."""

from __future__ import annotations

import pytest

from portal.uploads.models import UploadSession
from tests.storage import MIB, start

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("size", [True, False, 12.5, "1e3"])
def test_a_boolean_or_fractional_size_is_refused_and_starts_nothing(api, size):
    response = start(api, filename="a.png", size=size, type="image/png")
    assert response.status_code == 400
    assert response.json() == {"error": "Size and asset must be numbers."}
    assert not UploadSession.objects.exists()


def test_a_boolean_asset_is_refused(api):
    response = start(api, filename="a.png", size=10, type="image/png", asset=True)
    assert response.status_code == 400
    assert response.json() == {"error": "Size and asset must be numbers."}


@pytest.mark.parametrize("numbers", [[True], [1, False], [1.0]])
def test_booleans_and_floats_are_not_part_numbers(api, multipart_settings, numbers):
    ticket = start(api, filename="film.mp4", size=11 * MIB, type="video/mp4").json()
    response = api.post(f"/studio/uploads/{ticket['session']}/parts/", {"numbers": numbers},
                        content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "numbers must be a list of up to 100 part numbers."}
