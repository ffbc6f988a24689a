"""One row's detail: every field of the record it stands for, as literal text."""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from shiftboard import drilldown
from shiftboard.privacy import mask_record
from shiftboard.store import Store
from shiftboard.text import clean
from shiftboard.tui import formatting
from shiftboard.tui.drills import Drill
from shiftboard.tui.widgets.steady_footer import SteadyFooter


class RecordLoaded(Message):
    def __init__(self, record: dict[str, Any] | None) -> None:
        super().__init__()
        self.record = record


def detail_content(fields: dict[str, Any], zone: tzinfo | None) -> Content:
    """One line per field: the name, then its value (times in the board's zone, durations as waits)."""
    width = max((len(name) for name in fields), default=0)
    lines = []
    for name, value in fields.items():
        if name == "queues" and isinstance(value, str) and value.startswith("["):
            value = _queue_list(value)
        shown = formatting.cell(name, value, zone)
        if name.endswith("_at") and isinstance(value, int | float):
            shown += f"  ({formatting.stamp(value, None)} UTC)"
        label = (name.replace("_", " ").rjust(width), "bold $text-muted")
        lines.append(Content.assemble(label, "  ", clean(shown, 4000)))
    return Content("\n").join(lines)


def _queue_list(value: str) -> str:
    """A stored JSON list of queues as "a, b"; a value that only looks like one (a queue named "[x]") as it is."""
    try:
        queues = json.loads(value)
    except ValueError:
        return value
    return ", ".join(map(str, queues)) if isinstance(queues, list) else value


class DetailScreen(Screen):
    """The row as drilled, completed with the stored record once it is read."""

    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    def __init__(
        self,
        drill: Drill,
        row: dict[str, Any],
        store_path: str,
        zone: tzinfo | None,
        at: float | None = None,
        *,
        privacy: bool = False,
    ) -> None:
        super().__init__()
        #: The moment the row was drilled at (an agent's state is the one they were in then).
        self.at = at
        self.drill = drill
        self.row = row
        self.record: dict[str, Any] | None = None
        #: Mask customers and subjects (``--privacy`` / the ``p`` key).
        self.privacy = privacy
        self.store_path = store_path
        self.zone = zone

    def compose(self) -> ComposeResult:
        key = clean(self.row.get(self.drill.key), 80)
        title = Content.assemble((f"{self.drill.kind.title()} ", "bold"), (key, "bold $accent"))
        yield Static(title, id="detail-title")
        with VerticalScroll(id="detail-body"):
            yield Static(detail_content(self._fields(), self.zone), id="detail", markup=False)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False)
    def load(self) -> None:
        with Store(self.store_path, readonly=True) as store:
            source, key = str(self.row.get("source")), str(self.row.get(self.drill.key))
            found = drilldown.record(store, self.drill.kind, source, key, self.at)
        self.post_message(RecordLoaded(found))

    def on_record_loaded(self, message: RecordLoaded) -> None:
        if message.record is None:
            return
        self.record = message.record
        self.query_one("#detail", Static).update(detail_content(self._fields(), self.zone))

    def _fields(self) -> dict[str, Any]:
        fields = {**self.row, **(self.record or {})}
        return mask_record(fields) if self.privacy else fields

    def show_privately(self, privacy: bool) -> None:
        """Show the record masked or not."""
        self.privacy = privacy
        self.query_one("#detail", Static).update(detail_content(self._fields(), self.zone))

    def action_back(self) -> None:
        self.app.pop_screen()
