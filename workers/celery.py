"""The Celery app: Redis broker, queues partitioned by cost, thin tasks that call portal services.

Queues: `interactive` (quick, someone is waiting), `media` (transcoding), `bulk` (cleanups,
reindexing, backfills). Each gets its own worker process in the Procfile.
"""

from __future__ import annotations

import os

from celery import Celery
from django.conf import settings
from kombu import Queue

from config.environment import use_environment_settings
from portal.core.tasks import QUEUE_OF
from portal.core.tasks import Queue as TaskQueue

use_environment_settings()

# Celery prefers the CELERY_BROKER_URL and CELERY_RESULT_BACKEND environment variables to its configuration;
# the settings' values (sentinel://… when REDIS_SENTINELS is set) must be the ones every process uses.
for _name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
    if _name in os.environ:
        os.environ[_name] = getattr(settings, _name)

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue bound by its own routing key, so no explicit-exchange send can reach all three.
app.conf.task_queues = [Queue(str(name), routing_key=str(name)) for name in TaskQueue]
app.conf.task_default_queue = str(TaskQueue.INTERACTIVE)
# Where each task goes when it is sent without a queue (routes, not the deprecated `queue=` task
# option), from the one table in portal.core.tasks.
app.conf.task_routes = {str(task): {"queue": str(queue)} for task, queue in QUEUE_OF.items()}
# Tasks live in workers/tasks/, imported lazily once Django is set up (they use the ORM).
app.autodiscover_tasks(["workers"])
