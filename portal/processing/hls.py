"""HLS renditions: the bitrate ladder for a source, and one ffmpeg run that encodes every rung.

One run decodes the source once and splits the picture to each rung's scaler, which on a
two-core worker is far cheaper than one run per rung. Segments are MPEG-TS: one file per
segment and no init segment, which plays in hls.js and Safari alike and keeps every URL in the
playlists a plain relative file name the caller can rewrite for private assets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from portal.processing.common import Output
from portal.processing.tools import LOCAL_INPUT, run_ffmpeg

SEGMENT_SECONDS = 4
MASTER = "master.m3u8"
PLAYLIST = "application/vnd.apple.mpegurl"
CONTENT_TYPES = {".m3u8": PLAYLIST, ".ts": "video/mp2t"}
MIN_VIDEO_KBPS = 150


@dataclass(frozen=True)
class Rung:
    short_side: int  # "360p" is the shorter side, so portrait videos get the same quality
    video_kbps: int
    audio_kbps: int


# Bitrates for H.264 at the veryfast preset, in line with Apple's HLS authoring guidance.
LADDER = (Rung(360, 800, 96), Rung(720, 2800, 128), Rung(1080, 5000, 160))


@dataclass(frozen=True)
class Variant:
    playlist: str  # relative to out_dir: "hls/v0/index.m3u8"
    width: int
    height: int
    video_kbps: int
    audio_kbps: int | None


def ladder(short_side: int) -> list[Rung]:
    """The rungs for a source whose shorter side is short_side pixels. Standard rungs up to
    the first one that reaches the source, that one capped at the source size (never
    upscaled). A source no bigger than the smallest rung still gets two rungs, the same
    size at two bitrates, so a player on a slow link has somewhere to step down to."""
    side = max(2, short_side - short_side % 2)  # H.264 in 4:2:0 needs even sizes
    rungs: list[Rung] = []
    for rung in LADDER:
        if rung.short_side < side:
            rungs.append(rung)
            continue
        rungs.append(_capped(rung, side, rungs[-1] if rungs else None))
        break
    if len(rungs) == 1:
        only = rungs[0]
        rungs.insert(0, Rung(only.short_side, max(only.video_kbps // 2, MIN_VIDEO_KBPS // 2), 64))
    return rungs


def _capped(rung: Rung, side: int, below: Rung | None) -> Rung:
    if side == rung.short_side:
        return rung
    kbps = max(round(rung.video_kbps * (side / rung.short_side) ** 2), MIN_VIDEO_KBPS)
    if below is not None:  # the bitrate must still climb from the rung below
        kbps = max(kbps, round(below.video_kbps * 1.5))
    return Rung(side, kbps, rung.audio_kbps)


def scaled_size(width: int, height: int, short_side: int) -> tuple[int, int]:
    """The picture size for a rung: the shorter side set, the other kept in proportion, both even."""
    short, long = min(width, height), max(width, height)
    other = max(2, round(long * short_side / short / 2) * 2)
    return (other, short_side) if width >= height else (short_side, other)


def encode_hls(
    src: Path,
    hls_dir: Path,
    *,
    stream: str,
    size: tuple[int, int],
    duration: float,
    has_audio: bool,
    on_fraction: Callable[[float], None],
) -> list[Variant]:
    """Encode every rung into hls_dir: master.m3u8, v0/index.m3u8, v0/seg_000.ts, ... ffmpeg runs
    inside hls_dir with relative names, so every URI it writes in a playlist is relative."""
    hls_dir.mkdir(parents=True, exist_ok=True)
    rungs = ladder(min(size))
    sizes = [scaled_size(*size, rung.short_side) for rung in rungs]
    run_ffmpeg(
        _arguments(src.resolve(), stream, rungs, sizes, has_audio),
        failure="The video could not be converted for streaming",
        duration=duration,
        on_fraction=on_fraction,
        cwd=hls_dir,
    )
    return [
        Variant(f"{hls_dir.name}/v{i}/index.m3u8", w, h, rung.video_kbps, rung.audio_kbps if has_audio else None)
        for i, (rung, (w, h)) in enumerate(zip(rungs, sizes, strict=True))
    ]


def _arguments(src: Path, stream: str, rungs: list[Rung], sizes: list[tuple[int, int]], has_audio: bool) -> list[str]:
    count = len(rungs)
    graph = [f"[{stream}]split={count}" + "".join(f"[s{i}]" for i in range(count))]
    graph += [f"[s{i}]scale={w}:{h}[v{i}]" for i, (w, h) in enumerate(sizes)]
    args = [*LOCAL_INPUT, "-i", str(src), "-filter_complex", ";".join(graph)]
    for i in range(count):
        args += ["-map", f"[v{i}]", *(["-map", "0:a:0"] if has_audio else [])]
    # Key frames forced on the segment grid (and none at scene cuts) make every rung's
    # segments start at the same instants, so a player can switch rungs between any two.
    args += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
             "-sc_threshold", "0", "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"]
    for i, rung in enumerate(rungs):
        kbps = rung.video_kbps
        args += [f"-b:v:{i}", f"{kbps}k", f"-maxrate:v:{i}", f"{kbps * 107 // 100}k", f"-bufsize:v:{i}", f"{kbps * 2}k"]
        if has_audio:
            args += [f"-b:a:{i}", f"{rung.audio_kbps}k"]
    if has_audio:
        args += ["-c:a", "aac", "-ac", "2", "-ar", "48000"]
    variants = " ".join(f"v:{i},a:{i}" if has_audio else f"v:{i}" for i in range(count))
    # -map_metadata -1: a phone video's global tags can hold where it was shot.
    args += ["-map_metadata", "-1", "-map_chapters", "-1",
             "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
             "-hls_flags", "independent_segments", "-hls_segment_type", "mpegts",
             "-hls_segment_filename", "v%v/seg_%05d.ts", "-master_pl_name", MASTER,
             "-var_stream_map", variants, "v%v/index.m3u8"]
    return args


def hls_outputs(hls_dir: Path, out_dir: Path) -> list[Output]:
    """Every playlist and segment under hls_dir, master first, for the caller to upload."""
    files = sorted(p for p in hls_dir.rglob("*") if p.is_file() and p.suffix in CONTENT_TYPES)
    files.sort(key=lambda p: p.name != MASTER)
    return [(p.relative_to(out_dir).as_posix(), CONTENT_TYPES[p.suffix]) for p in files]
