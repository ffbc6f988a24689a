"""A tile's large digits (tui/widgets/tile.py draws them line by line) are what Textual draws for
``Align(Digits(text, style), "center")`` returned by ``render``, at every size, state, focus and theme."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.align import Align
from textual.app import App
from textual.renderables.digits import Digits
from textual.visual import Visual, visualize

import shiftboard.tui.app
from shiftboard.tui.figures import FIGURES_BY_ID, State
from shiftboard.tui.widgets.tile import GLYPH_WIDTH, Tile

BOARD_CSS = Path(shiftboard.tui.app.__file__).with_name("board.tcss")
TEXTS = ["1:23", "10:00", "7", "95.1%", "1h 02m", "12,345", "-3"]


class OneTile(App):
    CSS_PATH = BOARD_CSS

    def compose(self):
        yield Tile(FIGURES_BY_ID["longest_wait_s"])


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
        for focused in (False, True):
            if focused:
                tile.focus()
            for state in State:
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
