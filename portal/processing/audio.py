"""Audio: duration, a waveform of peak values for the player, and a loudness-normalised preview."""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portal.processing.common import Output, Progress, RawMetadata, Stages, no_progress
from portal.processing.errors import ProcessingError
from portal.processing.probe import duration, measured_duration, probe, streams
from portal.processing.tools import FFMPEG, LOCAL_INPUT, run_ffmpeg, stream

WEIGHTS = {"probe": 2, "waveform": 38, "preview": 60}
PEAKS = 200
# 8 kHz mono is plenty for a picture of loudness 200 bars wide, and an hour of it is 58 MB
# streamed through, never held.
SAMPLE_RATE = 8000
FULL_SCALE = 32768  # s16: the largest magnitude is -32768
PREVIEW = "preview.m4a"
# EBU R128-style targets used by streaming services: -16 LUFS integrated, peaks under -1.5 dBTP.
LOUDNORM = "loudnorm=I=-16:TP=-1.5:LRA=11"


@dataclass(frozen=True)
class AudioResult:
    duration: float
    codec: str
    sample_rate: int | None
    channels: int | None
    peaks: list[float] = field(repr=False)  # PEAKS values in 0..1 (1 = full scale), in time order
    preview: str  # relative to out_dir
    probe: dict[str, Any] = field(default_factory=dict, repr=False)  # ffprobe's whole answer

    @property
    def outputs(self) -> list[Output]:
        return [(self.preview, "audio/mp4")]

    def raw_metadata(self) -> RawMetadata:
        return RawMetadata({"ffprobe": self.probe})

    def metadata(self) -> dict[str, Any]:
        return {
            "duration": round(self.duration, 3),
            "codecs": {"audio": self.codec},
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "peaks": self.peaks,
            "preview": self.preview,
        }


def process_audio(src: Path, out_dir: Path, progress: Progress = no_progress) -> AudioResult:
    stages = Stages(progress, WEIGHTS)
    stages.start("probe")
    info = probe(src, noun="audio", kind="audio")
    sounds = streams(info, "audio")
    if not sounds:
        raise ProcessingError("The file has no sound in it.")
    seconds = duration(info) or measured_duration(src, stream="0:a:0", noun="audio")
    stages.report("probe", 1.0)
    out_dir.mkdir(parents=True, exist_ok=True)

    peaks = waveform(src, seconds, on_fraction=stages.fraction_callback("waveform"))
    preview(src, out_dir / PREVIEW, seconds, on_fraction=stages.fraction_callback("preview"))
    return AudioResult(
        duration=seconds,
        codec=str(sounds[0].get("codec_name", "unknown")),
        sample_rate=_int(sounds[0].get("sample_rate")),
        channels=_int(sounds[0].get("channels")),
        peaks=peaks,
        preview=PREVIEW,
        probe=info,
    )


def waveform(src: Path, seconds: float, *, on_fraction: Callable[[float], None], count: int = PEAKS) -> list[float]:
    """count peak magnitudes (0..1), each the loudest sample of its stretch of time.

    ffmpeg decodes to mono 8 kHz s16 on a pipe; Python keeps one peak per small block (about
    four blocks per output value, so a length that differs from the header still divides
    evenly), then merges blocks into `count` values.
    """
    expected = max(1, round(seconds * SAMPLE_RATE))
    block = max(1, expected // (count * 4))
    cmd = [*FFMPEG, *LOCAL_INPUT, "-i", str(src), "-map", "0:a:0", "-ac", "1", "-ar", str(SAMPLE_RATE),
           "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1"]
    blocks: list[int] = []
    pending = array("h")
    odd = b""  # a chunk can end in the middle of a two-byte sample
    received = 0
    for chunk in stream(cmd, failure="The audio could not be decoded"):
        received += len(chunk)
        data = odd + chunk
        whole = len(data) - len(data) % 2
        odd = data[whole:]
        pending.extend(_samples(data[:whole]))
        full = len(pending) - len(pending) % block
        blocks += [_peak(pending[i : i + block]) for i in range(0, full, block)]
        del pending[:full]
        on_fraction(min(received / (expected * 2), 0.99))
    if pending:
        blocks.append(_peak(pending))
    on_fraction(1.0)
    return merge_peaks(blocks, count)


def merge_peaks(blocks: list[int], count: int) -> list[float]:
    """`count` values from any number of block peaks: the loudest block in each share of them.
    Fewer blocks than values (a very short clip) repeat blocks rather than invent silence."""
    if not blocks:
        return [0.0] * count
    n = len(blocks)
    shares = (blocks[i * n // count : max(i * n // count + 1, (i + 1) * n // count)] for i in range(count))
    return [round(min(max(share) / FULL_SCALE, 1.0), 3) for share in shares]


def preview(src: Path, dest: Path, seconds: float, *, on_fraction: Callable[[float], None]) -> None:
    """AAC 128 kbps in .m4a at even loudness, so previews do not jump in volume from one to the
    next. One-pass loudnorm adapts as it goes: good for a preview, not for mastering."""
    run_ffmpeg(
        # loudnorm resamples to 192 kHz internally; -ar brings it back to a normal rate.
        [*LOCAL_INPUT, "-i", str(src), "-map", "0:a:0", "-af", LOUDNORM, "-ar", "44100",
         "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-map_metadata", "-1", str(dest)],
        failure="The audio preview could not be made",
        duration=seconds,
        on_fraction=on_fraction,
    )


def _samples(data: bytes) -> array[int]:
    samples = array("h", data)
    if sys.byteorder == "big":  # the stream is little-endian (s16le) whatever the machine is
        samples.byteswap()
    return samples


def _peak(samples: array[int]) -> int:
    return max(max(samples), -min(samples))


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
