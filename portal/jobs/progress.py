"""Progress events: built from a job, published through Redis pub/sub, last state kept per asset.

The event (ARCHITECTURE.md, "Shared contracts"):

    {"job": 7, "asset": 3, "stage": "hls", "percent": 42, "status": "running", "at": "2026-…+00:00"}

plus "error" when the job failed. Each event goes to `progress:asset:<id>` (the asset page's
stream) and `progress:dashboard` (the jobs dashboard), and replaces `progress:last:asset:<id>`,
so a stream that opens later starts from the last known state instead of a blank bar.

Publishing is synchronous (workers are sync) and never raises: progress is a convenience for
the editor watching, the job's truth is its row in PostgreSQL. A Redis failure is logged and
publishing pauses for a few seconds, so a worker does not wait on a dead server at every step.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import NotRequired, TypedDict

import redis
from django.conf import settings
from django.utils import timezone

from portal.core.breaker import CircuitBreaker
from portal.integrations import redis_client
from portal.jobs.models import Job

log = logging.getLogger(__name__)

DASHBOARD_CHANNEL = "progress:dashboard"
LAST_STATE_TTL_S = 24 * 3600  # past a day, the stream falls back to the job's row
SOCKET_TIMEOUT_S = 0.25
PAUSE_AFTER_FAILURE_S = 5.0


class ProgressEvent(TypedDict):
    job: int
    asset: int
    stage: str
    percent: int
    status: str
    at: str
    error: NotRequired[str]


def asset_channel(asset_id: int) -> str:
    return f"progress:asset:{asset_id}"


def last_state_key(asset_id: int) -> str:
    return f"progress:last:asset:{asset_id}"


def event_for(job: Job) -> ProgressEvent:
    """The event for a job's current row (state changes, and the stream's fallback)."""
    return make_event(job_id=job.pk, asset_id=job.asset_id, stage=job.stage, percent=job.percent,
                      status=job.status, error=job.error)


def make_event(*, job_id: int, asset_id: int, stage: str, percent: int, status: str, error: str = "") -> ProgressEvent:
    event: ProgressEvent = {"job": job_id, "asset": asset_id, "stage": stage, "percent": percent,
                            "status": status, "at": timezone.now().isoformat()}
    if status == "failed":
        event["error"] = error
    return event


def decode(raw: bytes | str | None) -> ProgressEvent | None:
    """An event read back from Redis; None for anything that is not one (never raises)."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(value, dict) or not {"job", "asset", "status"} <= value.keys():
        return None
    return value  # type: ignore[return-value]


def encode(event: ProgressEvent) -> str:
    return json.dumps(event, separators=(",", ":"))


# One round trip, atomic: store the last state and publish on both channels. A *guarded* event
# (a worker's frequent progress report, sent without a row lock) is dropped when the asset's last
# state is already final for that job, or belongs to a newer job: a late "running 97 %" must never
# overwrite "cancelled" or a newer job's bar. State changes come from services holding the row
# lock, after commit, and always win.
_PUBLISH_LUA = """
if ARGV[3] == '1' then
  local last = redis.call('GET', KEYS[1])
  if last then
    local ok, prev = pcall(cjson.decode, last)
    if ok and type(prev) == 'table' then
      local prev_job = tonumber(prev['job']) or 0
      local job = tonumber(ARGV[2])
      if prev_job > job then return 0 end
      local s = prev['status']
      if prev_job == job and (s == 'succeeded' or s == 'failed' or s == 'cancelled') then return 0 end
    end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[4]))
redis.call('PUBLISH', ARGV[5], ARGV[1])
redis.call('PUBLISH', ARGV[6], ARGV[1])
return 1
"""

PUBLISHED = "published"
DROPPED = "dropped"  # guarded event refused: the job already finished (or a newer one exists)
UNAVAILABLE = "unavailable"  # Redis failed; logged


class _Publisher:
    """One client per URL and process. redis-py resets its pool after a fork (Celery's prefork)."""

    def __init__(self, url: str) -> None:
        # Through Sentinel when the URL says sentinel://: after a failover, the next connection goes to the new master.
        self.client = redis_client.client(url, socket_timeout=SOCKET_TIMEOUT_S,
                                          socket_connect_timeout=SOCKET_TIMEOUT_S, health_check_interval=30)
        self.script = self.client.register_script(_PUBLISH_LUA)
        self.breaker = CircuitBreaker(f"progress redis {url}", PAUSE_AFTER_FAILURE_S)

    def publish(self, event: ProgressEvent, *, guarded: bool) -> str:
        if not self.breaker.allows():
            return UNAVAILABLE
        args = [encode(event), event["job"], int(guarded), LAST_STATE_TTL_S,
                asset_channel(event["asset"]), DASHBOARD_CHANNEL]
        try:
            stored = self.script(keys=[last_state_key(event["asset"])], args=args)
        except redis.RedisError:
            self.breaker.failed()
            log.warning("progress: could not publish job %s (paused %.0fs)", event["job"], PAUSE_AFTER_FAILURE_S,
                        exc_info=True)
            return UNAVAILABLE
        self.breaker.succeeded()
        return PUBLISHED if stored else DROPPED


@cache
def _publisher(url: str) -> _Publisher:
    return _Publisher(url)


def publish(event: ProgressEvent, *, guarded: bool = False) -> str:
    """Publish one event; returns PUBLISHED, DROPPED or UNAVAILABLE and never raises."""
    return _publisher(settings.PROGRESS_REDIS_URL).publish(event, guarded=guarded)
