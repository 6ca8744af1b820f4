"""The scheme and client address come from X-Forwarded-* only when the balancer sent them."""

from __future__ import annotations

import logging

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from portal.ops.proxy import RequestIdFilter, TrustedProxyMiddleware, client_ip

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


def test_log_lines_written_while_serving_carry_the_balancers_request_id_and_only_its():
    seen = []

    def view(request: HttpRequest) -> HttpResponse:
        record = logging.LogRecord("portal", logging.INFO, __file__, 1, "serving", None, None)
        RequestIdFilter().filter(record)
        seen.append(record.request_id)  # type: ignore[attr-defined]
        return HttpResponse("ok")

    for peer in (BALANCER, "192.0.2.9"):
        TrustedProxyMiddleware(view)(RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_REQUEST_ID="abc123"))
    after = logging.LogRecord("portal", logging.INFO, __file__, 1, "idle", None, None)
    RequestIdFilter().filter(after)
    assert seen == ["abc123", "-"]
    assert after.request_id == "-"  # type: ignore[attr-defined]


@pytest.mark.parametrize("allowed", [["10.0.0.0/24"], ["192.0.2.1", " 10.0.0.2"], ["*"]])
def test_trusted_proxies_may_be_networks_and_spaces_after_commas_do_not_matter(settings, allowed):
    settings.FORWARDED_ALLOW_IPS = allowed  # as gunicorn and uvicorn read the same variable
    request, _ = through_middleware(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert client_ip(request) == "198.51.100.4"


def test_a_peer_outside_the_trusted_network_is_not_believed(settings):
    settings.FORWARDED_ALLOW_IPS = ["10.0.1.0/24"]
    request, _ = through_middleware(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR="198.51.100.4")
    assert client_ip(request) == BALANCER
