"""gunicorn settings, from the environment (the Procfile's web process uses this file)."""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# The threads each worker serves pages on (config/web.py's pool; gthread's own with WEB_WORKER=gthread).
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# WEB_WORKER=asgi (the default): uvicorn's worker running config/web.py, pages on those threads and the
# progress streams on the event loop, so `web` alone is right where the platform routes all HTTP to it.
# WEB_WORKER=gthread: config/wsgi.py on gthread workers, pages only, about 1.4x the page throughput
# (bench/paas_streams.py), for a balancer that routes the stream paths to the `stream` process.
web_worker = os.environ.get("WEB_WORKER", "asgi")
if web_worker not in ("asgi", "gthread"):
    raise SystemExit(f"WEB_WORKER must be asgi or gthread, not {web_worker!r}")
wsgi_app = "config.wsgi:application" if web_worker == "gthread" else "config.web:application"
worker_class = "gthread" if web_worker == "gthread" else "config.web_worker.Worker"
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
