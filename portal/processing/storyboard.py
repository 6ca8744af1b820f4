"""The seek-bar storyboard: one sprite of small frames and a WebVTT file that maps time to tiles.

The player (hls.js plugins, Video.js, Vidstack) reads cues like
    00:00:10.000 --> 00:00:20.000
    sprite.jpg#xywh=160,0,160,90
and shows that part of the sprite while the pointer is over that stretch of the seek bar.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from portal.processing.common import JPEG, Output, fit
from portal.processing.tools import LOCAL_INPUT, run_ffmpeg

MAX_TILES = 100
TILE_LONG_SIDE = 160
COLUMNS = 10
SPRITE = "sprite.jpg"
VTT = "storyboard.vtt"
# From this interval on, only key frames are decoded: a tile then shows the key frame at or
# before its time (a few seconds early at most), and an hour of 1080p is read in seconds
# instead of the minutes a full decode takes.
KEYFRAMES_ONLY_FROM = 10


@dataclass(frozen=True)
class Storyboard:
    sprite: str  # relative to out_dir: "storyboard/sprite.jpg"
    vtt: str
    interval: int  # seconds per tile
    tiles: int
    tile_width: int
    tile_height: int
    columns: int

    @property
    def outputs(self) -> list[Output]:
        return [(self.sprite, JPEG), (self.vtt, "text/vtt")]


def interval_for(duration: float) -> int:
    """Whole seconds per tile, as few as possible while keeping to MAX_TILES tiles."""
    return max(1, math.ceil(duration / MAX_TILES))


def make_storyboard(
    src: Path,
    board_dir: Path,
    *,
    stream: str,
    size: tuple[int, int],
    duration: float,
    on_fraction: Callable[[float], None],
) -> Storyboard:
    board_dir.mkdir(parents=True, exist_ok=True)
    interval = interval_for(duration)
    tile = _even(fit(*size, TILE_LONG_SIDE))
    wanted = min(MAX_TILES, math.ceil(duration / interval))
    frames = _frames(src, stream, board_dir, tile, interval=interval, wanted=wanted, duration=duration,
                     on_fraction=on_fraction)
    columns = min(COLUMNS, len(frames))
    sprite = Image.new("RGB", (tile[0] * columns, tile[1] * math.ceil(len(frames) / columns)))
    for index, frame in enumerate(frames):
        sprite.paste(frame, ((index % columns) * tile[0], (index // columns) * tile[1]))
    sprite.save(board_dir / SPRITE, "JPEG", quality=70, optimize=True)
    (board_dir / VTT).write_text(webvtt(len(frames), interval, duration, tile, columns), encoding="utf-8")
    prefix = board_dir.name
    return Storyboard(f"{prefix}/{SPRITE}", f"{prefix}/{VTT}", interval, len(frames), *tile, columns)


def _frames(
    src: Path,
    stream: str,
    board_dir: Path,
    tile: tuple[int, int],
    *,
    interval: int,
    wanted: int,
    duration: float,
    on_fraction: Callable[[float], None],
) -> list[Image.Image]:
    """One raw RGB frame every `interval` seconds, from a single ffmpeg pass. Raw frames have a
    fixed size, so how many ffmpeg produced is plain arithmetic, and every cue can be exact."""
    skip = ["-skip_frame", "nokey"] if interval >= KEYFRAMES_ONLY_FROM else []
    with tempfile.TemporaryDirectory(dir=board_dir) as scratch:
        raw = Path(scratch) / "frames.rgb"
        run_ffmpeg(
            [*skip, *LOCAL_INPUT, "-i", str(src), "-map", stream, "-an", "-sn", "-dn",
             "-vf", f"fps=1/{interval},scale={tile[0]}:{tile[1]}", "-frames:v", str(wanted),
             "-f", "rawvideo", "-pix_fmt", "rgb24", str(raw)],
            failure="The video's seek-bar previews could not be made",
            duration=duration,
            on_fraction=on_fraction,
        )
        data = raw.read_bytes()
    frame_bytes = tile[0] * tile[1] * 3
    count = max(1, min(wanted, len(data) // frame_bytes))
    data = data.ljust(frame_bytes * count, b"\0")  # a video too short for one frame gets a black tile
    return [Image.frombytes("RGB", tile, data[i * frame_bytes : (i + 1) * frame_bytes]) for i in range(count)]


def webvtt(tiles: int, interval: int, duration: float, tile: tuple[int, int], columns: int) -> str:
    """One cue per tile; the last runs to the end of the video."""
    lines = ["WEBVTT", ""]
    for index in range(tiles):
        start = index * interval
        end = duration if index == tiles - 1 else (index + 1) * interval
        x, y = (index % columns) * tile[0], (index // columns) * tile[1]
        lines += [f"{_timestamp(start)} --> {_timestamp(max(end, start + 0.001))}",
                  f"{SPRITE}#xywh={x},{y},{tile[0]},{tile[1]}", ""]
    return "\n".join(lines)


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def _even(size: tuple[int, int]) -> tuple[int, int]:
    return max(2, size[0] - size[0] % 2), max(2, size[1] - size[1] % 2)
