"""Subjects, names and queue names that look like markup or escapes are shown literally and break nothing."""

from __future__ import annotations

from rich.text import Text

from shiftboard.model import Batch, Case
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.screens.detail import DetailScreen
from shiftboard.tui.screens.rows import RowsScreen
from shiftboard.tui.widgets.board_header import BoardHeader
from shiftboard.tui.widgets.row_table import RowTable
from tests.tui.conftest import until
from tests.tui.seed import HOSTILE_SUBJECTS, NOW, write


async def test_hostile_text_is_literal_and_harmless(settings, seeded):
    batch = Batch(
        cases=[
            Case("seed", f"H-{i}", "[b]Tech[/b]", "open", "normal", NOW - 7 * 3600 + i, subject=s, customer=s)
            for i, s in enumerate(HOSTILE_SUBJECTS)
        ]
    )
    write(seeded, batch)
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.press("3")  # Billing, Sales, [b]Tech[/b]
        assert app.queue == "[b]Tech[/b]"
        assert "[b]Tech[/b]" in str(app.screen.query_one(BoardHeader).content)
        app.action_drill("backlog_open")
        await until(pilot, lambda: isinstance(app.screen, RowsScreen) and app.screen.loaded)
        table = app.screen.query_one(RowTable)
        column = app.screen.columns.index("subject")
        shown = [table.get_row_at(i)[column] for i in range(table.row_count)]
        assert all(isinstance(cell, Text) for cell in shown)
        assert [cell.plain for cell in shown] == [
            "refund [/bold] please",
            "[@click=app.quit]x[/]",
            "[$accent]x[/]",
            "red alert",  # the ANSI colour codes are stripped
            "bidi evil text",  # the bidi override is stripped
        ]
        assert all(not cell.spans for cell in shown)
        await pilot.click(RowTable, offset=(20, 2))
        await pilot.pause()
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.click("#detail", offset=(20, 5))
        await pilot.pause()
        detail = str(app.screen.query_one("#detail").content)
        assert "[@click=app.quit]x[/]" in detail or "refund [/bold] please" in detail
        assert "\x1b" not in detail and "\u202e" not in detail
        app.notify(HOSTILE_SUBJECTS[0], markup=False)
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_a_source_error_reason_is_literal_in_the_header(settings, seeded):
    from shiftboard.cache_lock import CollectorLock
    from shiftboard.config import SourceSettings

    reason = "HTTP 401 [/bold] [@click=app.quit]login[/] \x1b[2J\u202e"
    seeded.record_failure("helpdesk", "zendesk", reason, NOW - 120)
    lock = CollectorLock(settings.cache.resolved_path())
    assert lock.acquire()  # another process collects: the board only reads
    try:
        source = SourceSettings(name="helpdesk", kind="zendesk")
        app = ShiftboardApp(settings, seeded, [source], clock=lambda: NOW)
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.data is not None)
            header = str(app.screen.query_one(BoardHeader).content)
            assert "failing: HTTP 401 [/bold] [@click=app.quit]login[/]" in header
            assert "\x1b" not in header and "\u202e" not in header
            assert "another process collects" in header
            assert not app.collecting
            assert app.is_running
    finally:
        lock.release()
