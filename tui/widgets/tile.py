"""A tile: one figure's label, its number (large when there is room) and its state as a word and a colour."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.app import RenderResult
from textual.content import Content
from textual.geometry import Region, Size
from textual.renderables.digits import DIGITS, DIGITS3X3, DIGITS3X3_BOLD, Digits
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget

from shiftboard.tui.figures import Figure, State
from shiftboard.tui.terminal import ascii_text

if TYPE_CHECKING:
    from shiftboard.tui.repaint import Repaint

#: Width and height of one large glyph in Textual's Digits.
GLYPH_WIDTH = 3
DIGIT_ROWS = 3
_STATE_CLASSES = {State.OK: "-ok", State.WARN: "-warn", State.BREACH: "-breach", State.NONE: "-none"}


class Tile(Widget, can_focus=True):
    """Shows one figure. ``show`` sets what it says; the tile picks large or compact digits to fit its size.

    The tile draws its number itself rather than holding a Digits and a Static: a board has a few dozen tiles, and
    two child widgets each tripled the nodes Textual styles and lays out at start-up and on every state change.
    """

    def __init__(self, figure: Figure) -> None:
        super().__init__(id=f"tile-{figure.id}", classes="tile -none")
        self.figure = figure
        self.text = "—"
        self.state = State.NONE
        self.note: str | None = None
        self._shown_subtitle: str | None = None
        self.border_title = Content(figure.label)
        #: The large digits' lines (``_large_lines``) and what they were drawn for.
        self._large: list[Strip] = []
        self._large_key: tuple | None = None
        #: Per row of the number (``_number_rows``): the row it last put in Textual's styles cache, and that row's
        #: left and right parts, which the next number is put between while the cache still holds that row.
        self._frame: dict[int, tuple[Strip, Strip, Strip]] = {}

    def render(self) -> RenderResult:
        # The compact number only: large digits are drawn by ``render_line``.
        return Content(self.text).stylize("bold")

    def render_lines(self, crop: Region) -> list[Strip]:
        rows = self._number_rows(crop)
        return super().render_lines(crop) if rows is None else rows

    def _number_rows(self, crop: Region) -> list[Strip] | None:
        """The lines of ``crop`` when Textual's styles cache holds them all as last drawn and those to draw again
        are rows of the large number: each such row's new number between that row's old left part (border,
        padding) and right part. None otherwise, and Textual draws them.

        When a waiting age ticks, only the number changes (``show`` refreshes the content region alone), yet Textual
        builds each of its rows again, border, padding and effects included; drawn here, a tick's screen update in a
        terminal fell from 0.88 to 0.75 ms of the main thread. The cache's rows are dropped by every full refresh,
        which any change of style, size, state or label makes, so a row kept there has the frame the tile still has.
        Tint, opacity, text opacity, hatch and outline change the number's cells too: with any of them, Textual
        draws. Asked for the number's cells alone (what the compositor asks for on a tick, ``compositor.py``), the
        number's rows are returned as they are, and the rows stay dirty in the cache until a wider crop asks for
        them.
        """
        number = self._large_lines()
        if number is None:
            return None
        cache = self._styles_cache
        kept, dirty = cache._cache, cache._dirty_lines
        lines = crop.line_range
        styles = self.styles
        gutter = styles.gutter
        top = gutter.top
        if not all(y in kept and (y not in dirty or top <= y < top + len(number)) for y in lines):
            return None
        if (
            styles.tint.a
            or styles.text_opacity != 1.0
            or self.opacity != 1.0
            or (styles.has_rule("hatch") and styles.hatch != "none")
            or any(edge for edge, _colour in styles.outline)
        ):
            return None
        width = self.region.width
        left, right = gutter.left, width - gutter.right
        if number[0].cell_length != right - left:
            return None
        filters = self.get_line_filters()
        background = self.background_colors[1] if filters else None
        x1, x2 = crop.column_span
        inside = left <= x1 and x2 <= right
        strips = []
        frame = self._frame
        for y in lines:
            strip, start = kept[y], 0  # start: the tile's column at which ``strip`` starts
            if y in dirty and inside:  # the number's row as it is; the row stays dirty in the cache
                strip, start = number[y - top], left
            elif y in dirty:
                parts = frame.get(y)
                if parts is None or parts[0] is not strip:  # drawn by Textual since: cut from what it drew
                    parts = (strip, strip.crop(0, left), strip.crop(right, width))
                strip = kept[y] = Strip.join([parts[1], number[y - top], parts[2]])
                frame[y] = (strip, parts[1], parts[2])
                dirty.discard(y)
            for line_filter in filters:
                strip = strip.apply_filter(line_filter, background)
            span = (x1 - start, x2 - start)
            strips.append(strip if span == (0, strip.cell_length) else strip.crop(*span))
        return strips

    def render_line(self, y: int) -> Strip:
        """One line inside the border: of the large digits when they fit, else of ``render``'s compact number."""
        lines = self._large_lines()
        if lines is None:
            return super().render_line(y)
        return lines[y] if 0 <= y < len(lines) else Strip.blank(self.size.width, self.visual_style.rich_style)

    def _large_lines(self) -> list[Strip] | None:
        """The number in Textual's large digits, centred in the tile's inner area, as Textual would draw
        ``Align(Digits(text, rich_style), "center")`` with the tile's ``content-align: center middle``; None when
        they do not fit or are not wanted.

        Drawn here rather than returned by ``render`` because Textual's route for a Rich renderable (render it on a
        console, split and crop its lines, align them) was a quarter of the main thread's work for each second the
        longest wait ticks on (py-spy); this is about a third of that. ``tests/tui/test_tile.py`` compares the two,
        line by line.
        """
        # Large or compact is decided here, at the size being drawn: deciding it on every resize made each tile ask
        # for a repaint of its own after the layout that sized it (a second render of the whole board at start-up).
        width, height = size = self.size
        if not self._drawn_large(self.text, size):
            return None
        visual_style = self.visual_style
        key = (self.text, width, height, visual_style)
        if key != self._large_key:
            self._large_key, self._large = key, _centred_digits(self.text, width, height, visual_style)
        return self._large

    def _drawn_large(self, text: str, size: Size) -> bool:
        """Whether ``text`` is drawn in large digits in an inner area of ``size``."""
        width, height = size
        # Digits draws with box glyphs: --ascii keeps plain bold numbers.
        fits = height >= DIGIT_ROWS and width >= GLYPH_WIDTH * len(text)
        return fits and not self.ascii_only and any(char.isdigit() for char in text)

    def _number_area(self, old: str, new: str) -> Region:
        """The part of the inner area that changes from number ``old`` to ``new``: the rows of the large digits when
        both are drawn large (the blank rows around them stay), else all of it."""
        area = self.content_region.reset_offset
        if self._drawn_large(old, area.size) and self._drawn_large(new, area.size):
            return Region(0, (area.height - DIGIT_ROWS) // 2, area.width, DIGIT_ROWS)
        return area

    @property
    def ascii_only(self) -> bool:
        return getattr(self.app, "ascii_only", False)

    def on_mount(self) -> None:
        self._subtitle()

    def on_resize(self) -> None:
        if self.ascii_only:
            self._subtitle()  # its length depends on the width (see _subtitle)

    def show(self, text: str, state: State, note: str | None = None, repaint: Repaint | None = None) -> None:
        """Set the number, the state and the short second reading. With ``repaint``, a change of the number alone is
        marked there, to be drawn when it is flushed (with the other tiles the same read or tick changed)."""
        ascii_only = self.ascii_only
        text, note = ascii_text(text, ascii_only), note and ascii_text(note, ascii_only)
        if (text, state, note) == (self.text, self.state, self.note):
            return
        if state is self.state and note == self.note:
            # Only the number: its lines are drawn again, the borders with their labels are kept (a waiting age
            # ticks every second).
            area = self._number_area(self.text, text)
            self.text = text
            if repaint is None:
                self.refresh(area)
            else:
                repaint.content(self, area)
            return
        self.text, self.note = text, note
        if state is not self.state:
            self.remove_class(_STATE_CLASSES[self.state], update=False)
            self.add_class(_STATE_CLASSES[state])
            self.state = state
        self._subtitle()
        self.refresh()

    def _subtitle(self) -> None:
        """The state word, after the note when there is one, on the bottom border."""
        ascii_only = self.ascii_only
        words = [part for part in (self.note, self.state.value) if part]
        subtitle = (" - " if ascii_only else " · ").join(words)
        if ascii_only and len(subtitle) > self.size.width - 6:
            subtitle = self.state.value  # Textual would cut it with "…": keep the state word whole instead
        if subtitle != self._shown_subtitle:  # setting it repaints the tile, even to the same text
            self._shown_subtitle = subtitle
            self.border_subtitle = Content(subtitle) if subtitle else None


def _centred_digits(text: str, width: int, height: int, visual_style: VisualStyle) -> list[Strip]:
    """``text`` in large digits, centred on ``height`` lines of ``width`` cells, styled as Textual styles a Rich
    renderable that ``render`` returns (``Visual.to_strips``): all in the tile's visual style, the blank lines above
    and below not reversed.

    The digits take the visual style, not the tile's ``rich_style`` that ``Digits`` was given: the two come from the
    same rules (the tile's and its ancestors' colours and text style), and the visual style is kept between renders
    while the other is worked out again on each call, for each line.
    """
    base, digits, blank_style = _digit_styles(visual_style)
    rows = _glyph_rows(text, base.bold)
    blank = Strip.blank(width, blank_style)
    top = (height - len(rows)) // 2
    lines = [blank] * height
    for number, row in enumerate(rows):
        wide = cell_len(row)
        left, right = (width - wide) // 2, width - wide - (width - wide) // 2
        segments = [Segment(" " * left, base)] if left else []
        segments.append(Segment(row, digits))
        if right:
            segments.append(Segment(" " * right, base))
        lines[top + number] = Strip(segments, width)
    return lines


@lru_cache(maxsize=64)
def _digit_styles(visual_style: VisualStyle) -> tuple[RichStyle, RichStyle, RichStyle]:
    """For a tile's visual style: the style of the space around the digits, of the digits (as ``Digits.render``
    styles them, with its mouse offset), and of the blank lines. Kept, because each is a new Style whose terminal
    codes Rich works out again: a waiting age draws new digits every second."""
    base = visual_style.rich_style
    digits = base + (base + RichStyle(meta={"offset": (0, 0)}))
    return base, digits, (visual_style + VisualStyle(reverse=False)).rich_style


def _glyph_rows(text: str, bold: bool | None) -> tuple[str, str, str]:
    """The three rows of ``text`` in Textual's 3×3 digit glyphs, as ``Digits.render`` lays them out from its tables.

    Read from the tables here rather than through ``Digits.render``, which builds a new Style for every call: this is
    drawn on every tick of a waiting age (``tests/tui/test_tile.py`` compares the two).
    """
    table = DIGITS3X3_BOLD if bold else DIGITS3X3
    rows: tuple[list[str], list[str], list[str]] = ([], [], [])
    for character in text.translate(Digits.REPLACEMENTS):
        position = DIGITS.find(character) * 3
        if position < 0:
            rows[0].append(" ")
            rows[1].append(" ")
            rows[2].append(character)
        else:
            for row, glyph in zip(rows, table[position : position + 3], strict=True):
                row.append(glyph.ljust(GLYPH_WIDTH))
    return "".join(rows[0]), "".join(rows[1]), "".join(rows[2])
