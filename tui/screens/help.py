"""Help: the keys active where ? was pressed, generated from the bindings (so remapped keys show as remapped)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


@dataclass(frozen=True, slots=True)
class KeyHelp:
    keys: str
    description: str
    binding_id: str


def help_content(entries: list[KeyHelp]) -> Content:
    width = max((len(e.keys) for e in entries), default=0)
    lines = [
        Content.assemble(
            (e.keys.rjust(width), "bold $accent"), "  ", e.description, (f"  [{e.binding_id}]", "$text-muted")
        )
        for e in entries
    ]
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="help-close"),
        Binding("question_mark", "dismiss", "Close", key_display="?", show=False, id="help-close-2"),
        Binding("q", "dismiss", "Close", show=False, id="help-close-3"),
    ]

    def __init__(self, entries: list[KeyHelp]) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Content.assemble(("Keys", "bold"), " (Esc closes; ids in brackets)"), id="help-title")
            with VerticalScroll():
                yield Static(help_content(self.entries), id="help-keys", markup=False)
