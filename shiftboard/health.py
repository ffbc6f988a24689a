"""Each source's health, from its sync state: ok, stale, failing or waiting (never synced yet)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shiftboard.model import format_time
from shiftboard.store import SyncState
from shiftboard.text import clean

if TYPE_CHECKING:  # types only: the board's first frame is drawn before pydantic is imported
    from shiftboard.adapters.base import SourceSettings

#: A source is stale when it has not succeeded for this many poll intervals.
STALE_INTERVALS = 3
#: The header states a source's age in steps of this many seconds (under 90 s): a glance needs "20 s ago", not
#: "23 s ago", and a header whose text changes on every read redraws the whole screen on every read.
HEADER_AGE_STEP_S = 10


@dataclass(slots=True, frozen=True)
class Health:
    """One source's health at a moment.

    status: "ok" (last sync succeeded and is recent), "stale" (no success for three intervals), "failing" (the
    last sync failed; ``reason`` and ``failing_since`` say what and since when), "waiting" (no sync yet).
    """

    source: str
    kind: str
    status: str
    last_success_at: float | None
    reason: str | None
    failing_since: float | None
    consecutive_failures: int
    records_total: int
    skipped_total: int

    def describe(self, at: float) -> str:
        """A short line for the header: "updated just now", "updated 20 s ago", "failing: 401 … (for 10 s)".

        Ages under 90 s are rounded down to ``HEADER_AGE_STEP_S`` ("20 s" from 20 s up to 30 s); under one step
        the update is "just now".
        """
        if self.status == "waiting":
            return "waiting for first sync"
        if self.status == "failing":
            return f"failing: {self.reason} (for {ago(at - (self.failing_since or at), HEADER_AGE_STEP_S)})"
        if self.last_success_at is None:
            age = "never"
        elif at - self.last_success_at < HEADER_AGE_STEP_S:
            age = "just now"
        else:
            age = f"{ago(at - self.last_success_at, HEADER_AGE_STEP_S)} ago"
        if self.status == "stale":
            return f"stale: updated {age}"
        return f"updated {age}"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.source,
            "kind": self.kind,
            "status": self.status,
            "last_success_at": format_time(self.last_success_at) if self.last_success_at else None,
            "error": self.reason,
            "failing_since": format_time(self.failing_since) if self.failing_since else None,
            "consecutive_failures": self.consecutive_failures,
            "records": self.records_total,
            "skipped": self.skipped_total,
        }


def health(settings: SourceSettings, state: SyncState | None, at: float) -> Health:
    """The health of one configured source at ``at``."""
    if state is None:
        return Health(settings.name, settings.kind, "waiting", None, None, None, 0, 0, 0)
    if state.consecutive_failures > 0:
        status = "failing"
    elif state.last_success_at is None:
        status = "waiting"
    elif at - state.last_success_at > STALE_INTERVALS * settings.interval_s:
        status = "stale"
    else:
        status = "ok"
    return Health(
        source=settings.name,
        kind=settings.kind,
        status=status,
        last_success_at=state.last_success_at,
        reason=clean(state.last_error, 200) if state.last_error else None,
        failing_since=state.failing_since,
        consecutive_failures=state.consecutive_failures,
        records_total=state.records_total,
        skipped_total=state.skipped_total,
    )


def ago(seconds: float, step_s: int = 1) -> str:
    """A compact age: 42 s, 5 min, 3 h, 2 d; under 90 s rounded to the second, or down to a multiple of ``step_s``."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        if step_s > 1:
            return f"{int(seconds // step_s) * step_s} s"
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"
