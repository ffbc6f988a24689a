"""How values are written on the board: durations, percentages, counts, local times. "—" stands for no value."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

NONE = "—"


def duration(seconds: float | None) -> str:
    """A wait or an age: ``4:05`` under an hour, ``3h07m`` under two days, ``5d04h`` beyond."""
    if seconds is None:
        return NONE
    total = max(0, round(seconds))
    if total < 3600:
        return f"{total // 60}:{total % 60:02d}"
    if total < 48 * 3600:
        return f"{total // 3600}h{total % 3600 // 60:02d}m"
    return f"{total // 86400}d{total % 86400 // 3600:02d}h"


def duration_steady_s(seconds: float) -> float:
    """How long ``duration`` keeps writing the same text for an age that grows from ``seconds``: until the next
    second below an hour, the next minute below two days, the next hour beyond (plus a millisecond, so the text
    has changed by then whichever way ``round`` takes a half)."""
    total = max(0, round(seconds))
    step = 1 if total < 3600 else 60 if total < 48 * 3600 else 3600
    return max((total // step + 1) * step - 0.5 - seconds, 0.0) + 0.001


def percent(value: float | None) -> str:
    """A percentage, to a whole per cent (a wall board needs no decimals), with its sign."""
    return NONE if value is None else f"{value:.0f}%"


def count(value: float | None) -> str:
    return NONE if value is None else f"{value:.0f}"


def clock(moment: float, zone: tzinfo | None) -> str:
    """A moment as a wall-clock time in the board's zone: 14:32:05."""
    return datetime.fromtimestamp(moment, tz=zone).strftime("%H:%M:%S")


def minute(moment: float, zone: tzinfo | None) -> str:
    """A moment to the minute in the board's zone: 14:32 (the live board's clock, which moves with its reads)."""
    return datetime.fromtimestamp(moment, tz=zone).strftime("%H:%M")


def stamp(moment: float, zone: tzinfo | None) -> str:
    """A moment with its date, for tables and details: 2026-11-22 14:32:05."""
    return datetime.fromtimestamp(moment, tz=zone).strftime("%Y-%m-%d %H:%M:%S")


def cell(column: str, value: Any, zone: tzinfo | None) -> str:
    """A drill-down value by its column's naming convention: ``*_at`` is a moment, ``*_s`` a duration."""
    if value is None or value == "":
        return NONE
    if column.endswith("_at") and isinstance(value, int | float):
        return stamp(value, zone)
    if column.endswith("_s") and isinstance(value, int | float):
        return duration(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
