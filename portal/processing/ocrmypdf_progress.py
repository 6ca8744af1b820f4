"""An OCRmyPDF plugin (loaded by the `ocrmypdf` command with `--plugin <this file>`, in the
command's own Python, so it imports nothing of ours): its progress bar prints one line per step to
stdout, "progress <done> <total>", which portal.processing.ocr reads to report pages to the job.
OCRmyPDF writes our output to a file, never to stdout, so the lines cannot corrupt it."""

from typing import Any

from ocrmypdf import hookimpl


class LineProgress:
    def __init__(self, total: float | None = None, desc: str | None = None, unit_scale: float = 1.0,
                 **kwargs: Any) -> None:  # tqdm's arguments
        self.total, self.desc, self.scale, self.done = total or 0, desc or "", unit_scale or 1.0, 0.0

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: float | None = 1, *args: Any, **kwargs: Any) -> None:
        self.done += n if n is not None else 1
        # "OCR" steps count two per page (unit_scale 0.5): report pages, as the editor reads them.
        print(f"progress {self.desc} {int(self.done * self.scale)} {int(self.total * self.scale)}", flush=True)


@hookimpl
def get_progressbar_class() -> type[LineProgress]:
    return LineProgress
