"""The real board on a real cache: figures on screen, live change, drill-down, detail, filter, queues, help, quit.

Expected figures are worked out by hand from tests/tui/seed.py (window 00:00–10:00 UTC).
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from shiftboard.model import Batch
from shiftboard.store import Store
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.screens.board import BoardScreen
from shiftboard.tui.screens.detail import DetailScreen
from shiftboard.tui.screens.help import HelpScreen
from shiftboard.tui.screens.rows import RowsScreen
from shiftboard.tui.widgets.board_header import BoardHeader
from shiftboard.tui.widgets.row_table import RowTable
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import settled, until
from tests.tui.seed import NOW, contact, write

SIZES = [(80, 24), (200, 60)]


def tile(app: ShiftboardApp, figure_id: str) -> Tile:
    return app.screen.query_one(f"#tile-{figure_id}", Tile)


def header_text(app: ShiftboardApp) -> str:
    return str(app.screen.query_one(BoardHeader).content)


@pytest.mark.parametrize("size", SIZES)
async def test_figures_show_and_follow_the_cache(settings, seeded, size):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.data is not None)
        # 3 waiting (90 s, 30 s, 5 s); 4 answered (10, 20, 40, 5 s) and 1 abandoned (60 s): SL 3/5, ASA 18.75 s.
        assert tile(app, "waiting_now").text == "3"
        assert tile(app, "longest_wait_s").text == "1:30"
        assert tile(app, "service_level_pct").text == "60%"
        assert tile(app, "asa_s").text == "0:19"
        assert tile(app, "abandon_rate_pct").text == "1"
        assert tile(app, "abandon_rate_pct").note == "20%"
        assert tile(app, "backlog_open").text == "4"
        assert tile(app, "oldest_case_age_s").text == "3h00m"
        assert tile(app, "first_reply_p90_s").text == "—"
        # States as words: SL 60 % is below the breach line (70), longest wait 90 s is past warn (60).
        assert tile(app, "service_level_pct").state.value == "BREACH"
        assert tile(app, "longest_wait_s").state.value == "WARN"
        assert tile(app, "waiting_now").state.value == "OK"
        # A wall clock to the minute: it moves with the reads, never with a second hand.
        assert header_text(app).startswith("10:00  ")
        # Every tile is on screen, whole, at this size, once the screen has laid out what it shows.
        await pilot.pause()
        screen_region = app.screen.region
        for each in app.screen.query(Tile):
            assert screen_region.contains_region(each.region), each.id
            assert each.region.height >= 4

        write(seeded, Batch(contacts=[contact("new-1", "Sales", NOW - 50), contact("new-2", "Sales", NOW - 400)]))
        await until(pilot, lambda: tile(app, "waiting_now").text == "5")
        assert tile(app, "longest_wait_s").text == "6:40"


async def test_ages_and_clock_move_with_the_reads(settings, seeded):
    now = [NOW]
    app = ShiftboardApp(settings, seeded, [], clock=lambda: now[0])
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.data is not None)
        assert tile(app, "longest_wait_s").text == "1:30"
        # 10:01:30: the next read finds the longest wait 90 s older, the oldest case too, and the clock a minute on.
        now[0] = NOW + 90
        await until(pilot, lambda: app.data.at == NOW + 90)
        assert tile(app, "longest_wait_s").text == "3:00"
        assert tile(app, "oldest_case_age_s").text == "3h01m"
        assert header_text(app).startswith("10:01  ")


async def test_ages_on_tiles_move_every_second_between_reads(settings, seeded):
    """DESIGN: ages (longest wait, oldest case) tick every second from stored timestamps without a new query."""
    slow = settings.model_copy(update={"board": settings.board.model_copy(update={"refresh_s": 3600.0})})
    now = [NOW]
    app = ShiftboardApp(slow, seeded, [], clock=lambda: now[0])
    async with app.run_test() as pilot:
        await settled(pilot, app)
        reads = app.reads
        assert tile(app, "longest_wait_s").text == "1:30"
        now[0] = NOW + 30
        await until(pilot, lambda: tile(app, "longest_wait_s").text == "2:00")
        now[0] = NOW + 65
        await until(pilot, lambda: tile(app, "oldest_case_age_s").text == "3h01m")
        assert app.reads == reads and app.data.at == NOW  # no read: the ages moved from the stored moment
        assert header_text(app).startswith("10:00  ")  # the clock moves with the reads


async def test_a_live_board_whose_figures_stand_still_does_not_repaint(settings, monkeypatch):
    """An empty cache: no figure and no age moves, only the clock, within one minute (10:00:00 to 10:00:40). The
    reads go on (every second here) and the board on screen stays as it is: nothing asks for a repaint."""
    repaints: list[str] = []
    for widget in (Tile, BoardHeader):
        original = widget.refresh

        def counting(self, *args, _original=original, **kwargs):
            repaints.append(self.id or type(self).__name__)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(widget, "refresh", counting)
    now = [NOW]
    with Store(settings.cache.resolved_path()) as store:
        app = ShiftboardApp(settings, store, [], clock=lambda: now[0])
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.data is not None)
            await pilot.pause()
            assert header_text(app).startswith("10:00  ")
            repaints.clear()
            reads = app.reads
            for second in (10, 20, 30, 40):
                now[0] = NOW + second
                await until(pilot, lambda s=second: app.data.at == NOW + s)
            await pilot.pause()
            assert app.reads >= reads + 4
            assert repaints == []
            assert header_text(app).startswith("10:00  ")


async def test_drill_into_a_tile_open_a_row_and_go_back(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.press("enter")  # the first tile: waiting now
        assert isinstance(app.screen, RowsScreen)
        await until(pilot, lambda: app.screen.loaded)
        table = app.screen.query_one(RowTable)
        assert [k.split("\x1f")[1] for k in table.row_keys] == ["b-w1", "b-w2", "s-w1"]
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        detail = str(app.screen.query_one("#detail").content)
        assert "b-w1" in detail and "Ann" in detail and "1:30" in detail
        await pilot.press("escape")
        assert isinstance(app.screen, RowsScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)

        # Open cases: four, oldest first.
        for _ in range(10):
            await pilot.press("right")
        assert app.focused.id == "tile-backlog_open"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RowsScreen) and app.screen.loaded)
        table = app.screen.query_one(RowTable)
        assert [k.split("\x1f")[1] for k in table.row_keys] == ["C-1", "C-2", "C-3", "C-4"]


async def test_filter_and_sort_the_table(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.loaded)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"sales")
        table = app.screen.query_one(RowTable)
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("enter", "escape")  # leave the field, then clear the filter
        await until(pilot, lambda: table.row_count == 3)
        assert isinstance(app.screen, RowsScreen)
        app.screen._sort("offered_at")  # oldest first: b-w1 (Ann), b-w2 (Bob), s-w1 (Dee)
        customers = [table.get_row_at(i)[app.screen.columns.index("customer")].plain for i in range(3)]
        assert customers == ["Ann", "Bob", "Dee"]
        app.screen._sort("customer")
        app.screen._sort("customer")  # again: descending
        customers = [table.get_row_at(i)[app.screen.columns.index("customer")].plain for i in range(3)]
        assert customers == ["Dee", "Bob", "Ann"]


async def test_digits_focus_a_queue_and_zero_shows_all(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.press("1")
        assert app.queue == "Billing"
        assert tile(app, "waiting_now").text == "2"
        assert tile(app, "service_level_pct").text == "50%"  # 10 and 20 s of 10, 20, 40 answered + 1 abandoned
        assert "Billing" in header_text(app)
        await pilot.press("2")
        assert app.queue == "Sales"
        assert tile(app, "waiting_now").text == "1"
        await pilot.press("9")
        assert app.queue == "Sales"
        await pilot.press("0")
        assert app.queue is None
        assert tile(app, "waiting_now").text == "3"


async def test_help_is_generated_from_bindings_and_q_quits(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        ids = {entry.binding_id for entry in app.screen.entries}
        assert {"quit", "help", "refresh", "drill", "queue-all", "tile-left"} <= ids
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)


async def test_agents_and_ratings_drill_to_their_detail(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        for figure_id, key, expected in (("agents_busy", "ag1", "Agent One"), ("csat_pct", "R-1", "great")):
            app.action_drill(figure_id)
            await until(pilot, lambda: isinstance(app.screen, RowsScreen) and app.screen.loaded)
            table = app.screen.query_one(RowTable)
            assert [k.split("\x1f")[1] for k in table.row_keys] == [key]
            await pilot.press("enter")
            assert isinstance(app.screen, DetailScreen)
            await until(pilot, lambda text=expected: text in str(app.screen.query_one("#detail").content))
            await pilot.press("escape", "escape")
            assert isinstance(app.screen, BoardScreen)


async def test_s_cycles_the_sort_column_and_capital_s_reverses(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.loaded)
        screen = app.screen
        await pilot.press("s")
        assert screen.sorted_by == (screen.columns[0], False)
        await pilot.press("s")
        assert screen.sorted_by == (screen.columns[1], False)
        await pilot.press("S")
        assert screen.sorted_by == (screen.columns[1], True)
        table = screen.query_one(RowTable)
        queues = [table.get_row_at(i)[1].plain for i in range(table.row_count)]
        assert queues == ["Sales", "Billing", "Billing"]


async def test_a_board_without_sources_only_reads_and_leaves_the_collector_lock_free(settings, seeded):
    from shiftboard.cache_lock import CollectorLock

    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        assert not app.collecting
        lock = CollectorLock(settings.cache.resolved_path())
        assert lock.acquire()  # a `shiftboard collect` started now can write to this cache
        lock.release()
        assert "no sources configured: reading the cache" in header_text(app)
