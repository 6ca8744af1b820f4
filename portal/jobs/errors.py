"""Domain errors of processing jobs (views turn them into messages, never into 500s)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.jobs.models import Job


class JobError(Exception):
    """Base of every jobs error."""


class IllegalJobTransition(JobError):
    def __init__(self, *, current: str, wanted: str) -> None:
        super().__init__(f"A {current} job cannot become {wanted}.")
        self.current = current
        self.wanted = wanted


class JobAlreadyActive(JobError):
    """The asset already has a queued or running job; one at a time per asset."""

    def __init__(self, *, job: Job) -> None:
        super().__init__("This asset is already being processed.")
        self.job = job


class UnknownQueue(JobError):
    def __init__(self, *, queue: str) -> None:
        super().__init__(f"There is no task queue called {queue!r}.")
        self.queue = queue
