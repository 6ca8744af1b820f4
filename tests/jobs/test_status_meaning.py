"""A job's row and a progress event read their status through one definition (StatusMeaning)."""

from __future__ import annotations

import pytest

from portal.jobs.models import Job, JobStatus, StatusMeaning
from portal.jobs.presentation import ProgressView

MEANINGS = ("is_active", "is_final", "succeeded", "failed", "cancelled")


def test_neither_the_row_nor_the_event_defines_its_own():
    for meaning in MEANINGS:
        assert meaning not in vars(Job)
        assert meaning not in vars(ProgressView)
        assert getattr(Job, meaning) is getattr(ProgressView, meaning) is getattr(StatusMeaning, meaning)


@pytest.mark.parametrize("status", JobStatus.values)
def test_row_and_event_mean_the_same(status):
    row = Job(status=status)
    event = ProgressView(job_id=1, asset_id=1, status=status, stage="", percent=0)
    assert {m: getattr(row, m) for m in MEANINGS} == {m: getattr(event, m) for m in MEANINGS}
    assert row.is_active != row.is_final  # every status is one or the other
    assert row.is_active == (status in (JobStatus.QUEUED, JobStatus.RUNNING))
