"""The login throttle holds on every sign-in form (the admin's too) and for every spelling of a name
that authentication treats as the same account (counts live in the real Redis cache)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/"
LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _limits(settings) -> None:
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FAILURES_PER_ADDRESS = 100


def admin_attempt(username: str, password: str, *, peer: str = "192.0.2.10") -> object:
    return Client(REMOTE_ADDR=peer).post(ADMIN_LOGIN, {"username": username, "password": password,
                                                       "next": "/admin/"})


def test_the_admin_login_is_locked_after_the_accounts_failures_even_for_the_right_password():
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    for number in range(3):
        assert admin_attempt("boss", "wrong", peer=f"198.51.100.{number}").status_code == 200
    refused = admin_attempt("boss", "pw-for-tests", peer="198.51.100.50")
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert "_auth_user_id" not in refused.wsgi_request.session


def test_admin_and_portal_failures_share_one_count():
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    Client().post(LOGIN, {"username": "boss", "password": "wrong"})
    Client().post(LOGIN, {"username": "boss", "password": "wrong"})
    admin_attempt("boss", "wrong")
    assert Client().post(LOGIN, {"username": "boss", "password": "pw-for-tests"}).status_code == 429
    assert admin_attempt("boss", "pw-for-tests").status_code == 429


def test_an_admin_sign_in_still_works_below_the_limit_and_clears_the_count():
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    for _ in range(2):
        admin_attempt("boss", "wrong")
    assert admin_attempt("boss", "pw-for-tests").status_code == 302
    for _ in range(2):
        admin_attempt("boss", "wrong")
    assert admin_attempt("boss", "pw-for-tests").status_code == 302


@pytest.mark.parametrize("form", [LOGIN, ADMIN_LOGIN])
def test_every_spelling_that_signs_in_as_one_account_counts_against_that_account(form):
    UserFactory(username="editor", is_staff=True, is_superuser=True)
    spellings = ["ｅｄｉｔｏｒ", "ｅditor", "eｄitor"]
    # Each spelling really is the same account to authentication:
    assert Client().post(LOGIN, {"username": spellings[0], "password": "pw-for-tests"}).status_code == 302
    for spelling in spellings:
        Client().post(form, {"username": spelling, "password": "wrong"})
    for spelling in [*spellings, "editor", "EDITOR"]:
        assert Client().post(form, {"username": spelling, "password": "pw-for-tests"}).status_code == 429, spelling
