"""Drill-downs larger than the first screenful: the first rows come first, the rest follow in order, nothing lost."""

from __future__ import annotations

from textual.widgets import DataTable

from shiftboard.model import Batch, Case
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.screens.rows import CHUNK_ROWS, FIRST_ROWS, SHOWN_MAX, RowsScreen
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import until
from tests.tui.seed import NOW, write

#: More than the first screenful plus two chunks, and more than the table shows.
COUNT = SHOWN_MAX + 37
assert COUNT > FIRST_ROWS + 2 * CHUNK_ROWS


def _cases() -> Batch:
    batch = Batch()
    # Case L-n was opened (COUNT - n) minutes before 06:00 (four hours before NOW): L-0 is the oldest.
    batch.cases = [
        Case("seed", f"L-{n}", "Billing", "open", "normal", NOW - 4 * 3600 - (COUNT - n) * 60, subject=f"case {n}")
        for n in range(COUNT)
    ]
    return batch


async def test_open_cases_past_the_first_screenful_all_arrive_in_order(settings, seeded):
    write(seeded, _cases())
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.data is not None)
        tile = next(t for t in app.screen.query(Tile) if t.figure.id == "backlog_open")
        tile.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RowsScreen) and app.screen.loaded, tries=400)
        screen = app.screen
        table = screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == SHOWN_MAX, tries=400)
        # The seed's four open cases (C-1…C-4) are at most 3 h old, younger than every generated one, so the oldest
        # SHOWN_MAX rows are generated ones, L-0 first, in order across the first screenful and every chunk.
        ids = [str(key.value).split("\x1f")[1] for key in table.rows]
        assert ids == [f"L-{n}" for n in range(SHOWN_MAX)]
        assert len(screen.rows) == COUNT + 4
