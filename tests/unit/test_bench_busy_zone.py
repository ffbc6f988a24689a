"""The CPU bench's busy-hour board (tests/bench/bench_board.py) runs the simulator in a zone where it is the model's
busiest local hour, whatever the hour of the run."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shiftboard.adapters._contact_centre import DAY_CURVE
from tests.bench.bench_board import busy_hour_zone


@pytest.mark.parametrize("hour", range(24))
def test_the_zone_puts_every_hour_of_the_run_in_the_models_busiest_hour(hour):
    busiest = max(range(24), key=lambda each: DAY_CURVE[each])
    for minute in (0, 59):
        now = datetime(2026, 11, 24, hour, minute, tzinfo=UTC)
        local = now.astimezone(ZoneInfo(busy_hour_zone(now.timestamp())))
        assert (local.hour, local.minute) == (busiest, minute)
