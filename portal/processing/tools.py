"""Running the command-line tools: never through a shell, always with a time limit, and with
the end of stderr turned into a sentence the editor can read when the tool fails."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from portal.processing.common import max_seconds
from portal.processing.errors import ProcessingError, ToolMissing, ToolTimeout

# -nostdin: a worker has no terminal, and ffmpeg would otherwise read keys from stdin.
# -v error and -nostats keep stderr to real errors, so its tail is the reason for a failure.
# -y: a re-run writes over the last run's files instead of asking (and, with no stdin, giving up).
FFMPEG = ("ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-nostats", "-y")
FFPROBE = ("ffprobe", "-v", "error", "-hide_banner")
# Inputs are opened as local files only: a "video" that is really a playlist must not make
# the worker fetch URLs (SSRF) on its behalf.
LOCAL_INPUT = ("-protocol_whitelist", "file")

CHUNK = 64 * 1024
TAIL_BYTES = 8 * 1024
REASON_CHARS = 300

# "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d1c0] moov atom not found": the bracket names ffmpeg's internals.
_FFMPEG_COMPONENT = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*")
# "Syntax Error (1234): Couldn't read xref table": poppler's prefixes say nothing to an editor.
_POPPLER_PREFIX = re.compile(r"^(?:Syntax|Command Line|Internal|I/O|Permission) (?:Error|Warning)(?: \(\d+\))?: ")
_NOISE = {"Conversion failed!", "Exiting normally, received signal 2."}


@dataclass(frozen=True)
class Completed:
    stdout: bytes
    truncated: bool  # stdout went past the limit and the tool was stopped there
    stderr: str


class _Child:
    """One child process. stdout is a pipe we read; stderr goes to a temporary file, because
    reading two pipes from one thread can deadlock, and only its tail matters. A timer kills
    the child at the deadline; leaving the `with` block kills it too (say, when a progress
    callback raises to cancel the job)."""

    def __init__(self, cmd: Sequence[str | Path], *, timeout: float | None, cwd: Path | None) -> None:
        self.argv = [os.fspath(arg) for arg in cmd]
        self.timeout = max_seconds() if timeout is None else timeout
        self.timed_out = False
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__
        try:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, cwd=cwd
            )
        except FileNotFoundError as exc:
            self._stderr.close()
            raise ToolMissing(f"{self.argv[0]} is not installed on this worker.") from exc
        self._timer = threading.Timer(self.timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def stdout(self) -> IO[bytes]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    def _expire(self) -> None:
        self.timed_out = True
        self.proc.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()

    def finish(self, failure: str, *, stopped: bool = False) -> str:
        """Wait for the exit and return stderr's tail; raise if the tool failed or ran out of time.
        `stopped`: we killed it ourselves after reading enough, so its exit status is no failure."""
        self.stdout.close()  # a child still writing gets EPIPE instead of blocking our wait
        self.proc.wait()
        self._timer.cancel()
        tail = self._stderr_tail()
        if self.timed_out:
            raise ToolTimeout(f"{failure}: it took longer than {_duration_words(self.timeout)}, the limit.")
        if self.proc.returncode != 0 and not stopped:
            raise ProcessingError(f"{failure}: {reason_from_stderr(tail, self.argv, self.proc.returncode)}")
        return tail

    def _stderr_tail(self) -> str:
        size = self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, size - TAIL_BYTES))
        return self._stderr.read().decode("utf-8", errors="replace")

    def __enter__(self) -> _Child:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._timer.cancel()
        self.kill()
        self.proc.wait()
        self.stdout.close()
        self._stderr.close()


def run(
    cmd: Sequence[str | Path],
    *,
    failure: str,
    timeout: float | None = None,
    cwd: Path | None = None,
    stdout_limit: int | None = None,
) -> Completed:
    """Run a tool to the end and return its stdout. With stdout_limit, stop the tool once it has
    written more than that many bytes (a 2,000-page PDF's text is not read into memory whole).
    `failure` starts the editor's sentence: "The PDF could not be read"."""
    chunks: list[bytes] = []
    size = 0
    truncated = False
    with _Child(cmd, timeout=timeout, cwd=cwd) as child:
        for chunk in iter(lambda: child.stdout.read(CHUNK), b""):
            chunks.append(chunk)
            size += len(chunk)
            if stdout_limit is not None and size > stdout_limit:
                truncated = True
                child.kill()
                break
        stderr = child.finish(failure, stopped=truncated)
    data = b"".join(chunks)
    return Completed(stdout=data[:stdout_limit] if truncated else data, truncated=truncated, stderr=stderr)


def stream(
    cmd: Sequence[str | Path], *, failure: str, timeout: float | None = None, chunk_size: int = CHUNK
) -> Iterator[bytes]:
    """Yield the tool's stdout in chunks as it comes (decoded audio, say), then check its exit.
    Closing the iterator early kills the tool."""
    with _Child(cmd, timeout=timeout, cwd=None) as child:
        yield from iter(lambda: child.stdout.read(chunk_size), b"")
        child.finish(failure)


def run_ffmpeg(
    args: Sequence[str | Path],
    *,
    failure: str,
    duration: float,
    on_fraction: Callable[[float], None],
    timeout: float | None = None,
    cwd: Path | None = None,
) -> float:
    """Run ffmpeg with `-progress pipe:1`, report out_time_us / duration as it encodes, and
    return the last out_time in seconds (how much media it wrote). duration 0: unknown."""
    cmd = [*FFMPEG, "-progress", "pipe:1", *args]
    out_time = 0.0
    with _Child(cmd, timeout=timeout, cwd=cwd) as child:
        for raw in child.stdout:
            key, _, value = raw.decode("ascii", errors="replace").strip().partition("=")
            if key == "out_time_us" and value.isdigit():  # "N/A" or negative before the first packet
                out_time = int(value) / 1_000_000
                if duration > 0:
                    on_fraction(min(out_time / duration, 0.99))
        child.finish(failure)
    on_fraction(1.0)  # only now: ffmpeg prints progress=end even when it then exits with an error
    return out_time


def reason_from_stderr(tail: str, argv: Sequence[str], returncode: int) -> str:
    """The last distinct messages of a tool's stderr, without ffmpeg's component tags, poppler's
    prefixes or our temporary paths: "moov atom not found; Invalid data found when processing input"."""
    lines = tail.splitlines()
    if len(tail.encode()) >= TAIL_BYTES:
        lines = lines[1:]  # the first line of a cut tail is cut too
    messages: list[str] = []
    for line in lines:
        message = _clean_line(line, argv)
        if message and message not in _NOISE:
            if message in messages:
                messages.remove(message)
            messages.append(message)
    if not messages:
        return f"the tool stopped with exit status {returncode}."
    reason = "; ".join(messages[-2:])
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"


def _clean_line(line: str, argv: Sequence[str]) -> str:
    line = _POPPLER_PREFIX.sub("", _FFMPEG_COMPONENT.sub("", line.strip()))
    for arg in argv:
        if os.sep in arg:  # a path of ours means nothing to the editor
            line = line.replace(f"{arg}: ", "").replace(arg, os.path.basename(arg))
    return line.strip()


def _duration_words(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"
