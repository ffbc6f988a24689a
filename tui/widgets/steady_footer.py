"""The keys of the screen in front, in one line at the bottom: the look of Textual's Footer, drawn by one widget.

Textual's Footer is a row of FooterKey widgets, each styled, measured, laid out and painted on its own, and all of
them are rebuilt whenever the screen's bindings are refreshed (a screen pushed, popped or resumed, a focus change).
On the board that was a quarter of the main thread's work from ``App.run`` to the first painted figures (about
40 ms); a drill-down paid it again. This footer draws the same line itself (hand-written for that reason), and
repaints only when the keys it shows change while its screen is in front. As in Footer, a click on a key presses
it, the key under the mouse is highlighted and shows its tooltip, disabled keys are dim, and the command palette's
key sits at the right edge; keys that do not fit are cut off before it.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import RenderResult
from textual.screen import Screen
from textual.widget import Widget


class FooterEntry(NamedTuple):
    """One key as the footer shows it."""

    key: str
    display: str
    description: str
    enabled: bool
    tooltip: str


class SteadyFooter(Widget):
    """The keys of its screen's active bindings that have ``show``, then the command palette's key at the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer--key", "footer--description", "footer--hover", "footer--palette-edge"}
    # The rules of Footer and FooterKey (Textual 8), for one widget.
    DEFAULT_CSS = """
    SteadyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        text-wrap: nowrap;
        & > .footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .footer--hover {
            background: $block-hover-background;
        }
        & > .footer--palette-edge {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        #: The keys shown, then the palette's key (None when it has none); None until first drawn.
        self._shown: tuple[tuple[FooterEntry, ...], FooterEntry | None] | None = None
        #: Where each key is drawn: (first cell, cell after it, entry).
        self._spots: list[tuple[int, int, FooterEntry]] = []
        self._hover: FooterEntry | None = None

    @property
    def entries(self) -> tuple[FooterEntry, ...]:
        """The keys shown, the palette's last (what a click can press)."""
        keys, palette = self._keys()
        return (*keys, palette) if palette else keys

    def _keys(self) -> tuple[tuple[FooterEntry, ...], FooterEntry | None]:
        if self._shown is None:
            self._shown = self._read_keys(self.screen)
        return self._shown

    def _read_keys(self, screen: Screen) -> tuple[tuple[FooterEntry, ...], FooterEntry | None]:
        """What Footer.compose shows: one key per action (the first bound), in binding order; the palette's key."""
        app = self.app
        active = screen.active_bindings
        keys: dict[str, FooterEntry] = {}
        for _, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in keys:
                display = app.get_key_display(binding)
                keys[binding.action] = FooterEntry(binding.key, display, binding.description, enabled, tooltip)
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _, binding, enabled, tooltip = active[app.COMMAND_PALETTE_BINDING]
            display = app.get_key_display(binding)
            tip = binding.tooltip or binding.description
            palette = FooterEntry(binding.key, display, binding.description, enabled, tip)
        return tuple(keys.values()), palette

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        # A screen behind another (the board under a drill-down) is brought up to date when it is resumed, which
        # refreshes its bindings again.
        if not (self.is_attached and screen is self.screen and screen.is_active):
            return
        shown = self._read_keys(screen)
        if shown != self._shown:
            self._shown = shown
            self.refresh()

    def render(self) -> RenderResult:
        keys, palette = self._keys()
        width = self.size.width
        line = Text(no_wrap=True, end="")
        self._spots = []
        for entry in keys:
            start = line.cell_len
            line.append_text(self._key(entry, compact=False))
            self._spots.append((start, line.cell_len, entry))
        if palette is None:
            return line
        # Footer docks the palette's key right, with a left edge, compact, and one cell of padding after it.
        edge = "|" if getattr(self.app, "ascii_only", False) else "▏"
        hovered = palette == self._hover
        right = Text(end="")
        right.append(edge, self._part_style("footer--palette-edge", hovered))
        right.append_text(self._key(palette, compact=True))
        right.append(" ", self._part_style(None, hovered))
        room = max(0, width - right.cell_len)
        line.truncate(room, overflow="crop", pad=True)
        self._spots = [(start, min(end, room), entry) for start, end, entry in self._spots if start < room]
        self._spots.append((room, width, palette))
        line.append_text(right)
        return line

    def _key(self, entry: FooterEntry, *, compact: bool) -> Text:
        """One key as FooterKey draws it: `` key `` then ``description `` (compact: ``key`` then `` description``)."""
        hovered = entry == self._hover
        key_style = self._part_style("footer--key", hovered)
        description_style = self._part_style("footer--description", hovered)
        if entry.description:
            key = entry.display if compact else f" {entry.display} "
            description = f" {entry.description}" if compact else f"{entry.description} "
            text = Text.assemble((key, key_style), (description, description_style), end="")
        else:
            text = Text(entry.display, style=key_style, end="")
        base = self._part_style(None, hovered)
        if not entry.enabled:
            base += Style(dim=True)
        text.stylize_before(base)
        return text

    def _part_style(self, part: str | None, hovered: bool) -> Style:
        """A part's style (None: the key's own); under the mouse, the hover background shows where it has none."""
        style = self.rich_style if part is None else self.get_component_rich_style(part)
        transparent = part is None or self.get_component_styles(part).background.a == 0
        if hovered and transparent:
            style += Style(bgcolor=self.get_component_rich_style("footer--hover").bgcolor)
        return style

    def _entry_at(self, x: int) -> FooterEntry | None:
        return next((entry for start, end, entry in self._spots if start <= x < end), None)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        entry = self._entry_at(event.x)
        if entry is None:
            return
        if entry.enabled:
            self.app.simulate_key(entry.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._point_at(self._entry_at(event.x))

    def on_leave(self) -> None:
        self._point_at(None)

    def _point_at(self, entry: FooterEntry | None) -> None:
        if entry != self._hover:
            self._hover = entry
            self.tooltip = entry.tooltip if entry and entry.tooltip else None
            self.refresh()
