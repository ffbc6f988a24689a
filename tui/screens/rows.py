"""The rows behind a figure in a sortable, filterable table; Enter opens a row's detail."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static

from shiftboard.drilldown import MAX_ROWS
from shiftboard.privacy import mask_record
from shiftboard.store import Store
from shiftboard.text import clean
from shiftboard.tui import formatting
from shiftboard.tui.drills import Drill
from shiftboard.tui.messages import RowsLoaded
from shiftboard.tui.widgets.row_table import Column, RowTable
from shiftboard.tui.widgets.steady_footer import SteadyFooter

#: Columns that are shown last: they identify the row but are rarely what a supervisor reads first.
_LAST = ("source",)
#: Longest text shown in one cell; the detail screen shows all of it.
CELL_LIMIT = 80
#: Rows read and shown first, before the rest are read and formatted: more than a screenful, so the first rows are
#: on screen in tens of milliseconds however many rows there are.
FIRST_ROWS = 100
#: Longest wait for the first screenful to be painted before the rest is read anyway.
FIRST_PAINT_WAIT_S = 2.0


def sort_key(value: Any) -> tuple[int, Any]:
    """Numbers (and times, durations) in order, then text without regard to case, empty values last; a column
    mixing numbers and text (two sources' ids) sorts instead of failing."""
    if value is None or value == "":
        return (2, 0)
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value).casefold())


def columns_of(rows: list[dict[str, Any]]) -> list[str]:
    """The columns to show, in the rows' own order, identifying ones last."""
    if not rows:
        return []
    names = list(rows[0])
    return [n for n in names if n not in _LAST] + [n for n in names if n in _LAST]


def column_label(column: str) -> str:
    """``wait_s`` → "wait", ``offered_at`` → "offered at"."""
    name = column[:-2] if column.endswith("_s") else column
    return name.replace("_", " ")


def row_key(drill: Drill, row: dict[str, Any]) -> str:
    return f"{row.get('source')}\x1f{row.get(drill.key)}"


@dataclass(slots=True)
class Entry:
    """One row as the table shows it (a ``row_table.TableRow``)."""

    key: str
    row: dict[str, Any]
    #: Each column's value as shown: formatted, cleaned (literal, one line), at most CELL_LIMIT characters.
    cells: tuple[str, ...]
    #: Every shown value, case-folded, for the filter.
    search: str


@dataclass(slots=True)
class Prepared:
    """Rows made ready to show: cleaned and formatted cells, column widths, text to filter on."""

    rows: list[dict[str, Any]]
    columns: list[str] = field(default_factory=list)
    widths: list[int] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)


def prepare(drill: Drill, rows: list[dict[str, Any]], zone: tzinfo | None) -> Prepared:
    """Clean and format every cell, and measure each column once (done in a worker: about 30 µs a row)."""
    columns = columns_of(rows)
    prepared = Prepared(rows, columns, [cell_len(column_label(c)) for c in columns])
    widths = prepared.widths
    seen: set[str] = set()
    # Queues, statuses, names repeat: format, clean and measure each value once.
    shown_for: dict[tuple[str, Any], tuple[str, int]] = {}

    def show(column: str, value: Any) -> tuple[str, int]:
        try:
            return shown_for[column, value]
        except KeyError:
            text = clean(formatting.cell(column, value, zone), CELL_LIMIT)
            shown = shown_for[column, value] = (text, cell_len(text))
            return shown
        except TypeError:  # an unhashable value
            text = clean(formatting.cell(column, value, zone), CELL_LIMIT)
            return text, cell_len(text)

    entries = prepared.entries
    for index, row in enumerate(rows):
        key = row_key(drill, row)
        if key in seen:  # a source that repeats an id: keep both rows
            key = f"{key}\x1f{index}"
        seen.add(key)
        cells = []
        for i, column in enumerate(columns):
            text, width = show(column, row.get(column))
            cells.append(text)
            if width > widths[i]:
                widths[i] = width
        entries.append(Entry(key, row, tuple(cells), " ".join(cells).casefold()))
    return prepared


class RowsScreen(Screen):
    """Rows read once when opened (press r to read again), so the table holds still while you look at it."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("slash", "filter", "Filter", key_display="/", id="filter"),
        Binding("s", "sort", "Sort next col", id="sort"),
        Binding("S", "reverse", "Reverse", key_display="S", id="sort-reverse"),
        Binding("r", "reload", "Reload", id="reload"),
    ]

    def __init__(
        self,
        drill: Drill,
        store_path: str,
        queue: str | None,
        since: float,
        at: float,
        zone: tzinfo | None,
        *,
        privacy: bool = False,
    ):
        super().__init__()
        #: Mask customers and subjects (``--privacy`` / the ``p`` key).
        self.privacy = privacy
        self.drill = drill
        self.store_path = store_path
        self.queue = queue
        self.since = since
        self.at = at
        self.zone = zone
        self.rows: list[dict[str, Any]] = []
        self.prepared = Prepared([])
        #: The entries in the table: those matching the filter, in the order shown.
        self.shown: list[Entry] = []
        self.columns: list[str] = []
        self.sorted_by: tuple[str, bool] | None = None
        self.needle = ""
        self.loaded = False
        #: Set once the first screenful is painted: the rest is read after it, not competing with it for the GIL.
        self._first_painted = threading.Event()

    def compose(self) -> ComposeResult:
        # Reading starts before the widgets are mounted and styled (tens of milliseconds): the first screenful is
        # then usually in by the first paint, instead of a frame or two after it.
        self.load()
        yield Static("", id="rows-title", markup=False)
        yield RowTable(id="rows")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self._show_title()

    def _show_title(self) -> None:
        queue = "all queues" if self.queue is None else clean(self.queue, 40)
        total = len(self.rows)
        if not self.loaded:
            count = "loading…"
        else:
            count = f"{len(self.shown)} of {total} rows" if self.needle else f"{total} rows"
            if total >= MAX_ROWS:
                count += f" (the first {MAX_ROWS} read)"
        parts: list[Any] = [
            (self.drill.title, "bold"),
            " · ",
            Content(queue).stylize("$accent"),
            f" · {formatting.clock(self.at, self.zone)} · {count}",
        ]
        if self.sorted_by is not None:
            column, reverse = self.sorted_by
            parts.append(f" · by {column_label(column)} {'↓' if reverse else '↑'}")
        self.query_one("#rows-title", Static).update(Content.assemble(*parts))

    def _query(self, store: Store, limit: int) -> list[dict[str, Any]]:
        rows = self.drill.query(store, self.queue, self.since, self.at, limit)
        # Masked before anything is prepared for the screen, the first screenful included.
        return [mask_record(row) for row in rows] if self.privacy else rows

    @work(thread=True, exit_on_error=False, group="rows")
    def load(self) -> None:
        with Store(self.store_path, readonly=True) as store:
            # The first screenful by itself first (reading, cleaning and formatting 10,000 rows takes a few hundred
            # milliseconds), then all of them, off the UI thread.
            first = self._query(store, FIRST_ROWS)
            if len(first) < FIRST_ROWS:
                self.post_message(RowsLoaded(prepare(self.drill, first, self.zone), self.at))
                return
            self._first_painted.clear()
            self.post_message(RowsLoaded(prepare(self.drill, first, self.zone), self.at, partial=True))
            self._first_painted.wait(FIRST_PAINT_WAIT_S)
            rows = self._query(store, MAX_ROWS)
        self.post_message(RowsLoaded(prepare(self.drill, rows, self.zone), self.at))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        prepared: Prepared = message.rows  # type: ignore[assignment]
        if message.partial and self.prepared.entries:
            self._first_painted.set()
            return  # a reload while showing rows: keep them until the whole new read is in
        self.prepared = prepared
        self.rows = prepared.rows
        self.columns = prepared.columns
        self.loaded = not message.partial
        if self.sorted_by is not None and self.sorted_by[0] in self.columns:
            self._order(*self.sorted_by)
        # The whole read after its first screenful, or a reload: the cursor stays on the row it was on.
        self._fill(keep_cursor=True)
        if self.loaded and not self.rows:
            self.notify("Nothing behind this figure right now.", markup=False)
        if message.partial:
            self.call_after_refresh(self._first_painted.set)

    def _fill(self, keep_cursor: bool = False) -> None:
        """Give the table the entries matching the filter (the table draws only those on screen)."""
        table = self.query_one(RowTable)
        cursor_key = None
        if keep_cursor and self.shown and table.cursor_row < len(self.shown):
            cursor_key = self.shown[table.cursor_row].key
        needle = self.needle.casefold()
        entries = self.prepared.entries
        self.shown = [entry for entry in entries if needle in entry.search] if needle else list(entries)
        columns = [
            Column(name, column_label(name), width)
            for name, width in zip(self.prepared.columns, self.prepared.widths, strict=True)
        ]
        table.show_rows(columns, self.shown, cursor_key=cursor_key)
        self._show_title()

    # -- keys -----------------------------------------------------------------------------------------------

    def _filter_input(self) -> Input | None:
        inputs = self.query("#filter").results(Input)
        return next(inputs, None)

    def action_back(self) -> None:
        filter_input = self._filter_input()
        if filter_input is not None and filter_input.display:
            filter_input.value = ""
            filter_input.display = False
            self.needle = ""
            self._fill()
            self.query_one(RowTable).focus()
            return
        self.app.pop_screen()

    async def action_filter(self) -> None:
        filter_input = self._filter_input()
        if filter_input is None:
            # Made on first use: an Input in every drill-down costs a tenth of the time to the first rows.
            filter_input = Input(placeholder="filter: text in any column, Esc clears", id="filter")
            await self.mount(filter_input, after=self.query_one(RowTable))
        filter_input.display = True
        filter_input.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value.strip()
        if self.loaded:
            self._fill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(RowTable).focus()

    def action_sort(self) -> None:
        """Sort by the next column, ascending (a row cursor has no column of its own to pick)."""
        if not self.columns:
            return
        current = self.columns.index(self.sorted_by[0]) if self.sorted_by else -1
        self.sorted_by = None
        self._sort(self.columns[(current + 1) % len(self.columns)])

    def action_reverse(self) -> None:
        if self.sorted_by is None:
            if not self.columns:
                return
            self.sorted_by = (self.columns[0], False)
        self._sort(self.sorted_by[0])

    @on(RowTable.HeaderSelected)
    def _header_clicked(self, event: RowTable.HeaderSelected) -> None:
        self._sort(event.column)

    def _sort(self, column: str) -> None:
        """Sort every row read by ``column``: ascending, or descending when it is already sorted ascending by it."""
        reverse = self.sorted_by == (column, False)
        self.sorted_by = (column, reverse)
        self._order(column, reverse)
        self._fill(keep_cursor=True)

    def _order(self, column: str, reverse: bool) -> None:
        # By the stored values, not the text shown: times and durations sort as numbers.
        self.prepared.entries.sort(key=lambda entry: sort_key(entry.row.get(column)), reverse=reverse)

    def action_reload(self) -> None:
        self.loaded = False
        self._show_title()
        self.load()

    @on(RowTable.RowSelected)
    def _open(self, event: RowTable.RowSelected) -> None:
        from shiftboard.tui.screens.detail import DetailScreen

        if event.index < len(self.shown) and self.shown[event.index].key == event.key:
            row = self.shown[event.index].row
            self.app.push_screen(
                DetailScreen(self.drill, row, self.store_path, self.zone, self.at, privacy=self.privacy)
            )

    def show_privately(self, privacy: bool) -> None:
        """Read the rows again, masked or not."""
        if privacy != self.privacy:
            self.privacy = privacy
            self.action_reload()
