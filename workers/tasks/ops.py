"""Operational tasks: a no-op for measuring the broker and checking workers end to end."""

from __future__ import annotations

from portal.core.tasks import TaskName
from workers.celery import app


@app.task(name=TaskName.OPS_NOOP, ignore_result=True, acks_late=True)
def noop() -> None:
    """Does nothing: what is left is the broker round trip and the worker's own overhead."""
