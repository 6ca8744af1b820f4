"""Login throttling per account and per client address, where the address is the one the
balancer reports and never a header the client wrote (counts live in the real Redis cache)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BALANCER = "10.0.0.2"
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _limits(settings) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 5
    settings.FORWARDED_ALLOW_IPS = [BALANCER]


def attempt(username: str, password: str, *, peer: str, forwarded_for: str = "") -> object:
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return Client(REMOTE_ADDR=peer).post(LOGIN, {"username": username, "password": password}, **headers)


def test_an_account_is_locked_after_its_failures_from_any_addresses_even_for_the_right_password():
    UserFactory(username="target")
    for number in range(3):
        assert attempt("target", "wrong", peer=BALANCER, forwarded_for=f"198.51.100.{number}").status_code == 200
    refused = attempt("target", "pw-for-tests", peer=BALANCER, forwarded_for="198.51.100.77")
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert 'value="target"' in refused.content.decode(), "the form keeps what was typed"
    assert "_auth_user_id" not in refused.wsgi_request.session


def test_an_address_is_locked_after_its_failures_on_any_accounts_while_others_still_sign_in():
    UserFactory(username="someone")
    for number in range(5):
        attempt(f"guess{number}", "wrong", peer=BALANCER, forwarded_for="203.0.113.5")
    assert attempt("someone", "pw-for-tests", peer=BALANCER, forwarded_for="203.0.113.5").status_code == 429
    signed_in = attempt("someone", "pw-for-tests", peer=BALANCER, forwarded_for="203.0.113.6")
    assert signed_in.status_code == 302


def test_a_success_clears_the_account_count():
    UserFactory(username="forgetful")
    for _ in range(2):
        attempt("forgetful", "wrong", peer=BALANCER, forwarded_for="198.51.100.9")
    assert attempt("forgetful", "pw-for-tests", peer=BALANCER, forwarded_for="198.51.100.9").status_code == 302
    for _ in range(2):
        attempt("forgetful", "wrong", peer=BALANCER, forwarded_for="198.51.100.9")
    assert attempt("forgetful", "pw-for-tests", peer=BALANCER, forwarded_for="198.51.100.9").status_code == 302


def test_forged_x_forwarded_for_from_anyone_but_the_balancer_changes_nothing():
    UserFactory(username="someone")
    for number in range(5):  # a direct client inventing a new address each time
        attempt(f"guess{number}", "wrong", peer="192.0.2.50", forwarded_for=f"10.1.1.{number}")
    assert attempt("someone", "pw-for-tests", peer="192.0.2.50", forwarded_for="10.1.1.99").status_code == 429


def test_only_the_rightmost_forwarded_address_counts_the_one_the_balancer_appended():
    UserFactory(username="someone")
    for number in range(5):  # the client prepends a fresh fake hop each time; the balancer appends the truth
        attempt(f"guess{number}", "wrong", peer=BALANCER, forwarded_for=f"10.1.1.{number}, 203.0.113.8")
    assert attempt("someone", "pw-for-tests", peer=BALANCER, forwarded_for="203.0.113.8").status_code == 429
