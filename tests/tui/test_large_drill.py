"""A drill-down of 10,000 rows: every row read is in the table, in order, and scrolling to the end, sorting,
filtering and opening a row all work on all of them."""

from __future__ import annotations

from shiftboard.drilldown import MAX_ROWS
from shiftboard.model import Batch, Case
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.screens.detail import DetailScreen
from shiftboard.tui.screens.rows import FIRST_ROWS, RowsScreen
from shiftboard.tui.widgets.row_table import RowTable
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import until
from tests.tui.seed import NOW, write

#: More than one drill-down reads, and far more than the first screenful.
COUNT = MAX_ROWS + 37
assert COUNT > 10 * FIRST_ROWS


def _cases() -> Batch:
    batch = Batch()
    # Case L-n was opened (COUNT - n) minutes before 06:00 (four hours before NOW): L-0 is the oldest.
    batch.cases = [
        Case("seed", f"L-{n}", "Billing", "open", "normal", NOW - 4 * 3600 - (COUNT - n) * 60, subject=f"case {n}")
        for n in range(COUNT)
    ]
    return batch


def _on_screen(table: RowTable) -> str:
    return "\n".join(table.render_line(y).text for y in range(table.size.height))


def _ids(table: RowTable, first: int = 0, last: int | None = None) -> list[str]:
    return [key.split("\x1f")[1] for key in table.row_keys[first:last]]


async def test_ten_thousand_open_cases_all_usable(settings, seeded):
    write(seeded, _cases())
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.data is not None)
        tile = next(t for t in app.screen.query(Tile) if t.figure.id == "backlog_open")
        tile.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RowsScreen))
        screen = app.screen
        table = screen.query_one(RowTable)
        await until(pilot, lambda: table.row_count == MAX_ROWS, tries=400)
        assert screen.loaded and len(screen.rows) == MAX_ROWS
        assert f"{MAX_ROWS} rows (the first {MAX_ROWS} read)" in str(screen.query_one("#rows-title").content)
        # The seed's four open cases (C-1…C-4) are at most 3 h old, younger than every generated one, so the
        # oldest MAX_ROWS rows are generated ones, L-0 first, in order across the first screenful and the rest.
        assert _ids(table) == [f"L-{n}" for n in range(MAX_ROWS)]
        assert "L-0 " in _on_screen(table) and "L-9999" not in _on_screen(table)

        table.focus()
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == MAX_ROWS - 1
        assert "L-9999" in _on_screen(table) and "L-0 " not in _on_screen(table)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.record is not None)
        assert "case 9999" in str(app.screen.query_one("#detail").content)
        await pilot.press("escape")
        assert app.screen is screen

        # Sorting takes every row read; the cursor stays on its row (L-5) wherever that row goes.
        await pilot.press("home", "down", "down", "down", "down", "down")
        assert _ids(table, table.cursor_row, table.cursor_row + 1) == ["L-5"]
        screen._sort("subject")  # as text: case 0, case 1, case 10, case 100, case 1000, case 1001, …
        await pilot.pause()
        assert _ids(table, 0, 5) == ["L-0", "L-1", "L-10", "L-100", "L-1000"]
        assert _ids(table, table.cursor_row, table.cursor_row + 1) == ["L-5"]
        assert "L-5 " in _on_screen(table)
        screen._sort("subject")
        assert _ids(table, 0, 2) == ["L-9999", "L-9998"]
        await pilot.click(RowTable, offset=(2, 0))  # the header of the first column, id
        assert screen.sorted_by == ("id", False)
        assert _ids(table, 0, 3) == ["L-0", "L-1", "L-10"]

        await pilot.press("slash", *"case 4242")
        await until(pilot, lambda: table.row_count == 1)
        assert _ids(table) == ["L-4242"]
        assert f"1 of {MAX_ROWS} rows" in str(screen.query_one("#rows-title").content)
        await pilot.press("enter")  # leave the field
        await pilot.press("enter")  # open the row
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.record is not None)
        assert "case 4242" in str(app.screen.query_one("#detail").content)
