"""The `web` process's entry point: one ASGI application for every request, so the Procfile deploys
correctly where the platform routes all HTTP to `web` only (Heroku's router and most PaaS routers).

Progress streams (SSE) go to Django's ASGI handler: an open stream costs a coroutine on the worker's
event loop, never a thread, so hundreds of editors watching uploads cannot starve page serving.
Everything else goes to the WSGI application on a pool of GUNICORN_THREADS threads per worker
(a2wsgi), as gunicorn's gthread workers served it: the same middleware, the same sync views. gunicorn
runs it with uvicorn's worker (config/web_worker.py). Where a balancer can route the stream paths to
the Procfile's `stream` process instead (deploy/nginx), it may: both answer them alike.

The access log line is written here, in gunicorn's format (config/gunicorn.py: peer, request line,
status, bytes, milliseconds, the balancer's request id): uvicorn's own line has neither duration nor
request id, and the balancer's log is joined to the instance's by that id.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import WSGIResponder
from django.core.asgi import get_asgi_application
from django.core.wsgi import get_wsgi_application

from config.environment import use_environment_settings

use_environment_settings()
streams = get_asgi_application()  # sets Django up

from portal.jobs.streams import is_stream_path  # noqa: E402 - needs the apps loaded

_threads = threading.local()


class ThreadContextResponder(WSGIResponder):
    """Runs each request in its thread's own lasting context, as gthread did. a2wsgi runs it in a copy
    of the event loop's context, new for every request, and Django keeps its cache clients in
    context-local storage: every request built a new django-redis client (~0.5 ms) and closed it."""

    def wsgi(self, environ: Any, start_response: Any) -> None:
        context = getattr(_threads, "context", None)
        if context is None:
            context = _threads.context = contextvars.Context()
        context.run(super().wsgi, environ, start_response)


class ThreadedPages(WSGIMiddleware):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await ThreadContextResponder(self.app, self.executor, self.send_queue_size)(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


# django-stubs types WSGIHandler.__call__ as returning an HttpResponse; it is a WSGI application.
pages = ThreadedPages(cast("Any", get_wsgi_application()), workers=int(os.environ.get("GUNICORN_THREADS", "4")))
access_log = logging.getLogger("portal.access")  # gunicorn's access log handlers (config/web_worker.py)

Scope = Any  # an ASGI scope dict; a2wsgi and Django each declare their own types for it


async def application(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        await pages(scope, receive, send)
        return
    handler = streams if is_stream_path(scope["path"]) else pages
    if not access_log.handlers:
        await handler(scope, receive, send)
        return
    started, answer = time.monotonic(), {"status": 0, "bytes": 0, "logged": False}

    def log() -> None:
        if not answer["logged"]:
            answer["logged"] = True
            access_log.info("%s", _line(scope, answer, time.monotonic() - started))

    async def logged_send(message: Any) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["bytes"] += len(message.get("body", b""))
            if not message.get("more_body", False):
                log()  # before the last chunk leaves: whoever got the answer finds its line logged
        await send(message)

    try:
        await handler(scope, receive, logged_send)
    finally:
        log()  # a stream the client left, or an error before the end


def _line(scope: Scope, answer: dict[str, Any], seconds: float) -> str:
    peer = (scope.get("client") or ("-",))[0]
    query = scope.get("query_string", b"").decode("latin-1")
    target = f"{scope.get('raw_path', scope['path'].encode()).decode('latin-1')}{'?' + query if query else ''}"
    request_id = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"x-request-id"), "-")
    return (f'{peer} "{scope["method"]} {target} HTTP/{scope.get("http_version", "1.1")}" {answer["status"]} '
            f'{answer["bytes"]} {int(seconds * 1000)}ms rid={request_id}')
