"""Helpers of bench/progress.py that need no Django: SSE clients, CPU and memory from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import threading
import time
from pathlib import Path

STAGE_TAG = re.compile(r'"stage":"(b\d+)"')


class Clients:
    """Raw HTTP/1.1 SSE clients on one asyncio loop in a thread (as browsers would be: elsewhere;
    here they share the cores, and parse little). Records when each tagged event arrived."""

    def __init__(self, server: str, cookie: str) -> None:
        self.host, _, port = server.partition(":")
        self.port, self.cookie = int(port), cookie
        self.arrivals: list[tuple[str, float]] = []
        self.loop = asyncio.new_event_loop()
        self.tasks: list[asyncio.Task[None]] = []
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def open(self, paths: list[str]) -> None:
        async def open_all() -> None:
            ready = [asyncio.get_running_loop().create_future() for _ in paths]
            self.tasks += [asyncio.create_task(self._client(p, f)) for p, f in zip(paths, ready, strict=True)]
            await asyncio.wait_for(asyncio.gather(*ready), timeout=60)

        asyncio.run_coroutine_threadsafe(open_all(), self.loop).result()

    async def _client(self, path: str, ready: asyncio.Future[None]) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nCookie: {self.cookie}\r\n"
                     f"Accept: text/event-stream\r\n\r\n".encode())
        status = await reader.readline()
        if b" 200 " not in status:
            ready.set_exception(RuntimeError(f"{path}: {status.decode().strip() or 'connection closed'}"))
            writer.close()
            return
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        try:
            while True:  # chunked transfer encoding: size line, chunk, CRLF
                size_line = (await reader.readline()).split(b";")[0].strip()
                if not size_line or size_line == b"0":  # the server ended the stream
                    return
                chunk = (await reader.readexactly(int(size_line, 16) + 2))[:-2].decode()
                now = time.perf_counter()
                if not ready.done():
                    ready.set_result(None)  # the opening comment and the last known state arrived
                self.arrivals += [(tag, now) for tag in STAGE_TAG.findall(chunk)]
        except (OSError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    def close(self) -> None:
        for task in self.tasks:
            self.loop.call_soon_threadsafe(task.cancel)
        time.sleep(0.5)  # let uvicorn see the disconnects before the next measurement
        self.tasks = []
        self.arrivals = []


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def busy_seconds() -> float:
    """CPU time all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds of these processes and all their descendants (honcho's gunicorn, its workers)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            total += cpu_seconds(pid) + tree_cpu(children)
    return total
