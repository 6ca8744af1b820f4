"""Login throttling: failed sign-ins counted per account and per client address (portal.core.ratelimit).

After LOGIN_FAILURES_PER_ACCOUNT failures for one username (from anywhere), or
LOGIN_FAILURES_PER_ADDRESS failures from one address (for any usernames), further attempts are
refused without checking the password until LOGIN_LOCKOUT_SECONDS have passed since the first
counted failure. A success clears the account's count. The address is the one the balancer
reports (portal.ops.proxy), never a header the client wrote.

Every sign-in form goes through here: the portal's login view and the admin's (portal.accounts.admin)
refuse before authenticating, and failures and successes are counted from Django's own
user_login_failed / user_logged_in signals (receivers.py), whichever form sent them.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from portal.core import ratelimit
from portal.ops.proxy import client_ip


def account_name(username: str) -> str:
    """The name as authentication sees it: the form strips it and NFKC-normalises it (so "ｅｄｉｔｏｒ"
    signs in as "editor"); casefolded too, so that no spelling of one account gets its own count."""
    return AbstractBaseUser.normalize_username(username.strip()).casefold()


def _account(username: str) -> tuple[ratelimit.Rate, str]:
    rate = ratelimit.Rate("login-account", settings.LOGIN_FAILURES_PER_ACCOUNT, settings.LOGIN_LOCKOUT_SECONDS)
    return rate, account_name(username)


def _address(address: str) -> tuple[ratelimit.Rate, str]:
    rate = ratelimit.Rate("login-address", settings.LOGIN_FAILURES_PER_ADDRESS, settings.LOGIN_LOCKOUT_SECONDS)
    return rate, address


def login_blocked(*, username: str, address: str) -> bool:
    return ratelimit.reached(_account(username), _address(address))


def request_blocked(request: HttpRequest) -> bool:
    """For a sign-in POST: whether it must be refused before its password is checked."""
    return login_blocked(username=request.POST.get("username", ""), address=client_ip(request))


def lockout_minutes() -> int:
    return max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)


def login_failed(*, username: str, address: str | None) -> None:
    ratelimit.hit(*_account(username))
    if address is not None:  # authenticate() called outside a request has no address to count
        ratelimit.hit(*_address(address))


def login_succeeded(*, username: str) -> None:
    ratelimit.clear(*_account(username))
