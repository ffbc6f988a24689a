"""A tile's large digits (tui/widgets/tile.py draws them line by line) are what Textual draws for
``Align(Digits(text, style), "center")`` returned by ``render``, at every size, state, focus and theme."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.align import Align
from rich.style import Style
from textual.app import App
from textual.geometry import Region
from textual.renderables.digits import DIGITS, Digits
from textual.visual import Visual, visualize
from textual.widget import Widget

import shiftboard.tui.app
from shiftboard.tui.figures import FIGURES_BY_ID, State
from shiftboard.tui.widgets.tile import GLYPH_WIDTH, Tile, _glyph_rows

BOARD_CSS = Path(shiftboard.tui.app.__file__).with_name("board.tcss")
TEXTS = ["1:23", "10:00", "7", "95.1%", "1h 02m", "12,345", "-3"]


class OneTile(App):
    CSS_PATH = BOARD_CSS

    def compose(self):
        yield Tile(FIGURES_BY_ID["longest_wait_s"])


def every_look(tile: Tile) -> Iterator[tuple[State, bool]]:
    """Every state, and whether the tile is focused: each state unfocused, then each focused."""
    for focused in (False, True):
        if focused:
            tile.focus()
        for state in State:
            yield state, focused


def textual_lines(tile: Tile) -> list[list]:
    """The tile's inner lines as Textual renders the large digits given as a Rich renderable."""
    width, height = tile.size
    visual = visualize(tile, Align(Digits(tile.text, tile.rich_style), "center"))
    return [list(strip) for strip in Visual.to_strips(tile, visual, width, height, tile.visual_style)]


@pytest.mark.parametrize(
    ("size", "theme"),
    [(size, "textual-dark") for size in [(30, 8), (31, 9), (20, 5), (40, 7), (26, 6)]]
    + [((31, 9), theme) for theme in ["textual-light", "ansi-dark", "gruvbox"]],
)
async def test_large_digits_are_drawn_as_textual_draws_them(size, theme):
    app = OneTile()
    compared = 0
    async with app.run_test(size=size) as pilot:
        app.theme = theme
        tile = app.query_one(Tile)
        for state, focused in every_look(tile):
            for text in TEXTS:
                tile.show(text, state, "a note")
                await pilot.pause()
                width, height = tile.size
                if width < GLYPH_WIDTH * len(text):
                    continue
                drawn = [list(tile.render_line(y)) for y in range(height)]
                assert drawn == textual_lines(tile), (text, state, focused)
                assert _box_glyphs(drawn), text  # large digits, not the compact number
                compared += 1
    assert compared >= 2 * len(State) * 3


@pytest.mark.parametrize(("size", "text"), [((12, 8), "12:34"), ((30, 4), "1:23"), ((30, 8), "—")])
async def test_a_number_that_does_not_fit_or_has_no_digit_is_plain_text(size, text):
    app = OneTile()
    async with app.run_test(size=size) as pilot:
        tile = app.query_one(Tile)
        tile.show(text, State.OK)
        await pilot.pause()
        lines = ["".join(segment.text for segment in tile.render_line(y)) for y in range(tile.size.height)]
    assert sum(text in line for line in lines) == 1
    assert not any(_box_glyphs([line]) for line in lines)


def _box_glyphs(lines) -> bool:
    """Whether the lines (strings or lists of segments) hold a box-drawing character, as large digits do."""
    text = "".join(line if isinstance(line, str) else "".join(segment.text for segment in line) for line in lines)
    return any("\u2500" <= char <= "\u257f" for char in text)


SPLICE_CASES = [((30, 8), "textual-dark", False), ((26, 6), "textual-dark", False)] + [
    ((31, 9), theme, no_color) for theme in ["textual-light", "ansi-dark", "gruvbox"] for no_color in (False, True)
]


@pytest.mark.parametrize(("size", "theme", "no_color"), SPLICE_CASES)
async def test_a_tick_draws_the_rows_textual_draws(size, theme, no_color, monkeypatch):
    """When only the number changes, the tile puts its new rows between the old rows' borders and padding
    (``Tile._number_rows``) instead of having Textual build them again: the same cells, whole rows or cropped, also
    through a line filter (NO_COLOR's)."""
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    app = OneTile()
    spliced = 0
    async with app.run_test(size=size) as pilot:
        app.theme = theme
        tile = app.query_one(Tile)
        for state, focused in every_look(tile):
            tile.show("1:00", state, "a note")
            await pilot.pause()  # drawn whole: the styles cache holds every row
            top, height = tile.styles.gutter.top, tile.size.height
            width = tile.region.width
            for text, crop in [
                ("1:01", Region(0, 0, width, tile.region.height)),  # what the compositor asks for
                ("1:05", Region(0, top, width, height)),
                ("1:02", tile.content_region.reset_offset.translate(tile.content_offset)),  # what show refreshes
                ("10:03", Region(3, top + 1, width - 5, height - 1)),
            ]:
                # Twice: the second number goes between the parts cut from the rows the first one left.
                for each in (text.replace(":", "."), text):
                    tile.show(each, state, "a note")
                    rows = tile._number_rows(crop)
                    assert rows is not None, (each, state, focused)
                # A row the crop left dirty (it asked for the number's cells alone) is put in its frame now.
                whole = Region(0, 0, width, tile.region.height)
                kept = tile.render_lines(whole)
                tile._styles_cache.clear()
                assert [list(row) for row in rows] == [list(row) for row in Widget.render_lines(tile, crop)]
                assert [list(row) for row in kept] == [list(row) for row in Widget.render_lines(tile, whole)]
                spliced += 1
    assert spliced == 2 * len(State) * 4


@pytest.mark.parametrize("bold", [True, False])
def test_the_glyph_rows_are_the_rows_digits_renders(bold):
    for text in [DIGITS, "1.5%", "1h 02m", "12,345", "a:b"]:
        rendered = [segment.text for segment in Digits(text).render(Style(bold=bold)) if segment.text != "\n"]
        assert list(_glyph_rows(text, bold)) == rendered, text


async def test_textual_draws_the_rows_after_a_change_of_frame_or_with_effects():
    app = OneTile()
    async with app.run_test(size=(30, 8)) as pilot:
        tile = app.query_one(Tile)
        tile.show("1:00", State.OK)
        await pilot.pause()
        rows = Region(0, tile.styles.gutter.top, tile.region.width, tile.size.height)
        tile.show("1:01", State.WARN)  # a new state: a new border colour, so a full refresh
        assert tile._number_rows(rows) is None
        await pilot.pause()
        tile.show("1:02", State.WARN)
        assert tile._number_rows(rows) is not None
        await pilot.pause()
        tile.styles.tint = "red 40%"
        await pilot.pause()
        tile.show("1:03", State.WARN)
        assert tile._number_rows(rows) is None
        tile.styles.tint = "red 0%"
        await pilot.pause()
        tile.show("1:04", State.WARN)
        whole = Region(0, 0, tile.region.width, tile.region.height)  # what the compositor asks for
        assert tile._number_rows(whole) is not None  # the border rows as kept, the number's rows new
        tile._styles_cache.set_dirty(Region(0, 0, tile.region.width, 1))  # the top border to draw again
        assert tile._number_rows(whole) is None
