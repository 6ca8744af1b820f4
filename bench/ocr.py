"""OCR throughput: scanned pages per minute for one worker (OCRmyPDF with --jobs 1, as the
`processing.ocr` task runs it), beside the pipeline's own text step (pdftotext) on the same file
with its text layer, as a ratio: how much slower reading a scan is than reading typed text.

Needs no server: the scan is made here (Pillow renders text to images, saved as a PDF without a
text layer: portal.processing.samples.make_scan), in a temporary folder removed at the end.

    .venv/bin/python bench/ocr.py --pages 20 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from portal.processing.ocr import OCR_PDF, ocr_pdf  # noqa: E402
from portal.processing.samples import make_scan  # noqa: E402

WORDS = ("harbour", "lantern", "meadow", "quarry", "saffron", "timber", "vessel", "willow", "zephyr", "orchard")


def page_lines(number: int) -> list[str]:
    """Fifteen lines of prose-like words, different on every page."""
    return [" ".join(WORDS[(number + line + k) % len(WORDS)] for k in range(6)) + f" {number}.{line}"
            for line in range(15)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"{args.pages} pages, {args.rounds} rounds, OCRmyPDF --jobs 1")
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        scan = make_scan(Path(tmp, "scan.pdf"), [page_lines(n) for n in range(args.pages)])
        ocr_seconds, text_seconds, found = [], [], 0
        for round_number in range(args.rounds):
            out = Path(tmp, f"out{round_number}")
            started = time.perf_counter()
            result = ocr_pdf(scan, out, languages=["eng"])
            ocr_seconds.append(time.perf_counter() - started)
            found = sum(result.text.count(word) for word in WORDS)
            started = time.perf_counter()  # the same pages, now with a text layer: what pdftotext costs
            subprocess.run(["pdftotext", str(out / OCR_PDF), "-"], check=True, capture_output=True)
            text_seconds.append(time.perf_counter() - started)
        ocr_median, text_median = statistics.median(ocr_seconds), statistics.median(text_seconds)
        expected = args.pages * 15 * 6
        print(f"OCR: median {ocr_median:.2f} s for {args.pages} pages = "
              f"{args.pages * 60 / ocr_median:.1f} pages per minute per worker "
              f"({ocr_median / args.pages:.2f} s a page; runs {', '.join(f'{s:.2f}' for s in ocr_seconds)} s)")
        print(f"words recognised: {found} of {expected} ({100 * found / expected:.1f} %)")
        print(f"pdftotext on the OCR'd PDF: median {text_median:.3f} s; ratio OCR / text extraction "
              f"{ocr_median / text_median:.0f}")


if __name__ == "__main__":
    main()
