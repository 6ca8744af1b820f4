"""The one rate limiter: fixed windows counted in the cache (login failures, player reports).

A window starts at the first hit for (rate, who) and lasts rate.seconds; add() starts it, incr() is
atomic across instances and keeps the key's expiry. Identities are hashed into the key, so a client
can lengthen no key and read nothing back from one. With the cache down nothing is counted and
nothing is refused: the cache is what makes this cheap, and a dead cache is reported by /readyz.

Ours rather than django-ratelimit: both callers need "how many so far" without counting (a
locked-out login is refused before its password is checked; only failures count), which
django-ratelimit's decorator does not give; the whole of it is the forty lines below.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Rate:
    scope: str  # names the limit in the key: "login-account", "analytics-report"…
    limit: int  # hits allowed per window
    seconds: int  # window length


def _key(rate: Rate, who: str) -> str:
    return f"ratelimit:{rate.scope}:{hashlib.sha256(who.encode()).hexdigest()[:32]}"


def hit(rate: Rate, who: str) -> int:
    """Count one hit; the count in the current window (0 with the cache down)."""
    key = _key(rate, who)
    if cache.add(key, 1, timeout=rate.seconds):
        return 1
    try:
        return int(cache.incr(key) or 0)  # None: the cache is down and its errors ignored
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=rate.seconds)
        return 1


def exceeded(rate: Rate, who: str) -> bool:
    """Count one hit and say whether it is over the limit (the beacon's use)."""
    return hit(rate, who) > rate.limit


def reached(*checks: tuple[Rate, str]) -> bool:
    """Whether any (rate, who) has used its whole window, without counting: one cache round trip."""
    keys = {_key(rate, who): rate for rate, who in checks}
    counts = cache.get_many(list(keys))
    return any(int(counts.get(key) or 0) >= rate.limit for key, rate in keys.items())


def clear(rate: Rate, who: str) -> None:
    cache.delete(_key(rate, who))
