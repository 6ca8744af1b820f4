"""The Celery app: Redis broker, queues partitioned by cost, thin tasks that call portal services.

Queues: `interactive` (quick, someone is waiting), `media` (transcoding), `bulk` (cleanups,
reindexing, backfills). Each gets its own worker process in the Procfile.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue bound by its own routing key, so no explicit-exchange send can reach all three.
app.conf.task_queues = [Queue(name, routing_key=name) for name in ("interactive", "media", "bulk")]
app.conf.task_default_queue = "interactive"
# Where each task goes when it is sent without a queue (routes, not the deprecated `queue=` task
# option). processing.run has no fixed queue: portal.processing picks one by the asset's kind.
app.conf.task_routes = {
    "media.purge_cdn": {"queue": "interactive"},
    "uploads.cleanup": {"queue": "bulk"},
    "search.index_asset": {"queue": "interactive"},
    "search.index_collection": {"queue": "bulk"},
    "search.reindex": {"queue": "bulk"},
    "analytics.ship": {"queue": "bulk"},
    "analytics.expire": {"queue": "bulk"},
    "analytics.refresh": {"queue": "bulk"},
}
# Tasks live in workers/tasks/, imported lazily once Django is set up (they use the ORM).
app.autodiscover_tasks(["workers"])
