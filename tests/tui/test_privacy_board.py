"""Privacy mode (``--privacy``, the ``p`` key) masks customers and subjects on every screen; agents' names stay."""

from __future__ import annotations

from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.screens.detail import DetailScreen
from shiftboard.tui.screens.rows import RowsScreen
from shiftboard.tui.widgets.board_header import BoardHeader
from shiftboard.tui.widgets.row_table import RowTable
from tests.tui.conftest import until
from tests.tui.seed import NOW


def _column(app, name: str) -> list[str]:
    table = app.screen.query_one(RowTable)
    index = app.screen.columns.index(name)
    return [table.get_row_at(i)[index].plain for i in range(table.row_count)]


async def _open_cases(app, pilot) -> None:
    app.action_drill("backlog_open")
    await until(pilot, lambda: isinstance(app.screen, RowsScreen) and app.screen.loaded)


async def test_p_masks_customers_and_subjects_and_keeps_agents(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.data is not None)
        assert "PRIVACY" not in str(app.screen.query_one(BoardHeader).content)
        await _open_cases(app, pilot)
        assert "Invoice wrong" in _column(app, "subject") and "Ann" in _column(app, "customer")
        await pilot.press("escape")
        await pilot.press("p")
        assert app.privacy
        assert "PRIVACY" in str(app.screen.query_one(BoardHeader).content)
        await _open_cases(app, pilot)
        subjects, customers = _column(app, "subject"), _column(app, "customer")
        # Written out by hand: the seed's subjects by their length, "Ann" by her initial.
        assert sorted(subjects) == sorted(
            f"••• subject hidden ({len(s)} characters)"
            for s in ("Invoice wrong", "Card declined", "Address change", "Quote please")
        )
        assert "A." in customers and "Ann" not in customers
        assert "ag1" in _column(app, "assignee")  # agents stay
        table = app.screen.query_one(RowTable)
        table.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.record is not None)
        detail = str(app.screen.query_one("#detail").content)
        assert "subject hidden" in detail
        for secret in ("Invoice wrong", "Card declined", "Address change", "Quote please", "Ann"):
            assert secret not in detail
        # p again shows them, on the screen open now.
        await pilot.press("p")
        assert not app.privacy
        detail = str(app.screen.query_one("#detail").content)
        assert "subject hidden" not in detail


async def test_privacy_from_the_start_masks_agents_drill_not_at_all(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW, privacy=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: app.data is not None)
        assert "PRIVACY" in str(app.screen.query_one(BoardHeader).content)
        app.action_drill("agents_available")
        await until(pilot, lambda: isinstance(app.screen, RowsScreen) and app.screen.loaded)
        assert _column(app, "name") == ["Agent Two"]
        await pilot.press("escape")
        app.action_drill("waiting_now")
        await until(pilot, lambda: isinstance(app.screen, RowsScreen) and app.screen.loaded)
        customers = _column(app, "customer")
        assert sorted(customers) == ["A.", "B.", "D."]  # Ann, Bob, Dee
