"""The board's and the wall's compositor (tui/compositor.py): a change to one tile renders that tile and not the others,
and what it sends to the terminal is what Textual's own compositor sends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual._compositor import Compositor
from textual.app import App
from textual.content import Content
from textual.geometry import Region
from textual.widget import Widget

import shiftboard.tui.app
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.compositor import CroppedCompositor
from shiftboard.tui.figures import FIGURES_BY_ID, State
from shiftboard.tui.screens.board import BoardScreen
from shiftboard.tui.screens.wall import WallScreen
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import settled, until
from tests.tui.seed import NOW

#: What the updates hold: a cursor move, a change of style, or anything else in a control sequence.
_SEQUENCE = re.compile(r"\x1b\[([0-9;]*)([A-Za-z])")


def _apply(update: str, screen: dict[tuple[int, int], tuple[str, str]]) -> None:
    """Write ``update`` on ``screen`` (cell → style and character), as a terminal would: cursor moves, styles and
    characters, a line feed to the next line's start."""
    x = y = 0
    style = ""
    at = 0
    for match in [*_SEQUENCE.finditer(update), None]:
        text = update[at : match.start() if match else len(update)]
        for char in text:
            if char == "\n":
                x, y = 0, y + 1
                continue
            screen[x, y] = (style, char)
            x += cell_len(char)
        if match is None:
            break
        at = match.end()
        numbers, kind = match.groups()
        if kind == "H":
            row, column = numbers.split(";")
            x, y = int(column) - 1, int(row) - 1
        elif kind == "m":
            style = "" if numbers in ("", "0") else numbers


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (60, 40)])
async def test_a_partial_update_leaves_the_screen_textual_would(settings, seeded, size):
    """Each update changes the cells Textual's own compositor would change, to what it would write there (Textual
    may also send cells that do not change: a changed area's line from the start of the widget's piece of it)."""
    app = ShiftboardApp(settings, seeded, [], at=NOW, clock=lambda: NOW)
    sent: list[tuple[str, str]] = []
    async with app.run_test(size=size, notifications=True) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.pause()
        board = app.screen
        assert isinstance(board, BoardScreen)
        compositor = board._compositor
        assert isinstance(compositor, CroppedCompositor)
        narrowed = compositor.render_partial_update

        def both():  # the same dirty areas rendered narrowed, then as Textual renders them
            dirty = set(compositor._dirty_regions)
            update = narrowed()
            compositor._dirty_regions.update(dirty)
            compositor.narrow = False
            try:
                stock = narrowed()
            finally:
                compositor.narrow = True
            if update is not None and stock is not None:
                sent.append((update.render_segments(app.console), stock.render_segments(app.console)))
            return update

        compositor.render_partial_update = both  # type: ignore[method-assign]
        ours = {}
        _apply(compositor.render_full_update().render_segments(app.console), ours)
        stocks = dict(ours)
        # A tile in each corner of the grid and one in the middle; then a tile and the header at once, then the
        # first and the last tiles at once (the rectangle around them is the whole grid), then the grid.
        tiles = board.tiles
        for number, each in enumerate([tiles[0], tiles[3], tiles[7], tiles[-4], tiles[-1]]):
            before = len(sent)
            each.show(f"{number}:{number:02d}", State.BREACH, f"note {number}")
            await until(pilot, lambda before=before: len(sent) > before)
            # Then the number alone, as a waiting age ticks: its rows inside the border.
            before = len(sent)
            each.show(f"{number}:{number + 1:02d}", State.BREACH, f"note {number}")
            await until(pilot, lambda before=before: len(sent) > before)
        before = len(sent)
        tiles[5].show("77", State.WARN)
        board.header.show(Content("a header changed with a tile"))
        await until(pilot, lambda: len(sent) > before)
        before = len(sent)
        tiles[0].show("1", State.OK, "first")
        tiles[-1].show("2", State.OK, "last")
        await until(pilot, lambda: len(sent) > before)
        # The grid drawn again: the tiles in front cover parts of it, and its gaps between them are its own.
        before = len(sent)
        tiles[0].parent.refresh()
        await until(pilot, lambda: len(sent) > before)
        # A notification in front of the last tiles: the tiles under it change, whole and by their number alone.
        app.notify("a notification over the last tiles", timeout=60)
        await until(pilot, lambda: bool(app.screen.query("Toast")))
        await pilot.pause()
        under = [tile for tile in tiles if tile.region.overlaps(app.screen.query_one("Toast").region)]
        assert under or size == (60, 40)  # there, the grid ends above the notification
        for text, state in (("4:44", State.WARN), ("4:45", State.WARN)) if under else ():
            before = len(sent)
            under[0].show(text, state, "under")
            await until(pilot, lambda before=before: len(sent) > before)
    assert len(sent) >= (15 if under else 13)
    changed = 0
    for update, stock in sent:
        before = dict(ours)
        _apply(update, ours)
        _apply(stock, stocks)
        assert ours == stocks
        changed += ours != before
    # The twelve changes before the grid's (drawn again as it was) and the notification's (whose cells may hide a
    # change) each changed the screen: not a comparison of updates that change nothing.
    assert changed >= 12


@pytest.mark.parametrize("changed_ids", [["longest_wait_s"], ["waiting_now", "sla_breached"]])
@pytest.mark.parametrize("state", [State.OK, State.BREACH])  # the number alone; the number, state and borders
async def test_a_tile_change_renders_that_tile_alone(settings, seeded, monkeypatch, changed_ids, state):
    app = ShiftboardApp(settings, seeded, [], at=NOW, clock=lambda: NOW)
    rendered: list[str | None] = []
    render_lines = Widget.render_lines
    tile_lines = Tile.render_lines  # a tile draws a changed number without Widget.render_lines (Tile._number_rows)

    def counted(self, crop):
        rendered.append(self.id)
        return render_lines(self, crop)

    def counted_tile(self, crop):
        rendered.append(self.id)
        return tile_lines(self, crop)

    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.pause()
        changed = [app.screen.query_one(f"#tile-{figure_id}", Tile) for figure_id in changed_ids]
        for each in changed:
            each.show("9:58", State.OK)
        await pilot.pause()
        monkeypatch.setattr(Widget, "render_lines", counted)
        monkeypatch.setattr(Tile, "render_lines", counted_tile)
        for each in changed:
            each.show("9:59", state)
        await until(pilot, lambda: all(each.id in rendered for each in changed))
        await pilot.pause()
    # Neither the other tiles nor the grid and the screen behind the changed ones (they would be thrown away).
    assert set(rendered) == {each.id for each in changed}


async def test_a_tick_renders_the_number_rows_of_its_tile_alone(settings, seeded, monkeypatch):
    """A change held by one widget in front (a waiting age's number) is rendered as that widget's cells of the change,
    without Textual cutting every line of the screen at the widgets' edges."""
    app = ShiftboardApp(settings, seeded, [], at=NOW, clock=lambda: NOW)
    crops: list[tuple[str | None, Region]] = []
    chopped: list[Region] = []
    tile_lines = Tile.render_lines
    render_chops = Compositor._render_chops

    def counted_tile(self, crop):
        crops.append((self.id, crop))
        return tile_lines(self, crop)

    def counted_chops(self, crop, is_rendered_line):
        chopped.append(crop)
        return render_chops(self, crop, is_rendered_line)

    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot, app)  # no read lands after this to show the tile's own figure again
        tile = app.screen.query_one("#tile-longest_wait_s", Tile)
        tile.show("9:58", State.OK)
        await pilot.pause()
        monkeypatch.setattr(Tile, "render_lines", counted_tile)
        monkeypatch.setattr(Compositor, "_render_chops", counted_chops)
        tile.show("9:59", State.OK)
        await until(pilot, lambda: bool(crops))
        await pilot.pause()
        number = tile._number_area("9:58", "9:59").translate(tile.content_offset)
        inner_width = tile.content_region.width
    assert crops == [(tile.id, number)]
    assert number.height == 3 and number.width == inner_width  # the large digits' rows
    assert chopped == []


async def test_the_wall_uses_it_too(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], at=NOW, clock=lambda: NOW, wall=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, WallScreen))
        assert isinstance(app.screen._compositor, CroppedCompositor)


#: The board's own styles, for a tile on its own.
BOARD_CSS = Path(shiftboard.tui.app.__file__).with_name("board.tcss")


class OneTile(App):
    CSS_PATH = BOARD_CSS

    def compose(self):
        yield Tile(FIGURES_BY_ID["longest_wait_s"])


@pytest.mark.parametrize("size", [(30, 7), (20, 4)])  # large digits, and a tile too low for them
async def test_a_number_alone_redraws_the_number_and_the_tile_looks_as_a_full_redraw_draws_it(size):
    app = OneTile()
    async with app.run_test(size=size) as pilot:
        tile = app.query_one(Tile)
        tile.show("1:23", State.WARN, "a note")
        await pilot.pause()
        previous = [strip.text for strip in tile.render_lines(tile.outer_size.region)]
        large_to_large = 0
        for text in ("1:24", "10:00", "—", "7", "8"):
            tile.show(text, State.WARN, "a note")
            dirty = set(tile._styles_cache._dirty_lines)
            await pilot.pause()
            whole = tile.outer_size.region
            kept = [strip.text for strip in tile.render_lines(whole)]
            tile.refresh()
            fresh = [strip.text for strip in tile.render_lines(whole)]
            assert kept == fresh
            assert fresh[1:-1] != previous[1:-1]  # the number did change on screen
            assert (fresh[0], fresh[-1]) == (previous[0], previous[-1])
            assert "Longest" in fresh[0] and "a note" in fresh[-1]
            # Lines inside the border only, every line that changed among them; from one large number to another,
            # only those (the blank rows around the digits are not drawn again).
            top = tile.content_offset.y
            changed = {y for y, (old, new) in enumerate(zip(previous, fresh, strict=True)) if old != new}
            assert changed <= dirty <= set(range(top, top + tile.content_region.height))
            if _large(previous) and _large(fresh):
                assert dirty == changed
                large_to_large += 1
            previous = fresh
        assert large_to_large == (3 if size[1] >= 7 else 0)  # 1:23 → 1:24 → 10:00, and 7 → 8


def _large(lines: list[str]) -> bool:
    """Whether the lines show large digits (box-drawing characters inside the border)."""
    return any("\u2500" <= char <= "\u257f" for line in lines[1:-1] for char in line[1:-1])
