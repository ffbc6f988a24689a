"""Threshold states, per-queue overrides, value formats and the tile grid's column choice."""

from __future__ import annotations

from shiftboard.config import BoardSettings, Threshold
from shiftboard.tui import formatting
from shiftboard.tui.figures import State, judge, threshold
from shiftboard.tui.widgets.tile_grid import columns_for

HIGHER_WORSE = Threshold(warn=60, breach=180)
LOWER_WORSE = Threshold(warn=80, breach=70)


def test_a_value_at_a_threshold_is_within_it():
    assert [judge(v, HIGHER_WORSE) for v in (0, 60, 61, 180, 181)] == [
        State.OK,
        State.OK,
        State.WARN,
        State.WARN,
        State.BREACH,
    ]
    assert [judge(v, LOWER_WORSE) for v in (100, 80, 79, 70, 69)] == [
        State.OK,
        State.OK,
        State.WARN,
        State.WARN,
        State.BREACH,
    ]
    assert judge(None, HIGHER_WORSE) is State.NONE
    assert judge(5, None) is State.NONE


def test_queue_overrides_win():
    board = BoardSettings(queues={"VIP": {"asa_s": Threshold(warn=5, breach=10)}})
    assert threshold(board, "asa_s", "VIP") == Threshold(warn=5, breach=10)
    assert threshold(board, "asa_s", "Other") == board.thresholds["asa_s"]
    assert threshold(board, "asa_s", None) == board.thresholds["asa_s"]
    assert threshold(board, "agents_busy", "VIP") is None


def test_formats():
    seconds = (None, 0, 59.6, 90, 3599, 3600, 3 * 3600 + 7 * 60, 5 * 86400 + 4 * 3600)
    assert [formatting.duration(s) for s in seconds] == [
        "—",
        "0:00",
        "1:00",
        "1:30",
        "59:59",
        "1h00m",
        "3h07m",
        "5d04h",
    ]
    assert formatting.percent(87.5) == "88%" and formatting.percent(None) == "—"


def test_columns_fit_the_terminal():
    assert columns_for(16, 80, 21) == 4  # 4 × 4 tiles of 20 × 5
    assert columns_for(16, 200, 57) == 4  # 50 × 14: balanced
    assert columns_for(16, 40, 10) == 2  # nothing fits: as many columns as the width allows, the grid scrolls
