"""The simulator freshness bench (tests/bench/bench_board.py) tells its commits apart from their sync_state rows."""

from __future__ import annotations

import json

from tests.bench.bench_board import _commit_kind

MID_FETCH = json.dumps({"page": {"to": 3600.0, "skip": 0, "baseline": False}})
AFTER_FETCH = json.dumps({"page": None})


def test_a_commit_that_brought_nothing_is_idle():
    assert _commit_kind((10.0, 5, AFTER_FETCH), (11.0, 5, AFTER_FETCH)) == "idle"


def test_a_page_after_a_mid_sequence_cursor_is_the_first_syncs_catch_up():
    assert _commit_kind((10.0, 5, MID_FETCH), (10.1, 9, MID_FETCH)) == "catch-up"
    assert _commit_kind((10.0, 5, MID_FETCH), (10.1, 9, AFTER_FETCH)) == "catch-up"  # its last page too


def test_records_after_the_first_sync_are_a_change():
    assert _commit_kind((10.0, 5, AFTER_FETCH), (11.0, 6, AFTER_FETCH)) == "change"
    assert _commit_kind((10.0, 5, None), (11.0, 6, None)) == "change"
