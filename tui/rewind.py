"""Rewind: step the whole board back and forward through the day, and return to live.

The board shows one moment (``app.at``; None is live). Stepping moves that moment on a grid of ``[board]
rewind_step_min`` minutes counted from local midnight, so a replay lands on round times (14:35, 14:40) whatever
moment it started from. A step forward that reaches now returns to live. Every figure and drill-down already takes
the moment, so rewinding is setting it and reading the cache again.
"""

from __future__ import annotations

import math
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType

if TYPE_CHECKING:
    from shiftboard.tui.app import ShiftboardApp

#: Offsets closer than this to a grid point count as on it (float seconds from timestamps).
_ON_GRID_S = 1e-6

REWIND_BINDINGS: list[BindingType] = [
    Binding("left_square_bracket", "rewind(-1)", "Rewind", key_display="[", id="rewind-back"),
    Binding("right_square_bracket", "rewind(1)", "Step forward", key_display="]", show=False, id="rewind-forward"),
    Binding("l", "live", "Back to live", show=False, id="live"),
]


def local_midnight(moment: float, zone: tzinfo | None) -> float:
    """The start of ``moment``'s day in ``zone``, as epoch seconds."""
    local = datetime.fromtimestamp(moment, tz=zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def step(moment: float, now: float, step_s: float, direction: int, zone: tzinfo | None) -> float | None:
    """The moment one step back (``direction`` < 0) or forward (> 0) from ``moment``; None means live.

    Steps land on the grid midnight + k × ``step_s``: back goes to the grid point strictly before ``moment``,
    forward to the one strictly after it. Forward to ``now`` or later is live.
    """
    if step_s <= 0:
        raise ValueError("step_s must be positive")
    midnight = local_midnight(moment, zone)
    offset = moment - midnight
    k = math.floor(offset / step_s)
    on_grid = abs(offset - k * step_s) < _ON_GRID_S or abs(offset - (k + 1) * step_s) < _ON_GRID_S
    if abs(offset - (k + 1) * step_s) < _ON_GRID_S:
        k += 1
    if direction < 0:
        target = midnight + (k - 1 if on_grid else k) * step_s
        return min(target, now)
    target = midnight + (k + 1) * step_s
    return None if target >= now else target


class RewindActions:
    """The app's rewind keys (mixed into ShiftboardApp; kept here so the app module stays small)."""

    REWIND_BINDINGS: ClassVar[list[BindingType]] = REWIND_BINDINGS

    def action_rewind(self: ShiftboardApp, direction: int) -> None:
        """Show the board one ``[board] rewind_step_min`` step earlier (-1) or later (1)."""
        now = self.clock()
        target = step(self.moment(), now, self.look.rewind_step_min * 60.0, direction, self.zone)
        self.go_to(target)

    def action_live(self) -> None:
        """Back to the live board."""
        self.go_to(None)  # type: ignore[attr-defined]

    def go_to(self: ShiftboardApp, at: float | None) -> None:
        """Show the board at ``at`` (None: live): the header changes at once, figures follow the read."""
        if at == self.at:
            return
        self.at = at
        self.show_board()
        self.read_now()
