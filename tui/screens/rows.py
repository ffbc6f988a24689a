"""The rows behind a figure in a sortable, filterable table; Enter opens a row's detail."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from shiftboard.drilldown import MAX_ROWS
from shiftboard.privacy import mask_record
from shiftboard.store import Store
from shiftboard.text import clean
from shiftboard.tui import formatting
from shiftboard.tui.drills import Drill
from shiftboard.tui.messages import RowsLoaded

#: Columns that are shown last: they identify the row but are rarely what a supervisor reads first.
_LAST = ("source",)
#: Rows put in the table at once. The table measures every cell it gets (about 1 ms a row), so it holds the first
#: SHOWN_MAX of the rows read (up to drilldown.MAX_ROWS); filtering and sorting work on all of them.
SHOWN_MAX = 2_000
#: Longest text shown in one cell; the detail screen shows all of it.
CELL_LIMIT = 80
#: Rows read and shown first, before the rest are read and formatted: more than a screenful, so the first rows are
#: on screen in tens of milliseconds however many rows there are.
FIRST_ROWS = 100
#: Rows added to the table per turn of the event loop: adding is about 1 ms a row, so keys and painting go on
#: between chunks instead of waiting for all SHOWN_MAX.
CHUNK_ROWS = 250
#: Longest wait for the first screenful to be painted before the rest is read anyway.
FIRST_PAINT_WAIT_S = 2.0


class Cell(Text):
    """A literal table cell that remembers the raw value it shows, so columns sort as numbers and times."""

    __slots__ = ("sort_value",)

    def __init__(self, shown: str, sort_value: Any) -> None:
        super().__init__(shown)
        self.sort_value = sort_value


def sort_key(cell: Any) -> tuple[int, Any]:
    """Empty values last; text without regard to case."""
    value = getattr(cell, "sort_value", None)
    if value is None or value == "":
        return (1, 0)
    if isinstance(value, str):
        return (0, value.casefold())
    return (0, value)


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
    key: str
    row: dict[str, Any]
    cells: tuple[Cell, ...]
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
    """Clean and format every cell (untrusted text becomes literal Text), and measure each column once."""
    columns = columns_of(rows)
    prepared = Prepared(rows, columns, [cell_len(column_label(c)) for c in columns])
    seen: set[str] = set()
    shown_for: dict[tuple[str, Any], str] = {}  # queues, statuses, names repeat: clean each value once

    def show(column: str, value: Any) -> str:
        try:
            return shown_for[column, value]
        except KeyError:
            text = shown_for[column, value] = clean(formatting.cell(column, value, zone), CELL_LIMIT)
            return text
        except TypeError:  # an unhashable value
            return clean(formatting.cell(column, value, zone), CELL_LIMIT)

    for index, row in enumerate(rows):
        key = row_key(drill, row)
        if key in seen:  # a source that repeats an id: keep both rows
            key = f"{key}\x1f{index}"
        seen.add(key)
        shown = [show(c, row.get(c)) for c in columns]
        for i, text in enumerate(shown):
            prepared.widths[i] = max(prepared.widths[i], cell_len(text))
        cells = tuple(Cell(text, row.get(c)) for c, text in zip(columns, shown, strict=True))
        prepared.entries.append(Entry(key, row, cells, " ".join(shown).casefold()))
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
        self.rows_by_key: dict[str, dict[str, Any]] = {}
        self.prepared = Prepared([])
        self.matching = 0
        self.columns: list[str] = []
        self.sorted_by: tuple[str, bool] | None = None
        self.needle = ""
        self.loaded = False
        #: Entries (matching the filter) not yet added to the table, and which fill they belong to.
        self._pending: list[Entry] = []
        self._fill_number = 0
        #: The table shows the first screenful of a read whose rest is still being prepared.
        self._partial_shown = False
        #: Set once the first screenful is painted: the rest is read after it, not competing with it for the GIL.
        self._first_painted = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static("", id="rows-title", markup=False)
        yield DataTable(id="rows", cursor_type="row", zebra_stripes=True)
        yield Input(placeholder="filter: text in any column, Esc clears", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self._show_title()
        self.load()

    def _show_title(self) -> None:
        queue = "all queues" if self.queue is None else clean(self.queue, 40)
        total = len(self.rows)
        if not self.loaded:
            count = "loading…"
        else:
            count = f"{self.matching} of {total} rows" if self.needle else f"{total} rows"
            if total >= MAX_ROWS:
                count += f" (the first {MAX_ROWS} read)"
            if self.matching > SHOWN_MAX:
                count += f"; showing {SHOWN_MAX}, / narrows"
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
            # The first screenful by itself first (reading, cleaning and formatting 10,000 rows takes a second or
            # more), then all of them, off the UI thread.
            first = self._query(store, FIRST_ROWS)
            if len(first) < FIRST_ROWS:
                self.post_message(RowsLoaded(prepare(self.drill, first, self.zone), self.at))
                return
            self._first_painted.clear()
            self.post_message(RowsLoaded(prepare(self.drill, first, self.zone), self.at, partial=True))
            self._first_painted.wait(FIRST_PAINT_WAIT_S)
            rows = self._query(store, MAX_ROWS)
        # Cleaning, formatting and measuring 10,000 rows is the slow part: done here, off the UI thread.
        self.post_message(RowsLoaded(prepare(self.drill, rows, self.zone), self.at))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        prepared: Prepared = message.rows  # type: ignore[assignment]
        if message.partial and self.prepared.entries:
            self._first_painted.set()
            return  # a reload while showing rows: keep them until the whole new read is in
        # The first screenful is already in the table, in the same order: keep it and add the rest.
        continuing = (
            not message.partial
            and self._partial_shown
            and not self.needle
            and self.sorted_by is None
            and bool(self.prepared.entries)
            and self.prepared.widths == prepared.widths
        )
        self.prepared = prepared
        self.rows = prepared.rows
        self.columns = prepared.columns
        self.rows_by_key = {entry.key: entry.row for entry in prepared.entries}
        self.loaded = not message.partial
        self._partial_shown = message.partial
        if continuing:
            shown = self.query_one(DataTable).row_count
            self.matching = len(prepared.entries)
            self._pending = prepared.entries[shown:SHOWN_MAX]
            self._fill_number += 1
            self._add_pending(self._fill_number)
            self._show_title()
        else:
            self._fill()
        if message.partial:
            self.call_after_refresh(self._first_painted.set)

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        prepared = self.prepared
        table.clear(columns=True)
        for column, width in zip(prepared.columns, prepared.widths, strict=True):
            # A fixed width spares the table measuring every cell of every row.
            table.add_column(Text(column_label(column)), key=column, width=width)
        needle = self.needle.casefold()
        matching = [entry for entry in prepared.entries if not needle or needle in entry.search]
        self.matching = len(matching)
        self._pending = matching[:SHOWN_MAX]
        self._fill_number += 1
        self._add_pending(self._fill_number)
        if self.loaded and not self.rows:
            self.notify("Nothing behind this figure right now.", markup=False)
        self._show_title()

    def _add_pending(self, number: int) -> None:
        """Add the next chunk of rows; the rest after the screen has been painted (a newer fill cancels this one)."""
        if number != self._fill_number:
            return
        table = self.query_one(DataTable)
        chunk, self._pending = self._pending[:CHUNK_ROWS], self._pending[CHUNK_ROWS:]
        with self.app.batch_update():
            for entry in chunk:
                table.add_row(*entry.cells, key=entry.key)
        if self._pending:
            self.call_after_refresh(self._add_pending, number)

    # -- keys -----------------------------------------------------------------------------------------------

    def action_back(self) -> None:
        filter_input = self.query_one("#filter", Input)
        if filter_input.display:
            filter_input.value = ""
            filter_input.display = False
            self.needle = ""
            self._fill()
            self.query_one(DataTable).focus()
            return
        self.app.pop_screen()

    def action_filter(self) -> None:
        filter_input = self.query_one("#filter", Input)
        filter_input.display = True
        filter_input.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value.strip()
        if self.loaded:
            self._fill()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()

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

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        self._sort(str(event.column_key.value))

    def _sort(self, column: str) -> None:
        """Sort every row read (not only those shown), then show the first SHOWN_MAX."""
        reverse = self.sorted_by == (column, False)
        self.sorted_by = (column, reverse)
        index = self.columns.index(column)
        self.prepared.entries.sort(key=lambda entry: sort_key(entry.cells[index]), reverse=reverse)
        self._fill()

    def action_reload(self) -> None:
        self.loaded = False
        self._show_title()
        self.load()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        from shiftboard.tui.screens.detail import DetailScreen

        row = self.rows_by_key.get(str(event.row_key.value))
        if row is not None:
            self.app.push_screen(
                DetailScreen(self.drill, row, self.store_path, self.zone, self.at, privacy=self.privacy)
            )

    def show_privately(self, privacy: bool) -> None:
        """Read the rows again, masked or not."""
        if privacy != self.privacy:
            self.privacy = privacy
            self.action_reload()
