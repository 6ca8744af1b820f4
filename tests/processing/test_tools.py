"""Running tools: time limits, output limits, missing tools, cancelling, and readable reasons."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from portal.processing import process
from portal.processing.common import Stages
from portal.processing.errors import ProcessingError, ToolMissing, ToolTimeout
from portal.processing.tools import reason_from_stderr, run, run_ffmpeg


def test_a_tool_that_runs_too_long_is_killed() -> None:
    started = time.monotonic()
    with pytest.raises(ToolTimeout, match=r"^The video could not be converted: it took longer than 0.3 seconds"):
        run(["sleep", "10"], failure="The video could not be converted", timeout=0.3)
    assert time.monotonic() - started < 2


def test_the_time_limit_comes_from_settings(settings: Any) -> None:
    settings.PROCESSING_MAX_SECONDS = 0.3
    with pytest.raises(ToolTimeout):
        run(["sleep", "10"], failure="x")


def test_output_beyond_the_limit_stops_the_tool() -> None:
    done = run(["yes", "a line of text"], failure="x", stdout_limit=1000)
    assert done.truncated
    assert len(done.stdout) == 1000


def test_a_failing_tool_gives_its_last_message() -> None:
    with pytest.raises(ProcessingError) as caught:
        run(["sh", "-c", "echo first >&2; echo 'the real reason' >&2; exit 3"], failure="It broke")
    assert caught.value.reason == "It broke: first; the real reason"


def test_a_missing_tool_is_our_fault_not_the_files() -> None:
    with pytest.raises(ToolMissing, match="no-such-tool-here is not installed"):
        run(["no-such-tool-here"], failure="x")
    assert not issubclass(ToolMissing, ProcessingError)


def test_a_progress_callback_that_raises_cancels_ffmpeg() -> None:
    """A caller cancels a job by raising from its progress callback; ffmpeg must not live on."""

    def cancel(fraction: float) -> None:
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=30", "-f", "null", "-"],
                   failure="x", duration=30, on_fraction=cancel)
    assert time.monotonic() - started < 5


def test_reason_drops_ffmpeg_tags_poppler_prefixes_and_our_paths() -> None:
    tail = ("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55d1c0a2b180] moov atom not found\n"
            "/work/job-17/source.mp4: Invalid data found when processing input\n")
    assert reason_from_stderr(tail, ["ffprobe", "/work/job-17/source.mp4"], 1) == (
        "moov atom not found; Invalid data found when processing input")
    tail = "Syntax Error: Couldn't find trailer dictionary\nSyntax Error (12): Couldn't read xref table\n"
    assert reason_from_stderr(tail, ["pdfinfo", "/w/a.pdf"], 1) == (
        "Couldn't find trailer dictionary; Couldn't read xref table")
    assert reason_from_stderr("", ["x"], 139) == "the tool stopped with exit status 139."


def test_stages_report_overall_percent_once_and_never_backwards() -> None:
    calls: list[tuple[str, int]] = []
    stages = Stages(lambda stage, percent: calls.append((stage, percent)), {"a": 1, "b": 3})
    for stage, fraction in [("a", 0), ("a", 0.5), ("a", 0.5), ("a", 1), ("b", 0), ("b", 0.5), ("b", 0.2), ("b", 1)]:
        stages.report(stage, fraction)
    assert calls == [("a", 0), ("a", 12), ("a", 25), ("b", 25), ("b", 62), ("b", 100)]


@pytest.mark.parametrize(("kind", "noun"), [("image", "image"), ("video", "video"), ("audio", "audio"),
                                            ("document", "document")])
def test_every_kind_refuses_an_empty_file(tmp_path: Path, kind: str, noun: str) -> None:
    src = tmp_path / "upload"
    src.write_bytes(b"")
    with pytest.raises(ProcessingError, match=rf"^The {noun} file is empty \(0 bytes\)\.$"):
        process(kind, src, src.parent / "out")


def test_unknown_kind_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no processor for kind 'hologram'"):
        process("hologram", tmp_path / "x", tmp_path / "y")
