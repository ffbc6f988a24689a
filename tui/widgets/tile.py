"""A tile: one figure's label, its number (large when there is room) and its state as a word and a colour."""

from __future__ import annotations

from rich.align import Align
from textual.app import RenderResult
from textual.content import Content
from textual.renderables.digits import Digits
from textual.widget import Widget

from shiftboard.tui.figures import Figure, State
from shiftboard.tui.terminal import ascii_text

#: Width of one large glyph in Textual's Digits.
GLYPH_WIDTH = 3
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

    def render(self) -> RenderResult:
        # Large or compact is decided here, at the size being drawn: deciding it on every resize made each tile ask
        # for a repaint of its own after the layout that sized it (a second render of the whole board at start-up).
        inner = self.content_size
        fits = inner.height >= 3 and inner.width >= GLYPH_WIDTH * len(self.text)
        # Digits draws with box glyphs: --ascii keeps plain bold numbers.
        if fits and not self.ascii_only and any(char.isdigit() for char in self.text):
            return Align(Digits(self.text, self.rich_style), "center")
        return Content(self.text).stylize("bold")

    @property
    def ascii_only(self) -> bool:
        return getattr(self.app, "ascii_only", False)

    def on_mount(self) -> None:
        self._subtitle()

    def on_resize(self) -> None:
        if self.ascii_only:
            self._subtitle()  # its length depends on the width (see _subtitle)

    def show(self, text: str, state: State, note: str | None = None) -> None:
        """Set the number, the state and the short second reading."""
        ascii_only = self.ascii_only
        text, note = ascii_text(text, ascii_only), note and ascii_text(note, ascii_only)
        if (text, state, note) == (self.text, self.state, self.note):
            return
        if state is self.state and note == self.note:
            # Only the number: its lines are drawn again, the borders with their labels are kept (a waiting age
            # ticks every second).
            self.text = text
            self.refresh(self.content_region.reset_offset)
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
