"""Settings of the task workers and the progress channel: Celery on Redis, the beat schedule, what
processing and OCR may spend, and where progress events travel. Star-imported at the end of base.py
(kept apart only to keep each settings module small); reads the environment through base's `env`."""

from __future__ import annotations

from config.settings.base import (
    ANALYTICS_SHIP_SECONDS,
    MEDIA_RECONCILE_SECONDS,
    REDIS_SENTINEL_MASTER,
    SEARCH_SWEEP_SECONDS,
    env,
    sentinel_url,
)
from portal.core.tasks import TaskName, periodic

# Celery: Redis as broker and result store. The visibility timeout outlasts the longest task,
# so a slow task is never handed to a second worker while the first still runs it.
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:16379/0")
# Redis database 2 (test.py: 4, so a test that queues a task never hands it to a developer's worker).
CELERY_BROKER_URL = sentinel_url(env.str("CELERY_BROKER_URL", default=f"{REDIS_URL.rsplit('/', 1)[0]}/2"))
CELERY_RESULT_BACKEND = sentinel_url(env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL))
# A task whose worker died without acknowledging it (SIGKILL, out of memory, a lost machine) goes back
# to its queue once it has been unacknowledged for CELERY_VISIBILITY_TIMEOUT seconds, so this must
# outlast the longest task (processing.run's hard limit is about an hour), retry countdowns included.
# Each worker sweeps for such tasks every 1/20 of it, between 1 and 60 s (kombu's own default: 100 s).
_visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    "unacked_restore_interval": max(1, min(60, _visibility_timeout // 20)),
    "unacked_restore_throttle": 1,
    # Read by kombu's and Celery's Sentinel transports only (sentinel:// URLs); plain Redis ignores them.
    "master_name": REDIS_SENTINEL_MASTER,
    "sentinel_kwargs": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "master_name": REDIS_SENTINEL_MASTER,
    "sentinel_kwargs": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A broker blip must not kill an hour-long transcode: the running task goes on (its row in
# PostgreSQL is the truth) and a late duplicate finds the job finished. Celery 6 flips the default.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Tasks that call an outside service are rate-limited so a burst (unpublishing a video purges every
# HLS segment) cannot flood it. Celery applies a rate limit per worker process (the main process of
# `celery worker`, whatever its concurrency): N workers consuming the queue together allow N times it.
# "10/s", "100/m" or "" for none.
CDN_PURGE_RATE_LIMIT = env.str("CDN_PURGE_RATE_LIMIT", default="10/s") or None
# The jobs sweeper (portal.jobs.services.job_sweep) sends again, every JOBS_SWEEP_SECONDS, any job whose
# message the broker lost: queued for JOBS_SWEEP_GRACE_SECONDS, or running with no progress for
# JOBS_RUNNING_LEASE_SECONDS (longer than processing.run's hard time limit, 3660 s), and not in the broker.
JOBS_SWEEP_SECONDS = env.float("JOBS_SWEEP_SECONDS", default=60.0)
JOBS_SWEEP_GRACE_SECONDS = env.int("JOBS_SWEEP_GRACE_SECONDS", default=300)
JOBS_RUNNING_LEASE_SECONDS = env.int("JOBS_RUNNING_LEASE_SECONDS", default=3720)
CELERY_BEAT_SCHEDULE = {
    "jobs-sweep": periodic(TaskName.JOBS_SWEEP, JOBS_SWEEP_SECONDS, expires=JOBS_SWEEP_SECONDS),
    "search-sweep-pending": periodic(TaskName.SEARCH_SWEEP_PENDING, SEARCH_SWEEP_SECONDS, expires=SEARCH_SWEEP_SECONDS),
    "uploads-cleanup": periodic(TaskName.UPLOADS_CLEANUP, 3600.0),
    # Expires: while a long backfill holds the bulk worker, queued ships are dropped, not piled up (one catches up).
    "analytics-ship": periodic(TaskName.ANALYTICS_SHIP, ANALYTICS_SHIP_SECONDS, expires=60.0),
    "analytics-expire": periodic(TaskName.ANALYTICS_EXPIRE, 24 * 3600.0),
    "analytics-refresh": periodic(TaskName.ANALYTICS_REFRESH, 60.0, expires=60.0),
    "media-reconcile": periodic(TaskName.MEDIA_RECONCILE, MEDIA_RECONCILE_SECONDS, expires=MEDIA_RECONCILE_SECONDS),
    "audit-expire": periodic(TaskName.AUDIT_EXPIRE, 24 * 3600.0),
}

# Processing (workers): limits that protect the workers from hostile or broken files.
PROCESSING_MAX_IMAGE_PIXELS = env.int("PROCESSING_MAX_IMAGE_PIXELS", default=60_000_000)  # decompression bombs
PROCESSING_MAX_SECONDS = env.int("PROCESSING_MAX_SECONDS", default=3600)  # per ffmpeg/poppler run
PROCESSING_WORK_DIR = env.str("PROCESSING_WORK_DIR", default="")  # empty: the system temp dir
# processing.run retries transient failures (S3 unreachable, a tool missing mid-deploy) this many
# times, waiting a random time up to BACKOFF × 2^n seconds before retry n (capped at 300 s), then
# fails the job. The defaults wait at most about 2 minutes in all.
PROCESSING_MAX_RETRIES = env.int("PROCESSING_MAX_RETRIES", default=6)
PROCESSING_RETRY_BACKOFF_SECONDS = env.int("PROCESSING_RETRY_BACKOFF_SECONDS", default=2)
# OCR (processing.ocr, on `bulk`): the Tesseract languages the workers have (English is always read),
# and the bounds one scan cannot exceed: pages read, seconds per page and per run, memory per process,
# pixels per image (decompression bombs) and per page (bigger pages are left out, not read).
OCR_LANGUAGES = env.list("OCR_LANGUAGES", default=["eng", "fra", "deu", "spa"])
OCR_MAX_PAGES = env.int("OCR_MAX_PAGES", default=500)
OCR_PAGE_TIMEOUT_SECONDS = env.int("OCR_PAGE_TIMEOUT_SECONDS", default=180)
OCR_MAX_SECONDS = env.int("OCR_MAX_SECONDS", default=4 * 3600)
OCR_MAX_MEMORY_MB = env.int("OCR_MAX_MEMORY_MB", default=2048)
OCR_MAX_IMAGE_MPIXELS = env.int("OCR_MAX_IMAGE_MPIXELS", default=200)
OCR_SKIP_BIG_MPIXELS = env.int("OCR_SKIP_BIG_MPIXELS", default=100)
# Progress events: Redis pub/sub (one channel per asset, one for the dashboard), SSE heartbeat.
PROGRESS_REDIS_URL = sentinel_url(env.str("PROGRESS_REDIS_URL", default=REDIS_URL.rsplit("/", 1)[0] + "/3"))
PROGRESS_HEARTBEAT_SECONDS = env.int("PROGRESS_HEARTBEAT_SECONDS", default=15)
