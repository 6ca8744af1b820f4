"""Audio: duration, 200 peaks, a louder-or-quieter but even preview; empty files refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from portal.processing.audio import AudioResult, merge_peaks, process_audio, waveform
from portal.processing.errors import ProcessingError
from tests.processing.conftest import Run
from tests.processing.media import make_video


def ffprobe_audio(path: Path) -> dict[str, str]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                          "stream=codec_name:format=duration", "-of", "json", str(path)],
                         check=True, capture_output=True).stdout
    info = json.loads(out)
    return {"codec": info["streams"][0]["codec_name"], "duration": info["format"]["duration"]}


def test_duration_is_about_one_second(audio: AudioResult) -> None:
    assert audio.duration == pytest.approx(1.0, abs=0.1)
    assert audio.codec == "aac"


def test_two_hundred_peaks_between_zero_and_one(audio: AudioResult) -> None:
    assert len(audio.peaks) == 200
    assert all(0.0 <= peak <= 1.0 for peak in audio.peaks)
    # ffmpeg's sine is 1/8 of full scale; AAC's first frames overshoot a little.
    assert sorted(audio.peaks)[100] == pytest.approx(0.125, abs=0.01)
    assert max(audio.peaks) < 0.3


def test_preview_is_aac_in_m4a_and_loudness_normalised(audio: AudioResult, audio_run: Run) -> None:
    preview = audio_run.out_dir / audio.preview
    facts = ffprobe_audio(preview)
    assert facts["codec"] == "aac"
    assert float(facts["duration"]) == pytest.approx(1.0, abs=0.15)
    # The tone (1/8 of full scale, about -21 LUFS) is brought up to -16 LUFS: about 1.8 times the level.
    louder = waveform(preview, 1.0, on_fraction=lambda _: None)
    assert sorted(louder)[100] > 1.5 * sorted(audio.peaks)[100]
    assert audio.outputs == [("preview.m4a", "audio/mp4")]


def test_metadata_is_json_safe(audio: AudioResult) -> None:
    meta = audio.metadata()
    assert meta["peaks"] == audio.peaks
    assert meta["duration"] == pytest.approx(1.0, abs=0.1)
    json.dumps(meta, allow_nan=False)


def test_progress_climbs_to_100(audio_run: Run) -> None:
    percents = [percent for _, percent in audio_run.calls]
    assert percents == sorted(percents)
    assert percents[-1] == 100
    assert list(dict.fromkeys(stage for stage, _ in audio_run.calls)) == ["probe", "waveform", "preview"]


def test_sound_of_a_video_file_is_processed(tmp_path: Path) -> None:
    result = process_audio(make_video(tmp_path / "clip.mp4", seconds=1, size="64x48"), tmp_path / "out")
    assert result.duration == pytest.approx(1.0, abs=0.1)
    assert any(result.peaks)


def test_video_without_sound_is_refused(tmp_path: Path) -> None:
    src = make_video(tmp_path / "silent.mp4", seconds=0.5, size="64x48", audio=False)
    with pytest.raises(ProcessingError, match=r"^The file has no sound in it\.$"):
        process_audio(src, tmp_path / "out")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.mp3").write_bytes(b"")
    with pytest.raises(ProcessingError, match=r"^The audio file is empty \(0 bytes\)\.$"):
        process_audio(tmp_path / "empty.mp3", tmp_path / "out")


def test_merge_peaks_takes_the_loudest_block_of_each_share() -> None:
    assert merge_peaks([0, 16384, 32768, 8192], 2) == [0.5, 1.0]
    assert merge_peaks([32768], 3) == [1.0, 1.0, 1.0]  # a clip shorter than the bars
    assert merge_peaks([], 2) == [0.0, 0.0]
