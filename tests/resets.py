"""Resets of a production module's per-process state that only tests need (a test that moves a
setting or restarts a server): kept here, so the portal's modules carry no code for them."""

from __future__ import annotations

import os

from portal.integrations.mongo import client as mongo_client
from portal.ops import readiness


def reset_mongo_client() -> None:
    """Forget the MongoDB client and close its breaker: the next call builds one from the settings."""
    with mongo_client._lock:
        state = mongo_client._state
        if state["client"] is not None and state["pid"] == os.getpid():
            state["client"].close()
        state.update(pid=None, client=None)
    mongo_client.breaker.reset()


def forget_readiness() -> None:
    """Drop /readyz's one-second memo, so the next request probes again."""
    with readiness._memo_lock:
        readiness._memo = None
