"""A table that draws only the rows on screen, so 10,000 rows cost no more to show than 40.

Built on Textual's Line API (a ScrollView whose ``render_line`` draws one screen line on demand) rather than
``DataTable``: a DataTable measures every cell of every row it is given (about 1 ms a row on the main thread, so
10,000 rows stall the screen for seconds), while this table keeps the rows as a plain sequence and turns only the
visible ones into styled segments. textual-fastdatatable solves the same problem but brings pyarrow and an immutable
Arrow table; the drill-downs need little of a table: fixed-width columns, a row cursor, a header to click.

Cells are text, never markup: they are written as segments (no markup or emoji-code parsing), and each is passed
through ``shiftboard.text.clean`` when drawn, so a cell a caller forgot to clean still cannot reach the terminal with
an escape sequence or a control character.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, NamedTuple, Protocol

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shiftboard.text import clean

#: Blank columns either side of every cell (as DataTable's default ``cell_padding``).
PADDING = 1
#: Lines kept drawn: a few screenfuls, so scrolling back and forth redraws nothing.
LINE_CACHE = 400


class TableRow(Protocol):
    """What the table needs of a row: a unique key and one text per column."""

    @property
    def key(self) -> str: ...

    @property
    def cells(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class Column:
    """A column: ``key`` names it in messages, ``label`` heads it, ``width`` is its text width in cells."""

    key: str
    label: str
    width: int


class RowTable(ScrollView, can_focus=True):
    """Rows under a fixed header, a row cursor, zebra stripes; Enter or a click selects a row, a click on the
    header selects a column."""

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .row-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .row-table--header { background-tint: $foreground 5%; }
        }
        &:dark > .row-table--even-row { background: $surface-darken-1 40%; }
        & > .row-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .row-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .row-table--even-row { background: $surface-lighten-1 50%; }
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"row-table--header", "row-table--even-row", "row-table--cursor"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open row", show=False, id="row-open"),
        Binding("up", "cursor(-1)", "Row up", show=False, id="row-up"),
        Binding("down", "cursor(1)", "Row down", show=False, id="row-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="row-page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="row-page-down"),
        Binding("home,ctrl+home", "first", "First row", show=False, id="row-first"),
        Binding("end,ctrl+end", "last", "Last row", show=False, id="row-last"),
        Binding("left", "scroll_left", "Scroll left", show=False, id="row-scroll-left"),
        Binding("right", "scroll_right", "Scroll right", show=False, id="row-scroll-right"),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)
    """Index of the row under the cursor (among the rows given, in their order)."""

    class RowSelected(Message):
        """A row was chosen (Enter or a click)."""

        def __init__(self, table: RowTable, index: int, key: str) -> None:
            super().__init__()
            self.table = table
            self.index = index
            self.key = key

        @property
        def control(self) -> RowTable:
            return self.table

    class HeaderSelected(Message):
        """A column's header was clicked."""

        def __init__(self, table: RowTable, column: str) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> RowTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns: list[Column] = []
        self._rows: Sequence[TableRow] = ()
        #: Drawn lines, by row index (-1: the header) and what their look depends on.
        self._lines: LRUCache[tuple[object, ...], Strip] = LRUCache(LINE_CACHE)
        #: Bumped whenever rows or columns change, so no drawn line outlives what it showed.
        self._generation = 0
        self._styles: _Looks | None = None

    # -- contents -----------------------------------------------------------------------------------------------

    def show_rows(self, columns: list[Column], rows: Sequence[TableRow], *, cursor_key: str | None = None) -> None:
        """Show ``rows`` (kept, not copied: the caller must not change the sequence afterwards) under ``columns``.

        The cursor goes to the row keyed ``cursor_key`` when there is one, else stays at its index (clamped).
        """
        self.columns = list(columns)
        self._rows = rows
        self._generation += 1
        self._lines.clear()
        width = sum(column.width + 2 * PADDING for column in self.columns)
        self.virtual_size = Size(width, len(rows) + 1)  # the header is the first line
        cursor = self.cursor_row
        if cursor_key is not None:
            cursor = next((i for i, row in enumerate(rows) if row.key == cursor_key), cursor)
        self.cursor_row = max(0, min(cursor, len(rows) - 1))
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def row_keys(self) -> list[str]:
        """Every row's key, in the order shown."""
        return [row.key for row in self._rows]

    def get_row_at(self, index: int) -> list[Text]:
        """The cells of row ``index`` as shown (literal Text, cleaned)."""
        return [Text(clean(cell, len(cell) or 1)) for cell in self._rows[index].cells]

    def move_cursor(self, *, row: int) -> None:
        self.cursor_row = row

    # -- cursor and keys ----------------------------------------------------------------------------------------

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._rows) - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_to_row(new)
        self.refresh()

    @property
    def _page(self) -> int:
        """Rows on screen below the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_to_row(self, index: int) -> None:
        top = round(self.scroll_y)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + self._page:
            self.scroll_to(y=index - self._page + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        self.cursor_row += step

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * self._page

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = len(self._rows) - 1

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.RowSelected(self, self.cursor_row, self._rows[self.cursor_row].key))

    def _on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:
            column = self._column_at(offset.x + round(self.scroll_x))
            if column is not None:
                self.post_message(self.HeaderSelected(self, column.key))
            return
        index = round(self.scroll_y) + offset.y - 1
        if 0 <= index < len(self._rows):
            self.cursor_row = index
            self.action_select()

    def _column_at(self, x: int) -> Column | None:
        for column in self.columns:
            x -= column.width + 2 * PADDING
            if x < 0:
                return column
        return None

    # -- drawing ------------------------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()

    def render_lines(self, crop: Region) -> list[Strip]:
        # Styles are worked out once a redraw (they depend on focus, the theme and the widget's ancestors), not for
        # every line: a widget's rich_style walks up the DOM each time it is asked.
        self._styles = None
        return super().render_lines(crop)

    def _looks(self) -> _Looks:
        if self._styles is None:
            base = self.rich_style
            self._styles = _Looks(
                base=base,
                header=base + self.get_component_styles("row-table--header").rich_style,
                even=base + self.get_component_styles("row-table--even-row").rich_style,
                cursor=base + self.get_component_styles("row-table--cursor").rich_style,
                even_cursor=base
                + self.get_component_styles("row-table--even-row").rich_style
                + self.get_component_styles("row-table--cursor").rich_style,
            )
        return self._styles

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        index = -1 if y == 0 else scroll_y + y - 1
        looks = self._looks()
        if index >= len(self._rows):
            return Strip.blank(width, looks.base)
        cursor = index == self.cursor_row
        key = (index, cursor, self._generation, self.has_focus, width)
        line = self._lines.get(key)
        if line is None:
            line = self._lines[key] = self._draw(index, looks, cursor, width)
        return line.crop_extend(scroll_x, scroll_x + width, looks.base)

    def _draw(self, index: int, looks: _Looks, cursor: bool, width: int) -> Strip:
        """One whole row (or the header, index -1), every column, uncropped."""
        if index < 0:
            style = looks.header
            texts: Sequence[str] = [column.label for column in self.columns]
        else:
            even = index % 2 == 0  # counted from 0, as DataTable does: the first row is striped
            style = (looks.base, looks.even, looks.cursor, looks.even_cursor)[even + 2 * cursor]
            texts = self._rows[index].cells
        pad = " " * PADDING
        segments = [
            Segment(f"{pad}{set_cell_size(clean(text, max(column.width, 1)), column.width)}{pad}", style)
            for column, text in zip(self.columns, texts, strict=False)
        ]
        total = sum(column.width + 2 * PADDING for column in self.columns[: len(segments)])
        # The row's look carries on to the right edge of a table narrower than the screen.
        filler = max(0, width - total)
        if filler:
            segments.append(Segment(" " * filler, style))
        return Strip(segments, total + filler)


class _Looks(NamedTuple):
    """The styles of one redraw."""

    base: Style
    header: Style
    even: Style
    cursor: Style
    even_cursor: Style
