"""Shared shapes of the pipeline: the progress callback, outputs, results and small helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from portal.processing.errors import ProcessingError

# (stage name, percent 0-100). The percent is for the whole file, not the stage, so a
# progress bar fed from it never moves backwards when the next stage starts. Stage names:
# image metadata, renditions; video probe, poster, hls, storyboard; audio probe, waveform,
# preview; document metadata, text, thumbnails (portal/jobs/presentation.py words them).
Progress = Callable[[str, int], None]

# (path relative to out_dir with "/" separators, content type) of one file the caller uploads.
Output = tuple[str, str]

JPEG = "image/jpeg"
WEBP = "image/webp"
PNG = "image/png"


@dataclass(frozen=True)
class RawMetadata:
    """Everything the tools said about the file, kept from the pipeline's own runs of them (no
    tool runs a second time for it): sections by reader ("ffprobe", "image", "pdfinfo", "mime"),
    the extracted text, and notes on what a reader could not read."""

    sections: dict[str, Any]
    text: str | None = None
    notes: list[str] = field(default_factory=list)


class Result(Protocol):
    """What every processor returns: metadata for Asset.media, the files to upload and the raw
    metadata for MongoDB."""

    @property
    def outputs(self) -> list[Output]: ...

    def metadata(self) -> dict[str, Any]: ...

    def raw_metadata(self) -> RawMetadata: ...


def no_progress(stage: str, percent: int) -> None:
    """A Progress that ignores what it is told, for callers that do not watch."""


class Stages:
    """Turns a stage's own fraction (0.0-1.0) into the file's overall percent.

    Weights say how much of the total time a stage usually takes. Percent never goes down,
    and a percent already reported is not reported again: ffmpeg reports twice a second and
    each call may become a Redis message.
    """

    def __init__(self, progress: Progress, weights: Mapping[str, int]) -> None:
        self._progress = progress
        total = sum(weights.values())
        done = 0
        self._spans: dict[str, tuple[float, float]] = {}
        for stage, weight in weights.items():
            self._spans[stage] = (done * 100 / total, (done + weight) * 100 / total)
            done += weight
        self._last: tuple[str, int] | None = None

    def report(self, stage: str, fraction: float) -> None:
        start, end = self._spans[stage]
        # The epsilon keeps a finished last stage at 100, not 99.99999 truncated to 99.
        percent = int(start + (end - start) * min(max(fraction, 0.0), 1.0) + 1e-6)
        if self._last is not None:
            percent = max(percent, self._last[1])
            if self._last == (stage, percent):
                return
        self._last = (stage, percent)
        self._progress(stage, percent)

    def start(self, stage: str) -> None:
        self.report(stage, 0.0)

    def fraction_callback(self, stage: str) -> Callable[[float], None]:
        return lambda fraction: self.report(stage, fraction)


def max_seconds() -> float:
    """The wall-clock limit for one tool run, from settings (PROCESSING_MAX_SECONDS)."""
    return float(getattr(settings, "PROCESSING_MAX_SECONDS", 3600))


def require_content(src: Path, noun: str) -> None:
    """Refuse a missing or zero-byte file before any tool spends time on it."""
    try:
        size = src.stat().st_size
    except FileNotFoundError:
        raise ProcessingError(f"The {noun} file is missing.") from None
    if size == 0:
        raise ProcessingError(f"The {noun} file is empty (0 bytes).")


def fit(width: int, height: int, long_side: int) -> tuple[int, int]:
    """Width and height scaled so the longer side is at most long_side; never enlarged."""
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def relative(path: Path, out_dir: Path) -> str:
    return path.relative_to(out_dir).as_posix()
