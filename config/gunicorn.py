"""gunicorn settings, from the environment (the Procfile's web process uses this file)."""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# The threads each worker serves pages on (config/web.py's pool; gthread's own with `gthread`).
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# uvicorn's worker running config/web.py (pages on threads, progress streams on the event loop), so
# `web` alone serves everything where the platform routes only to it. `gthread` with
# config.wsgi:application also works where a balancer sends the stream paths elsewhere.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "config.web_worker.Worker")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# SIGTERM: stop accepting, let requests in flight finish for up to this long, then exit. Below the
# platform's own kill delay (Heroku: 30 s), so nothing in flight is cut.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "25"))
keepalive = 5
# Recycle workers now and then against slow leaks, rarely enough not to cost throughput: a restart
# costs a worker seconds of CPU (Django's imports, cold connections), and 10,000 at ~1,000 requests/s
# per worker restarted each one every ten seconds under load. 0 turns recycling off. The jitter
# (a tenth) keeps the workers of one instance from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "200000"))
max_requests_jitter = max_requests // 10
# Only the balancer in front of us may set X-Forwarded-*; see SECURE_PROXY_SSL_HEADER in settings.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# Peer, request, status, bytes, duration in ms, and the request id the balancer made (its own
# access log carries the same id, so one request can be followed from nginx to Django).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}i)s'
