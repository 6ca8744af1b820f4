"""One entry point for the workers: the asset's kind picks the processor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from portal.processing.audio import process_audio
from portal.processing.common import Progress, Result, no_progress
from portal.processing.documents import process_document
from portal.processing.images import process_image
from portal.processing.video import process_video

PROCESSORS: dict[str, Callable[[Path, Path, Progress], Result]] = {
    "image": process_image,
    "video": process_video,
    "audio": process_audio,
    "document": process_document,
}


def process(kind: str, src: Path, out_dir: Path, progress: Progress = no_progress) -> Result:
    """Turn one local file into files under out_dir plus metadata. `kind` is the asset's kind
    ("image", "video", "audio", "document"), already checked against the content at upload.
    Raises ProcessingError (permanent: show `reason` to the editor) or ToolMissing (ours)."""
    try:
        processor = PROCESSORS[kind]
    except KeyError:
        raise ValueError(f"no processor for kind {kind!r}") from None
    return processor(Path(src), Path(out_dir), progress)
