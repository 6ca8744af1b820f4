"""Video: probe, a poster frame, HLS renditions and a seek-bar storyboard, in that order."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from portal.processing.common import JPEG, Output, Progress, RawMetadata, Stages, fit, no_progress
from portal.processing.errors import ProcessingError
from portal.processing.hls import MASTER, Variant, encode_hls, hls_outputs
from portal.processing.probe import display_size, duration, measured_duration, probe, streams
from portal.processing.storyboard import Storyboard, make_storyboard
from portal.processing.tools import FFMPEG, LOCAL_INPUT, run

__all__ = ["VideoResult", "probe", "process_video"]

# Rough shares of the wall-clock time on a two-core worker; the encode dominates.
WEIGHTS = {"probe": 2, "poster": 3, "hls": 80, "storyboard": 15}
POSTER = "poster.jpg"
POSTER_LONG_SIDE = 1280
POSTER_AT = 0.10  # of the duration: past fades from black and title cards, still early


@dataclass(frozen=True)
class VideoFacts:
    duration: float
    width: int  # as displayed (rotation applied)
    height: int
    video_codec: str
    audio_codec: str | None
    stream: str = "0:v:0"  # ffmpeg's name for the picture: by index, since cover art is a "video" stream too


@dataclass(frozen=True)
class VideoResult:
    facts: VideoFacts
    poster: str  # paths relative to out_dir
    master: str
    variants: list[Variant]
    storyboard: Storyboard
    hls_files: list[Output]
    probe: dict[str, Any] = field(default_factory=dict, repr=False)  # ffprobe's whole answer

    @property
    def outputs(self) -> list[Output]:
        return [(self.poster, JPEG), *self.hls_files, *self.storyboard.outputs]

    def raw_metadata(self) -> RawMetadata:
        return RawMetadata({"ffprobe": self.probe})

    def metadata(self) -> dict[str, Any]:
        facts = self.facts
        return {
            "duration": round(facts.duration, 3),
            "width": facts.width,
            "height": facts.height,
            "codecs": {"video": facts.video_codec, "audio": facts.audio_codec},
            "poster": self.poster,
            "hls": {"master": self.master, "variants": [asdict(v) for v in self.variants]},
            "storyboard": {"vtt": self.storyboard.vtt, "sprite": self.storyboard.sprite,
                           "interval": self.storyboard.interval, "tiles": self.storyboard.tiles},
        }


def process_video(src: Path, out_dir: Path, progress: Progress = no_progress) -> VideoResult:
    """Probe, then write poster.jpg, hls/ (master.m3u8 and one folder per rung) and storyboard/."""
    stages = Stages(progress, WEIGHTS)
    stages.start("probe")
    info = probe(src, noun="video", kind="video")
    facts = video_facts(src, info)
    stages.report("probe", 1.0)
    out_dir.mkdir(parents=True, exist_ok=True)

    stages.start("poster")
    poster(src, out_dir / POSTER, facts)
    stages.report("poster", 1.0)

    size = (facts.width, facts.height)
    hls_dir = out_dir / "hls"
    variants = encode_hls(src, hls_dir, stream=facts.stream, size=size, duration=facts.duration,
                          has_audio=facts.audio_codec is not None, on_fraction=stages.fraction_callback("hls"))
    board = make_storyboard(src, out_dir / "storyboard", stream=facts.stream, size=size, duration=facts.duration,
                            on_fraction=stages.fraction_callback("storyboard"))
    return VideoResult(facts, POSTER, f"{hls_dir.name}/{MASTER}", variants, board, hls_outputs(hls_dir, out_dir),
                       probe=info)


def video_facts(src: Path, info: dict[str, Any]) -> VideoFacts:
    """What the pipeline needs to know before encoding, from the probe; refuses files without a picture."""
    pictures = streams(info, "video")
    if not pictures:
        raise ProcessingError("The file has no video picture in it.")
    width, height = display_size(pictures[0])
    if width <= 0 or height <= 0:
        raise ProcessingError("The video could not be read: its picture size is unknown.")
    sounds = streams(info, "audio")
    stream = f"0:{int(pictures[0].get('index', 0))}"
    seconds = duration(info) or measured_duration(src, stream=stream, noun="video")
    return VideoFacts(
        duration=seconds,
        width=width,
        height=height,
        video_codec=str(pictures[0].get("codec_name", "unknown")),
        audio_codec=str(sounds[0].get("codec_name", "unknown")) if sounds else None,
        stream=stream,
    )


def poster(src: Path, dest: Path, facts: VideoFacts) -> None:
    """A JPEG of the frame at POSTER_AT of the duration, or of the first frame when seeking there
    finds none (ffmpeg then writes nothing and still exits 0)."""
    width, height = fit(facts.width, facts.height, POSTER_LONG_SIDE)
    for at in (facts.duration * POSTER_AT, 0.0):
        dest.unlink(missing_ok=True)
        # -ss before -i seeks in the file (fast) rather than decoding up to that point.
        run([*FFMPEG, "-ss", f"{at:.3f}", *LOCAL_INPUT, "-i", str(src), "-map", facts.stream, "-frames:v", "1",
             "-vf", f"scale={width}:{height}", "-q:v", "3", "-map_metadata", "-1", "-update", "1", str(dest)],
            failure="The video's poster frame could not be taken")
        if dest.exists() and dest.stat().st_size > 0:
            return
    raise ProcessingError("The video could not be read: no frame of it could be decoded.")
