"""The Procfile where the platform routes every request to `web` and nothing else (Heroku's router and
most PaaS routers): honcho runs `web` alone, in production mode. 200 editors' progress streams stay
open on one worker of 4 threads, live, while pages keep answering: streams are coroutines on uvicorn's
event loop (config/web.py), not threads (under gthread, the fifth stream would wait for a thread and
pages behind it). What the streams cost pages in requests/s: bench/paas_streams.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from portal.jobs import services as jobs
from tests.deploy.test_honcho import HONCHO, answer, paas_env
from tests.factories import AssetFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

WEB_PORT = 8653
STREAMS = 200
HTTPS = {"X-Forwarded-Proto": "https"}  # from 127.0.0.1, the trusted proxy: what the platform's router sends


def sign_in(base: str, username: str, password: str) -> str:
    """The login form over the router's HTTPS (cookies are Secure, so they travel by hand): the session id."""
    login = f"{base}/accounts/login/"
    form = requests.get(login, headers=HTTPS, timeout=10)
    token = form.cookies["csrftoken"]
    response = requests.post(login, data={"username": username, "password": password, "csrfmiddlewaretoken": token},
                             headers={**HTTPS, "Cookie": f"csrftoken={token}",
                                      "Referer": f"https://127.0.0.1:{WEB_PORT}/accounts/login/"},
                             allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    return response.cookies["sessionid"]


class OpenStreams:
    """STREAMS raw connections to the dashboard's stream, held open on an event loop of their own."""

    def __init__(self, session_id: str) -> None:
        self.request = (f"GET /studio/jobs/stream HTTP/1.1\r\nHost: 127.0.0.1:{WEB_PORT}\r\n"
                        f"X-Forwarded-Proto: https\r\nCookie: sessionid={session_id}\r\n\r\n").encode()
        self.loop = asyncio.new_event_loop()
        self.received: list[bytes] = [b""] * STREAMS
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _one(self, index: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", WEB_PORT)
        try:
            writer.write(self.request)
            await writer.drain()
            while chunk := await reader.read(65536):
                self.received[index] += chunk
        finally:
            writer.close()

    def open(self) -> None:
        self.thread.start()
        for index in range(STREAMS):
            asyncio.run_coroutine_threadsafe(self._one(index), self.loop)

    def wait_for(self, marker: bytes, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            count = sum(marker in received for received in self.received)
            if count == STREAMS:
                return count
            time.sleep(0.2)
        return sum(marker in received for received in self.received)

    async def _cancel_all(self) -> None:
        streams = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in streams:
            task.cancel()  # closes its connection (the finally above)
        await asyncio.gather(*streams, return_exceptions=True)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._cancel_all(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@contextlib.contextmanager
def web_alone(tmp_path: Path):
    env = {**paas_env(), "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4"}
    log_path = tmp_path / "honcho.log"
    with log_path.open("wb") as log:
        honcho = subprocess.Popen([HONCHO, "start", "-p", str(WEB_PORT), "web"], cwd=Path(__file__).parents[2],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while answer(f"http://127.0.0.1:{WEB_PORT}/healthz") != 200:
            assert honcho.poll() is None, log_path.read_text()[-4000:]
            assert time.monotonic() < deadline, log_path.read_text()[-4000:]
            time.sleep(0.5)
        yield f"http://127.0.0.1:{WEB_PORT}", log_path
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(honcho.pid, signal.SIGTERM)
        try:
            honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(timeout=10)


def test_web_alone_holds_200_live_progress_streams_on_four_threads_and_pages_keep_answering(tmp_path: Path):
    UserFactory(username="paas-editor", editor=True)
    AssetFactory.create_batch(3)
    with web_alone(tmp_path) as (base, log_path):
        streams = OpenStreams(sign_in(base, "paas-editor", "pw-for-tests"))
        streams.open()
        try:
            opened = streams.wait_for(b"retry: 3000")
            assert opened == STREAMS, f"{opened} of {STREAMS} streams opened\n{log_path.read_text()[-3000:]}"
            assert all(b"HTTP/1.1 200" in received for received in streams.received)
            # With every stream open, pages still answer (4 threads, none held by a stream).
            for path in ("/healthz", "/", "/browse/", "/about/", "/accounts/login/") * 4:
                assert requests.get(f"{base}{path}", headers=HTTPS, timeout=10).status_code == 200, path
            # And every stream is live: one job's event reaches all of them.
            job = jobs.job_create(asset_id=AssetFactory().pk, queue="media", enqueue=False)
            reached = streams.wait_for(f"event: job-{job.pk}".encode())
            assert reached == STREAMS, f"the job's event reached {reached} of {STREAMS} streams"
        finally:
            streams.close()
    log = log_path.read_text()
    assert '"GET /studio/jobs/stream HTTP/1.1" 200' in log  # the access log line of a stream, at its end
