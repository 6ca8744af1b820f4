"""The web process's ASGI entry (config/web.py) serves pages through a2wsgi on a thread pool; each
thread keeps one lasting context, so Django's context-local cache clients live as long as the thread
(as under gthread) instead of being built and closed for every request."""

from __future__ import annotations

import asyncio
from typing import Any

from django.core.cache import caches

from config.web import ThreadedPages


async def get(app: Any, path: str) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"]


def test_requests_on_one_thread_share_its_cache_client():
    seen: list[int] = []

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(id(caches["default"]))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    app = ThreadedPages(wsgi, workers=1)

    async def three() -> list[int]:
        return [await get(app, "/") for _ in range(3)]

    assert asyncio.run(three()) == [200, 200, 200]
    assert len(seen) == 3
    assert len(set(seen)) == 1  # one client for the thread, not one per request
