"""Two Celery worker hosts (SCALE=2 only): `worker-a` and `worker-b`, each one `celery worker`
consuming the Procfile's three queues under a node name of its own (worker@host-a, worker@host-b).
They share only what two machines would share: PostgreSQL, Redis (broker) and S3. Each has its own
folder under var/ as its working directory, temp dir (TMPDIR) and PROCESSING_WORK_DIR, so nothing
a job writes is on a shared disk. Like the balanced web instances they inherit the environment
`bin/stack` runs in (DATABASE_URL, CELERY_BROKER_URL…): the same commands serve a developer's
portal or a test's database. Beat is not here: exactly one per deployment (bin/dev embeds it)."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

from .. import config
from ..service import Launch, Service

VENV_BIN = config.ROOT / ".venv" / "bin"
QUEUES = "interactive,media,bulk"


class WorkerHost(Service):
    port = 0  # listens on nothing: ready when Celery logs that the node is ready
    start_timeout = 120.0  # a cold worker imports Django and every task module
    stop_signal = signal.SIGTERM  # SIGTERM: warm shutdown, the running task finishes (or goes back unacknowledged)
    depends_on = ("postgres", "redis", "s3")

    @property
    def node(self) -> str:
        return self.url  # the node's name is its address: pings, inspect and Flower use it

    @property
    def temp_dir(self) -> Path:
        return self.data_dir / "tmp"

    def prepare(self) -> None:
        self.temp_dir.mkdir(parents=True, exist_ok=True)

    def command(self) -> Launch:
        concurrency = os.environ.get("STACK_WORKER_CONCURRENCY", "1")
        return Launch([str(VENV_BIN / "celery"), "-A", "workers", "worker", "-Q", QUEUES, "--concurrency",
                       concurrency, "-n", self.node, "--without-gossip", "-l", "INFO"],
                      cwd=self.data_dir,
                      env={
                          "PYTHONPATH": str(config.ROOT),  # the project, from a working directory of its own
                          # Development unless the caller chose (a plain `bin/stack up` has no DJANGO_ENV,
                          # and production settings would stop for a missing secret).
                          "DJANGO_ENV": os.environ.get("DJANGO_ENV") or "development",
                          "TMPDIR": str(self.temp_dir),
                          "PROCESSING_WORK_DIR": str(self.temp_dir),
                          "PYTHONUNBUFFERED": "1",
                      })

    def ready(self) -> bool:
        """Celery's own "<node> ready." line, written after the latest start marker of this log."""
        text = self.log_file.read_text(errors="replace")
        latest = text.rsplit(f" starting {self.name}\n", 1)[-1]
        return re.search(rf"{re.escape(self.node)} ready\.", latest) is not None

    def version(self) -> str:
        return f"portal (celery, {QUEUES})"


class WorkerA(WorkerHost):
    name = "worker-a"
    url = "worker@host-a"


class WorkerB(WorkerHost):
    name = "worker-b"
    url = "worker@host-b"
