"""Turning raw metadata documents and daily counts into what templates show: rows and SVG geometry."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from portal.analytics.selectors import DayCount

MAX_ROWS = 300
MAX_VALUE_CHARS = 300
# Personal or identifying data that cameras and phones write: shown to editors only.
PRIVATE = re.compile(r"gps|location|serial|makernote|owner|artist|author|creator|copyright|comment|description|"
                     r"hostcomputer|xp|uniqueid|com．apple", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[tuple[str, str]]
    cut: int  # rows not shown


def sections(document: dict[str, Any], *, editor: bool) -> list[Section]:
    """One section per reader (ffprobe, image, pdfinfo), each as (dotted path, value) rows."""
    found = []
    for title, value in document.get("raw", {}).items():
        rows = [(path, text) for path, text in _flatten(value, "") if editor or not PRIVATE.search(path)]
        found.append(Section(title, rows[:MAX_ROWS], max(0, len(rows) - MAX_ROWS)))
    return found


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    else:
        text = "" if value is None else str(value)
        yield prefix or "value", text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    value: int


@dataclass(frozen=True)
class Chart:
    """Grouped bars (views, plays) per day in a WIDTH × HEIGHT viewBox, with y-axis ticks."""

    width: int
    height: int
    days: list[tuple[DayCount, Bar, Bar, float, str]]  # the day, its two bars, label x, label
    ticks: list[tuple[float, int]]  # y, value
    bar_width: float
    top: int
    bottom: int
    left: int


def chart(counts: list[DayCount], *, width: int = 720, height: int = 240) -> Chart:
    left, right, top, bottom = 40, 8, 10, 30
    peak = max([1, *(max(day.views, day.plays) for day in counts)])
    step = _nice_step(peak)
    ceiling = step * -(-peak // step)
    slot = (width - left - right) / max(1, len(counts))
    bar = max(1.0, slot * 0.38)
    plot = height - top - bottom

    def y_of(value: int) -> float:
        return round(top + plot - plot * value / ceiling, 2)

    days = []
    for index, day in enumerate(counts):
        x = left + index * slot + slot * 0.1
        views = Bar(round(x, 2), y_of(day.views), round(plot * day.views / ceiling, 2), day.views)
        plays = Bar(round(x + bar, 2), y_of(day.plays), round(plot * day.plays / ceiling, 2), day.plays)
        label = day.day.strftime("%-d %b") if index % max(1, len(counts) // 6) == 0 else ""
        days.append((day, views, plays, round(x + bar, 2), label))
    ticks = [(y_of(value), value) for value in range(0, ceiling + 1, step)]
    return Chart(width, height, days, ticks, round(bar, 2), top, height - bottom, left)


def _nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000):
        if peak / step <= 5:
            return step
    return 10 ** len(str(peak))
