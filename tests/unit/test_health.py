"""A source's health as the header says it: ages in steps a glance needs, so reads a moment apart say the same."""

from __future__ import annotations

from shiftboard.adapters.base import SourceSettings
from shiftboard.health import ago, health
from shiftboard.store import SyncState

NOW = 1795428000.0
SOURCE = SourceSettings(name="phones", kind="simulator", interval_s=30)


def _state(**fields: object) -> SyncState:
    base: dict[str, object] = {
        "source": "phones",
        "kind": "simulator",
        "cursor": None,
        "last_attempt_at": NOW,
        "last_success_at": NOW,
        "last_error": None,
        "last_error_at": None,
        "failing_since": None,
        "consecutive_failures": 0,
        "records_total": 10,
        "skipped_total": 0,
        "last_skipped_sample": None,
    }
    base.update(fields)
    return SyncState(**base)  # type: ignore[arg-type]


def _said(state: SyncState, seconds_later: float) -> str:
    return health(SOURCE, state, NOW + seconds_later).describe(NOW + seconds_later)


def test_the_header_says_a_recent_update_in_steps_of_ten_seconds():
    state = _state()
    assert _said(state, 0) == _said(state, 9.9) == "updated just now"
    assert _said(state, 10) == "updated 10 s ago"
    assert _said(state, 21) == _said(state, 23) == _said(state, 29.9) == "updated 20 s ago"
    assert _said(state, 30) == "updated 30 s ago"
    assert _said(state, 95) == "stale: updated 2 min ago"  # three 30 s polls missed


def test_a_failing_source_counts_its_failure_in_the_same_steps():
    state = _state(last_error="401 Unauthorized", failing_since=NOW, consecutive_failures=2)
    assert _said(state, 14) == "failing: 401 Unauthorized (for 10 s)"


def test_elsewhere_an_age_keeps_its_seconds():
    assert ago(23) == "23 s"
    assert ago(23, step_s=10) == "20 s"
    assert ago(600, step_s=10) == ago(600) == "10 min"
