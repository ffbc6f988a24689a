"""Threshold states, per-queue overrides, value formats and the tile grid's column choice."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shiftboard.config import BoardSettings, Settings, Threshold
from shiftboard.tui import formatting
from shiftboard.tui.figures import FIGURES_BY_ID, State, judge, threshold
from shiftboard.tui.look import BoardLook
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


def test_the_look_judges_as_the_settings_do():
    # What the board draws its first frame with (plain values, look.py) against the validated [board] section.
    settings = Settings(
        board={"queues": {"VIP": {"asa_s": {"warn": 5, "breach": 10}}}, "thresholds": {"x": {"warn": 1, "breach": 2}}}
    )
    look = BoardLook.of(settings, [])
    for figure_id in ("asa_s", "x", "waiting_now", "agents_busy"):
        for queue in ("VIP", "Other", None):
            expected = threshold(settings.board, figure_id, queue)
            got = threshold(look.limits, figure_id, queue)
            if expected is None:
                assert got is None
            else:
                assert got is not None and (got.warn, got.breach) == (expected.warn, expected.breach)
            assert [judge(v, got) for v in (0, 7, 12, 50)] == [judge(v, expected) for v in (0, 7, 12, 50)]


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


@given(st.floats(min_value=0, max_value=10 * 86400, allow_nan=False))
def test_an_age_keeps_its_text_exactly_as_long_as_duration_steady_s_says(seconds: float):
    steady = formatting.duration_steady_s(seconds)
    shown = formatting.duration(seconds)
    # The same text up to the flip (a millisecond before ``steady``), a new one at ``steady``.
    assert all(formatting.duration(seconds + (steady - 0.001) * k / 8) == shown for k in range(8))
    assert formatting.duration(seconds + steady) != shown
    assert steady <= (1.001 if seconds < 3599 else 60.001 if seconds < 47 * 3600 else 3600.001)


@given(st.floats(min_value=0, max_value=400, allow_nan=False), st.sampled_from([HIGHER_WORSE, None]))
def test_a_growing_age_is_steady_until_its_text_or_its_state_changes(elapsed: float, limit: Threshold | None):
    longest_wait = FIGURES_BY_ID["longest_wait_s"]
    figures = {"contacts": {"longest_wait_s": 30.0}}
    steady = longest_wait.steady_s(figures, elapsed, limit)
    assert steady is not None and steady > 0

    def seen(after: float) -> tuple[str, State]:
        value = longest_wait.current(figures, elapsed + after)
        return longest_wait.fmt(value), judge(value, limit)

    assert all(seen((steady - 0.001) * k / 8) == seen(0.0) for k in range(8))
    assert seen(steady) != seen(0.0)


def test_a_figure_that_does_not_grow_or_has_no_value_plans_no_move():
    assert FIGURES_BY_ID["waiting_now"].steady_s({"contacts": {"waiting_now": 3}}, 5.0, None) is None
    assert FIGURES_BY_ID["longest_wait_s"].steady_s({"contacts": {}}, 5.0, HIGHER_WORSE) is None
