"""Business hours: opening intervals in the board's time zone, and durations measured in open time only.

The schedule is wall-clock time in ``[metrics] timezone``: open from ``start`` to ``end`` on the listed ``days``,
closed on ``holidays``. A day's opening is converted to UTC through the zone, so a DST change moves it with the
clocks (08:00–18:00 stays 08:00–18:00 local; a day where the clocks jump inside opening hours is an hour shorter
or longer). A business-hours duration is the overlap of [start, end) with the open intervals
(../shared/reference/metrics.md §7).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the board's first frame is drawn before pydantic is imported
    from shiftboard.config import BusinessHours


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessCalendar:
    """Open intervals of one schedule in one time zone (UTC epoch seconds)."""

    def __init__(self, hours: BusinessHours, zone: tzinfo) -> None:
        self.zone = zone
        self._days = frozenset(_DAY_NAMES.index(d) for d in hours.days)
        self._holidays = frozenset(date.fromisoformat(h) for h in hours.holidays)
        self._start = hours.start
        self._end = hours.end
        self._day = lru_cache(maxsize=4096)(self._day_uncached)
        #: ``add`` remembered: SLA due times of open cases are asked again on every refresh.
        self.add_cached = lru_cache(maxsize=65536)(self.add)
        #: ``seconds`` remembered: first-reply times of the window are asked again on every refresh.
        self.seconds_cached = lru_cache(maxsize=65536)(self.seconds)

    def _day_uncached(self, day: date) -> tuple[float, float] | None:
        if day.weekday() not in self._days or day in self._holidays:
            return None
        lo = datetime.combine(day, self._start, tzinfo=self.zone).timestamp()
        hi = datetime.combine(day, self._end, tzinfo=self.zone).timestamp()
        return (lo, hi) if hi > lo else None

    def _local_date(self, t: float) -> date:
        return datetime.fromtimestamp(t, tz=self.zone).date()

    def intervals(self, start: float, end: float) -> Iterator[tuple[float, float]]:
        """The open intervals clipped to [start, end), in time order."""
        if end <= start:
            return
        # A day's opening lies inside that local day, so the days of start and end bound the search.
        day = self._local_date(start)
        last = self._local_date(end)
        while day <= last:
            span = self._day(day)
            if span is not None:
                lo, hi = max(span[0], start), min(span[1], end)
                if hi > lo:
                    yield lo, hi
            day += timedelta(days=1)

    def seconds(self, start: float, end: float) -> float:
        """Open seconds in [start, end): the business-hours length of that span (0 when end ≤ start)."""
        return sum((hi - lo for lo, hi in self.intervals(start, end)), 0.0)

    def add(self, start: float, seconds: float, *, limit_days: int = 3660) -> float | None:
        """The moment when ``seconds`` open seconds have passed since ``start``; None if never within ``limit_days``.

        With ``seconds`` = 0 this is ``start`` itself (a target of zero is due at once, open or not).
        """
        if seconds <= 0:
            return start
        remaining = seconds
        day = self._local_date(start) - timedelta(days=1)
        for _ in range(limit_days):
            span = self._day(day)
            if span is not None and span[1] > start:
                lo = max(span[0], start)
                if span[1] - lo >= remaining:
                    return lo + remaining
                remaining -= span[1] - lo
            day += timedelta(days=1)
        return None
