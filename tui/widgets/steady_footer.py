"""Textual's Footer, rebuilt only when the keys it shows change, and only on the screen in front.

Footer rebuilds every key it shows whenever the screen's bindings are refreshed: a screen pushed, popped or resumed,
a focus change. Opening a drill-down did that four times on the rows screen and three on the board underneath, and
each rebuild mounts and styles a widget per key: about a third of the time from Enter to the first rows on screen,
though the keys shown stayed the same.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class SteadyFooter(Footer):
    """A Footer that skips a rebuild when the keys it would show are those it shows, or its screen is behind
    another."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: What the last rebuild showed (None: nothing built yet).
        self._shown: tuple[object, ...] | None = None
        #: A rebuild is scheduled and has not run yet: it will read the bindings as they are then.
        self._pending = False

    def _keys(self, screen: Screen) -> tuple[object, ...]:
        """Everything Footer.compose reads from the bindings it shows (and the command palette's)."""
        app = self.app
        palette = app.COMMAND_PALETTE_BINDING
        return tuple(
            (
                binding.key,
                binding.action,
                binding.description,
                binding.show,
                binding.group,
                binding.tooltip,
                app.get_key_display(binding),
                enabled,
                tooltip,
            )
            for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
            if binding.show or key == palette
        )

    def compose(self) -> ComposeResult:
        self._pending = False
        if not self._bindings_ready and self.is_attached:
            # Footer shows no key until its screen first reports its bindings, and only then builds them: a second
            # layout and render of the whole screen just after it first appears. The bindings are there already (a
            # later change rebuilds the keys as usual).
            self.set_reactive(Footer._bindings_ready, True)
        if self._bindings_ready:
            self._shown = self._keys(self.screen)
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                # A key starts compact and is bound to the footer's (not compact) when mounted: the class it
                # gains and loses restyles it twice. Starting it as the footer is restyles it once.
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        ours = self.is_attached and screen is self.screen
        # A screen under another (the board under a drill-down) is brought up to date when it is resumed, which
        # refreshes its bindings again.
        if ours and (
            not screen.is_active or self._pending or (self._shown is not None and self._keys(screen) == self._shown)
        ):
            return
        self._pending = ours and screen.app.app_focus
        super().bindings_changed(screen)
