"""The HLS bitrate ladder: never above the source, always two rungs, bitrates climbing."""

from __future__ import annotations

import pytest

from portal.processing.hls import ladder, scaled_size
from portal.processing.storyboard import MAX_TILES, interval_for, webvtt


@pytest.mark.parametrize(
    ("short_side", "sides"),
    [(2160, [360, 720, 1080]), (1080, [360, 720, 1080]), (720, [360, 720]), (481, [360, 480]),
     (362, [360, 362]), (360, [360, 360]), (240, [240, 240]), (17, [16, 16])],
)
def test_ladder_never_upscales_and_always_has_two_rungs(short_side: int, sides: list[int]) -> None:
    rungs = ladder(short_side)
    assert [r.short_side for r in rungs] == sides
    kbps = [r.video_kbps for r in rungs]
    assert kbps == sorted(kbps)
    assert len(set(kbps)) == len(kbps)


def test_portrait_video_scales_by_its_shorter_side() -> None:
    assert scaled_size(1080, 1920, 720) == (720, 1280)
    assert scaled_size(1920, 1080, 360) == (640, 360)
    assert scaled_size(320, 240, 240) == (320, 240)


@pytest.mark.parametrize(("duration", "interval"), [(2, 1), (100, 1), (101, 2), (3600, 36), (0.4, 1)])
def test_storyboard_interval_keeps_to_the_tile_limit(duration: float, interval: int) -> None:
    assert interval_for(duration) == interval
    assert duration / interval <= MAX_TILES


def test_webvtt_cues_walk_the_sprite_row_by_row() -> None:
    text = webvtt(12, 10, 115.5, (160, 90), 10)
    assert "00:00:00.000 --> 00:00:10.000\nsprite.jpg#xywh=0,0,160,90" in text
    assert "00:01:40.000 --> 00:01:50.000\nsprite.jpg#xywh=0,90,160,90" in text
    assert text.rstrip().endswith("00:01:50.000 --> 00:01:55.500\nsprite.jpg#xywh=160,90,160,90")
