"""The portal's one circuit breaker: after a server fails, skip it for a cooldown instead of paying
a timeout on every call; then let exactly one caller try it again (recovery without a restart).

Users: the search engine (portal.search), MongoDB (portal.integrations.mongo) and the progress
Redis (portal.jobs.progress). Each keeps one breaker per process: no shared state to reach, which
is the point while things are failing; each gunicorn worker learns on its own after one failure.

States: closed (calls go through) → open (a failure: calls refused until the cooldown ends) →
half-open (the first caller after the cooldown is the probe; the others keep being refused until it
reports back, or for one more cooldown if it never does) → closed on success, open on failure.
Every read and write of the state holds the lock, so threads (gthread workers, the ASGI server's
thread pool) never see a half-written state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, name: str, cooldown_s: float | Callable[[], float],
                 *, clock: Callable[[], float] = time.monotonic) -> None:
        """`cooldown_s`: seconds, or a callable read at each failure (a setting tests may change)."""
        self.name = name
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._open_until = 0.0  # 0: closed
        self._lock = threading.Lock()

    def _cooldown(self) -> float:
        return float(self._cooldown_s() if callable(self._cooldown_s) else self._cooldown_s)

    def allows(self) -> bool:
        """May this caller try the server now? Closed: yes. Open: no until the cooldown ends, then yes
        for this one caller (the probe), which must report `succeeded()` or `failed()`."""
        with self._lock:
            if not self._open_until:
                return True
            now = self._clock()
            if now < self._open_until:
                return False
            self._open_until = now + self._cooldown()  # the others wait while the probe runs
            return True

    def failed(self) -> None:
        with self._lock:
            self._open_until = self._clock() + self._cooldown()

    def succeeded(self) -> None:
        with self._lock:
            self._open_until = 0.0

    def reset(self) -> None:
        """Closed again whatever happened (tests, or a client rebuilt for new settings)."""
        self.succeeded()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return bool(self._open_until) and self._clock() < self._open_until

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.name} {'open' if self.is_open else 'closed'}>"
