"""Helpers of the stream benchmarks (bench/progress.py, bench/paas_streams.py) that need Django set up:
the editor, assets and jobs the streams watch, the events a worker would publish, and wrk."""

from __future__ import annotations

import re
import subprocess
import threading

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore

from portal.accounts.models import User
from portal.accounts.services import user_make_editor
from portal.jobs import progress
from portal.jobs.models import Job, JobStatus
from portal.library.models import Asset, Kind

STREAMS = 200
ASSETS = 20


def seed() -> tuple[str, list[Job]]:
    """An editor's session cookie, and ASSETS assets each with a running job (rows, not services:
    job_create would send tasks to a broker, and seeding is not what is measured)."""
    editor = User.objects.create_user("bench-editor", password="bench-only-password")  # noqa: S106
    user_make_editor(user=editor)
    session = SessionStore()
    session.update({"_auth_user_id": str(editor.pk), "_auth_user_backend": settings.AUTHENTICATION_BACKENDS[0],
                    "_auth_user_hash": editor.get_session_auth_hash()})
    session.create()
    jobs = [Job.objects.create(asset=Asset.objects.create(kind=Kind.VIDEO, title=f"Bench {n}", slug=f"bench-{n}",
                                                          owner=editor), status=JobStatus.RUNNING, stage="hls")
            for n in range(ASSETS)]
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}", jobs


def publish(job: Job, stage: str, percent: int) -> None:
    progress.publish(progress.make_event(job_id=job.pk, asset_id=job.asset_id, stage=stage, percent=percent,
                                         status="running"), guarded=True)


def wrk(url: str, seconds: int) -> float:
    # A new connection per request: with keep-alive, wrk's 16 connections stay with whichever
    # gunicorn worker accepted them, and a round where one worker got most of them runs at half
    # speed (requests/s jumped between ~1,300 and ~3,800 from round to round).
    argv = ["wrk", "-t2", "-c16", f"-d{seconds}s", "-H", "Connection: close", url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    found = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.MULTILINE)
    if found is None:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    return float(found.group(1))


def stream_paths(jobs: list[Job]) -> list[str]:
    return [f"/studio/assets/{jobs[n % len(jobs)].asset_id}/progress/stream" for n in range(STREAMS)]


def feed(jobs: list[Job], stop_events: threading.Event) -> None:
    """2 events per second per asset, as a worker reporting each whole percent of a 50 s transcode."""
    n = 0
    while not stop_events.wait(0.5 / len(jobs)):
        job = jobs[n % len(jobs)]
        publish(job, "hls", (n // len(jobs)) % 100)
        n += 1
