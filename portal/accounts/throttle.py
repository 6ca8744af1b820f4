"""Login throttling: failed sign-ins counted per account and per client address in the cache.

After LOGIN_FAILURES_PER_ACCOUNT failures for one username (from anywhere), or
LOGIN_FAILURES_PER_ADDRESS failures from one address (for any usernames), further attempts are
refused without checking the password until LOGIN_LOCKOUT_SECONDS have passed since the first
counted failure. A success clears the account's count. The address is the one the balancer
reports (portal.ops.proxy), never a header the client wrote. With the cache down, counting
stops (the login page keeps working): the cache is what makes this cheap, and a dead cache is
already reported by /readyz.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _keys(*, username: str, address: str) -> dict[str, str]:
    return {"account": _key("account", username), "address": _key("address", address)}


def _limits() -> dict[str, int]:
    return {"account": settings.LOGIN_FAILURES_PER_ACCOUNT, "address": settings.LOGIN_FAILURES_PER_ADDRESS}


def login_blocked(*, username: str, address: str) -> bool:
    counts = cache.get_many(list(_keys(username=username, address=address).values()))
    limits = _limits()
    return any(int(counts.get(key) or 0) >= limits[kind]
               for kind, key in _keys(username=username, address=address).items())


def login_failed(*, username: str, address: str) -> None:
    for key in _keys(username=username, address=address).values():
        # add() starts the window (a no-op if it runs); incr() is atomic across instances.
        cache.add(key, 0, timeout=settings.LOGIN_LOCKOUT_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr, or the cache is down
            cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


def login_succeeded(*, username: str) -> None:
    cache.delete(_key("account", username))
