"""Media is generated once per run and each pipeline runs once per run: the machine is small."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.processing.audio import AudioResult, process_audio
from portal.processing.video import VideoResult, process_video
from tests.processing.media import make_audio, make_video


@dataclass
class Run:
    """A pipeline's result, where it wrote, and every progress call it made."""

    result: object
    out_dir: Path
    calls: list[tuple[str, int]]


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def video_file(media_dir: Path) -> Path:
    return make_video(media_dir / "clip.mp4")


@pytest.fixture(scope="session")
def audio_file(media_dir: Path) -> Path:
    return make_audio(media_dir / "tone.m4a")


@pytest.fixture(scope="session")
def video_run(video_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    out_dir = tmp_path_factory.mktemp("video-out")
    calls: list[tuple[str, int]] = []
    result = process_video(video_file, out_dir, lambda stage, percent: calls.append((stage, percent)))
    return Run(result, out_dir, calls)


@pytest.fixture(scope="session")
def video(video_run: Run) -> VideoResult:
    assert isinstance(video_run.result, VideoResult)
    return video_run.result


@pytest.fixture(scope="session")
def audio_run(audio_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    out_dir = tmp_path_factory.mktemp("audio-out")
    calls: list[tuple[str, int]] = []
    result = process_audio(audio_file, out_dir, lambda stage, percent: calls.append((stage, percent)))
    return Run(result, out_dir, calls)


@pytest.fixture(scope="session")
def audio(audio_run: Run) -> AudioResult:
    assert isinstance(audio_run.result, AudioResult)
    return audio_run.result
