"""Balancers probe an instance by its own address, over plain HTTP: the health endpoints answer
whatever the Host header says, and nothing else does."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _production_like_hosts(settings) -> None:
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_a_host_name_the_portal_does_not_serve(client, path):
    response = client.get(path, HTTP_HOST="10.0.3.7:8000")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_every_other_page_still_refuses_that_host(client):
    assert client.get("/browse/", HTTP_HOST="10.0.3.7:8000").status_code == 400
    redirected = client.get("/browse/", HTTP_HOST="portal.example.com")
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")
