"""SVG snapshots of the board with fixed data and a fixed clock (update with `make snapshot-update`)."""

from __future__ import annotations

from shiftboard.tui.app import ShiftboardApp
from tests.tui.conftest import until
from tests.tui.seed import NOW


def test_board_at_80x24(snap_compare, settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)

    async def loaded(pilot):
        await until(pilot, lambda: app.data is not None)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded)


def test_rows_behind_open_cases_at_80x24(snap_compare, settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)

    async def drilled(pilot):
        await until(pilot, lambda: app.data is not None)
        app.action_drill("backlog_open")
        await until(pilot, lambda: getattr(app.screen, "loaded", False))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=drilled)
