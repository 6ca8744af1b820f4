"""A small circuit breaker: after the engine fails, skip it for a while instead of paying a
timeout on every request; then let one request try it again (recovery without a restart).

Per process (each gunicorn worker learns on its own after one failed request): no shared state
to reach, which is the point while things are failing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, cooldown_s: Callable[[], float]) -> None:
        self._cooldown_s = cooldown_s
        self._open_until = 0.0
        self._lock = threading.Lock()

    def allows(self) -> bool:
        """Closed, or the cooldown is over: then this caller is the probe and the others keep
        skipping until it reports back (so a dead node costs one timeout per cooldown, not one per request)."""
        with self._lock:
            now = time.monotonic()
            if now < self._open_until:
                return False
            if self._open_until:
                self._open_until = now + self._cooldown_s()
            return True

    def failed(self) -> None:
        with self._lock:
            self._open_until = time.monotonic() + self._cooldown_s()

    def succeeded(self) -> None:
        with self._lock:
            self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until
