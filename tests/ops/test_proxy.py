"""The scheme and client address come from X-Forwarded-* only when the balancer sent them."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from portal.ops.proxy import TrustedProxyMiddleware, client_ip

BALANCER = "10.0.0.2"


@pytest.fixture(autouse=True)
def _balancer(settings) -> None:
    settings.FORWARDED_ALLOW_IPS = [BALANCER]
    settings.PORTAL_INSTANCE = "web7"


def through_middleware(**meta: str) -> tuple[HttpRequest, HttpResponse]:
    request = RequestFactory().get("/", **meta)
    response = TrustedProxyMiddleware(lambda req: HttpResponse("ok"))(request)
    return request, response


def test_the_balancer_is_believed_about_scheme_and_client():
    request, response = through_middleware(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_PROTO="https",
                                           HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert request.is_secure()
    assert client_ip(request) == "198.51.100.4"
    assert response["X-Served-By"] == "web7"


def test_anyone_else_is_not():
    request, _ = through_middleware(REMOTE_ADDR="192.0.2.9", HTTP_X_FORWARDED_PROTO="https",
                                    HTTP_X_FORWARDED_FOR="198.51.100.4", HTTP_X_REAL_IP="198.51.100.5")
    assert not request.is_secure()
    assert client_ip(request) == "192.0.2.9"
    assert "HTTP_X_FORWARDED_FOR" not in request.META
    assert "HTTP_X_REAL_IP" not in request.META


def test_garbage_from_the_balancer_falls_back_to_the_peer():
    request, _ = through_middleware(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(request) == BALANCER
