"""No-op task throughput through the real broker (Redis) and a real Celery worker.

Starts its own worker on a private queue and broker database, sends N no-op tasks, and times
from the first send to the queue being drained and every task acknowledged. Prints tasks/s for
the send side and end to end. Bounded: a few thousand tasks, one worker, stopped on exit.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:16379/14")
QUEUE = "bench-noop"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    env = {**os.environ, "CELERY_BROKER_URL": BROKER, "CELERY_RESULT_BACKEND": BROKER, "DJANGO_ENV": "development"}
    os.environ.update({k: env[k] for k in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")})
    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "workers", "worker", "-Q", QUEUE, "--concurrency", str(args.concurrency),
         "--without-mingle", "--without-gossip", "--loglevel", "WARNING", "-n", f"bench-{os.getpid()}@%h"],
        cwd=ROOT, env=env, start_new_session=True)
    try:
        sys.path.insert(0, str(ROOT))
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.development"
        import django  # noqa: PLC0415 - after the broker URL is in the environment

        django.setup()
        from workers.celery import app  # noqa: PLC0415

        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5) and time.monotonic() < deadline:
            pass
        app.send_task("ops.noop", queue=QUEUE)  # warm up the connection pools
        time.sleep(1)
        started = time.monotonic()
        with app.producer_pool.acquire(block=True) as producer:
            for _ in range(args.tasks):
                app.send_task("ops.noop", queue=QUEUE, producer=producer)
        sent = time.monotonic()
        while broker.llen(QUEUE) > 0 or broker.hlen("unacked") > 0:
            time.sleep(0.01)
            if time.monotonic() - started > 120:
                raise SystemExit("the worker did not drain the queue within 120 s")
        done = time.monotonic()
        print(f"No-op task throughput, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores")
        print(f"  broker {BROKER}, one worker, prefork concurrency {args.concurrency}, acks_late")
        send_rate, total_rate = args.tasks / (sent - started), args.tasks / (done - started)
        print(f"  {args.tasks} tasks sent in {sent - started:.2f} s: {send_rate:,.0f} tasks/s (send)")
        print(f"  all acknowledged after {done - started:.2f} s: {total_rate:,.0f} tasks/s end to end")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
