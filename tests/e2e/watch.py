"""What a page did wrong, as Chromium saw it: console errors, uncaught script errors, failed
requests and 5xx answers; and a bounded crawl of every page reachable by links."""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

from playwright.sync_api import Page, Request, Response

# Requests the player itself gives up on (hls.js switching levels, a <video> seeking or leaving):
# Chromium reports them as failed with this error, and they are no fault of the page.
ABORTED = "net::ERR_ABORTED"
MEDIA_TYPES = {"media", "xhr", "fetch"}
MEDIA_PATH = re.compile(r"\.(m3u8|ts|m4s|mp4|m4a|webm|mp3|vtt)$")
# Links a crawler must not follow: they change state, stream forever or download a file.
SKIP_PATH = re.compile(r"/(logout|delete|download|stream|publish|unpublish|retry|cancel)(/|$)|^/admin/")
VARIABLE = re.compile(r"[0-9-]")  # an id or a slug, in a path segment


@dataclass
class Watch:
    """Attached to one page; `leaving()` marks a navigation, whose aborted requests are expected."""

    problems: list[str] = field(default_factory=list)
    navigating: bool = False

    def attach(self, page: Page) -> Watch:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"script error on {page.url}: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        return self

    def _console(self, message: object) -> None:
        if getattr(message, "type", "") == "error":
            location = getattr(message, "location", {}) or {}
            self.problems.append(f"console error: {getattr(message, 'text', '')} ({location.get('url', '')})")

    def _failed(self, request: Request) -> None:
        failure = request.failure or ""
        if ABORTED in failure and (self.navigating or (request.resource_type in MEDIA_TYPES
                                                       and MEDIA_PATH.search(urlsplit(request.url).path))):
            return
        self.problems.append(f"request failed: {request.method} {request.url} ({request.resource_type}): {failure}")

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.problems.append(f"{response.status} for {response.request.method} {response.url}")


def same_origin_links(page: Page, origin: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]:not([download])", "links => links.map((a) => a.href)")
    found = []
    for href in hrefs:
        url = urldefrag(href).url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == origin and not SKIP_PATH.search(parts.path):
            found.append(url)
    return found


def shape(url: str) -> str:
    """Pages of one kind: the path with ids and slugs blotted out, and the query's parameter names."""
    parts = urlsplit(url)
    path = "/".join("*" if VARIABLE.search(segment) else segment for segment in parts.path.split("/"))
    names = sorted({pair.split("=", 1)[0] for pair in parts.query.split("&") if pair})
    return f"{path}?{','.join(names)}"


def crawl(page: Page, watch: Watch, *, origin: str, starts: list[str], max_pages: int, per_shape: int,
          visit: Callable[[str, Response | None], None]) -> list[str]:
    """Breadth first from `starts`, same origin only, at most `per_shape` pages of each shape and
    `max_pages` in all; `visit(url, response)` checks each page. Returns the pages visited."""
    queue, seen, shapes = deque(starts), set(starts), Counter[str]()
    visited: list[str] = []
    while queue and len(visited) < max_pages:
        url = queue.popleft()
        if shapes[shape(url)] >= per_shape:
            continue
        shapes[shape(url)] += 1
        watch.navigating = True  # what the previous page still had in flight is aborted now
        response = page.goto(url, wait_until="load")
        watch.navigating = False
        visit(url, response)
        visited.append(url)
        for link in same_origin_links(page, origin):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return visited
