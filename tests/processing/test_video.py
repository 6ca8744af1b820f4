"""Video: HLS with relative URIs, poster, storyboard, progress; broken files refused fast."""

from __future__ import annotations

import json
import random
import re
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from portal.processing.errors import ProcessingError
from portal.processing.probe import display_size, streams
from portal.processing.video import VideoResult, probe, process_video
from tests.processing.conftest import Run
from tests.processing.media import make_audio, make_video

CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$")


def uris(playlist: Path) -> list[str]:
    return [line for line in playlist.read_text().splitlines() if line and not line.startswith("#")]


def seconds(h: str, m: str, s: str, ms: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def test_facts_are_probed(video: VideoResult) -> None:
    meta = video.metadata()
    assert meta["duration"] == pytest.approx(2.0, abs=0.1)
    assert (meta["width"], meta["height"]) == (320, 240)
    assert meta["codecs"] == {"video": "h264", "audio": "aac"}
    json.dumps(meta, allow_nan=False)


def test_master_playlist_lists_two_or_more_variants_by_relative_path(video: VideoResult, video_run: Run) -> None:
    master = video_run.out_dir / video.master
    variants = uris(master)
    assert len(variants) >= 2
    bandwidths = [int(b) for b in re.findall(r"BANDWIDTH=(\d+)", master.read_text())]
    assert len(set(bandwidths)) == len(variants)  # different bitrates, even at one size
    for uri in variants:
        assert not uri.startswith("/")
        assert "://" not in uri
        playlist = master.parent / uri
        text = playlist.read_text()
        assert "#EXT-X-ENDLIST" in text
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in text
        segments = uris(playlist)
        assert segments
        for segment in segments:
            assert not segment.startswith("/")
            assert "://" not in segment
            assert (playlist.parent / segment).stat().st_size > 0


def test_tiny_source_is_not_upscaled(video: VideoResult, video_run: Run) -> None:
    sizes = re.findall(r"RESOLUTION=(\d+)x(\d+)", (video_run.out_dir / video.master).read_text())
    assert sizes
    assert all(int(w) <= 320 and int(h) <= 240 for w, h in sizes)
    assert {(v.width, v.height) for v in video.variants} == {(320, 240)}


def test_poster_is_a_jpeg_of_the_video(video: VideoResult, video_run: Run) -> None:
    with Image.open(video_run.out_dir / video.poster) as poster:
        assert (poster.format, poster.size) == ("JPEG", (320, 240))


def test_storyboard_cues_cover_the_video_and_point_inside_the_sprite(video: VideoResult, video_run: Run) -> None:
    board = video.storyboard
    with Image.open(video_run.out_dir / board.sprite) as sprite:
        sprite_w, sprite_h = sprite.size
    lines = (video_run.out_dir / board.vtt).read_text().splitlines()
    assert lines[0] == "WEBVTT"
    cues = [(CUE.match(lines[i]), lines[i + 1]) for i in range(len(lines) - 1) if "-->" in lines[i]]
    assert len(cues) == board.tiles >= 2
    previous_end = 0.0
    for match, target in cues:
        assert match
        start, end = seconds(*match.groups()[:4]), seconds(*match.groups()[4:])
        assert start == pytest.approx(previous_end)
        assert end > start
        previous_end = end
        name, _, xywh = target.partition("#xywh=")
        assert name == "sprite.jpg"
        x, y, w, h = map(int, xywh.split(","))
        assert x >= 0
        assert x + w <= sprite_w
        assert y >= 0
        assert y + h <= sprite_h
    assert previous_end == pytest.approx(video.facts.duration, abs=0.01)


def test_outputs_exist_with_content_types(video: VideoResult, video_run: Run) -> None:
    types = dict(video.outputs)
    assert types["poster.jpg"] == "image/jpeg"
    assert types["hls/master.m3u8"] == "application/vnd.apple.mpegurl"
    assert types["storyboard/storyboard.vtt"] == "text/vtt"
    assert any(kind == "video/mp2t" for kind in types.values())
    for path in types:
        assert (video_run.out_dir / path).is_file(), path
    written = {p.relative_to(video_run.out_dir).as_posix() for p in video_run.out_dir.rglob("*") if p.is_file()}
    assert written == set(types)  # no scratch files left behind, nothing left out


def test_progress_climbs_through_every_stage_to_100(video_run: Run) -> None:
    percents = [percent for _, percent in video_run.calls]
    assert percents == sorted(percents)
    assert video_run.calls[0] == ("probe", 0)
    assert video_run.calls[-1] == ("storyboard", 100)
    stages = list(dict.fromkeys(stage for stage, _ in video_run.calls))
    assert stages == ["probe", "poster", "hls", "storyboard"]


def test_video_without_sound_still_streams(tmp_path: Path) -> None:
    src = make_video(tmp_path / "silent.mp4", seconds=1, size="160x120", audio=False)
    result = process_video(src, tmp_path / "out")
    assert result.facts.audio_codec is None
    assert len(uris(tmp_path / "out" / result.master)) == 2
    assert all(v.audio_kbps is None for v in result.variants)


def test_phone_video_shot_upright_stays_upright(tmp_path: Path, video_file: Path) -> None:
    """Phones store landscape pixels plus a 90° display rotation; everything we make is upright."""
    src = tmp_path / "portrait.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video_file), "-c", "copy", "-metadata:s:v:0", "rotate=90",
                    str(src)], check=True)
    result = process_video(src, tmp_path / "out")
    assert (result.facts.width, result.facts.height) == (240, 320)
    assert {(v.width, v.height) for v in result.variants} == {(240, 320)}
    with Image.open(tmp_path / "out" / result.poster) as poster:
        assert poster.size == (240, 320)
    assert (result.storyboard.tile_width, result.storyboard.tile_height) == (120, 160)


def test_random_bytes_named_mp4_are_refused_fast(tmp_path: Path) -> None:
    src = tmp_path / "holiday.mp4"
    src.write_bytes(random.Random(7).randbytes(256 * 1024))
    started = time.monotonic()
    with pytest.raises(ProcessingError, match=r"^The video could not be read: "):
        process_video(src, tmp_path / "out")
    assert time.monotonic() - started < 2


def test_truncated_mp4_is_refused_fast_with_the_reason(tmp_path: Path, video_file: Path) -> None:
    whole = video_file.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 2])
    started = time.monotonic()
    with pytest.raises(ProcessingError) as caught:
        process_video(tmp_path / "cut.mp4", tmp_path / "out")
    assert caught.value.reason.startswith("The video could not be read: moov atom not found")
    assert str(tmp_path) not in caught.value.reason  # our temporary paths mean nothing to an editor
    assert time.monotonic() - started < 2


def test_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(ProcessingError, match=r"^The video file is empty \(0 bytes\)\.$"):
        probe(tmp_path / "empty.mp4")


def test_audio_file_is_not_a_video(tmp_path: Path) -> None:
    src = make_audio(tmp_path / "tone.m4a", seconds=0.5)
    with pytest.raises(ProcessingError, match=r"^The file has no video picture in it\.$"):
        process_video(src, tmp_path / "out")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        # No fetching URLs for the sender (SSRF), and no reading the worker's other files.
        ("http://169.254.169.254/latest/x.ts", "The video could not be read: Error when loading first segment"),
        ("{video_file}", "The video file is a playlist or text, not a media file."),
    ],
)
def test_playlist_uploaded_as_video_is_refused(tmp_path: Path, video_file: Path, target: str, reason: str) -> None:
    """An HLS playlist would have ffmpeg open whatever it lists, on the worker's behalf."""
    src = tmp_path / "upload"
    entry = target.format(video_file=video_file)
    src.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n{entry}\n#EXT-X-ENDLIST\n")
    with pytest.raises(ProcessingError, match=re.escape(reason)):
        process_video(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        ({"width": 1920, "height": 1080}, (1920, 1080)),
        ({"width": 1920, "height": 1080, "side_data_list": [{"rotation": -90}]}, (1080, 1920)),
        ({"width": 1920, "height": 1080, "tags": {"rotate": "270"}}, (1080, 1920)),
        ({"width": 1920, "height": 1080, "side_data_list": [{"rotation": 180}]}, (1920, 1080)),
    ],
)
def test_display_size_applies_rotation(stream: dict[str, object], expected: tuple[int, int]) -> None:
    assert display_size(stream) == expected


def test_cover_art_is_not_video() -> None:
    info = {"streams": [{"index": 0, "codec_type": "audio"},
                        {"index": 1, "codec_type": "video", "disposition": {"attached_pic": 1}},
                        {"index": 2, "codec_type": "video", "disposition": {"attached_pic": 0}}]}
    assert [s["index"] for s in streams(info, "video")] == [2]
