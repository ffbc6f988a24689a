"""Repainting the widgets whose content one show changed (a read, a tick of the waiting ages) at once, in one screen
update, rather than through Textual's messages.

Textual's route for ``widget.refresh(region)`` wakes four message pumps and timers for one repaint: the widget's
pump gets a prompt, its idle handler posts an update to the screen, the screen's idle handler resumes its update
timer, and that timer's next frame renders the screen. On a board where a caller waits, the longest wait ticks every
second, and that round trip was about a quarter of the main thread's work (measured: see ``Repaint``). The repaint
itself is Textual's: the screen's compositor is told which widgets changed and renders those areas, as the update
timer does (``Screen._on_timer_update``).

This leans on private parts of a version-pinned dependency (``textual<9``), as ``compositor.py`` does:
``Widget._set_dirty``, ``_layout_cache`` and ``_rich_style_cache`` (what ``refresh`` clears), ``Screen._compositor``,
``_compositor_refresh``, ``_dirty_widgets`` and the flags that say a layout or full repaint is pending.
``tests/tui/test_repaint.py`` checks that a tick's number is sent before the tick returns, with no message posted,
that Textual drawing the board again from nothing draws what was left on screen, and that behind another screen the
board is still repainted: it fails if an upgrade moves them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.geometry import Region
    from textual.screen import Screen
    from textual.widget import Widget


class Repaint:
    """The content areas that widgets of ``screen`` changed during one show; ``flush`` repaints them.

    Measured by thread (docs/benchmarks.md, session 16): the main thread of a board left open did about a quarter
    less work, on a viewer whose one caller waits and on the simulator's board at its busy hour with callers waiting.
    """

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self._changed: dict[Widget, list[Region]] = {}

    def content(self, widget: Widget, region: Region) -> None:
        """Mark ``region`` (in ``widget``'s content coordinates) to be drawn again at ``flush``: what
        ``widget.refresh(region)`` marks, without asking Textual to repaint. A widget not mounted yet is refreshed
        as usual (Textual repaints it when it mounts)."""
        if not widget.is_mounted:
            widget.refresh(region)
            return
        # What Widget.refresh clears before marking, so that render and render_line see the new content.
        widget._layout_cache.clear()
        widget._rich_style_cache.clear()
        widget.clear_cached_dimensions()
        widget._set_dirty(region)
        self._changed.setdefault(widget, []).append(region)

    def flush(self) -> None:
        """Repaint the marked areas now, in one screen update; or, when the screen is not in front, a layout or full
        repaint is pending, or updates are batched, leave them to Textual's route (``refresh``)."""
        changed, self._changed = self._changed, {}
        if not changed:
            return
        screen = self.screen
        app = screen.app
        if (
            app.screen is not screen
            or app._batch_count
            or screen._layout_required
            or screen._scroll_required
            or screen._repaint_required
            or screen._recompose_required
        ):
            for widget, regions in changed.items():
                widget.refresh(*regions)
            return
        # With the widgets already waiting for the screen's update timer: rendered now, the timer finds none left.
        dirty = screen._dirty_widgets
        dirty.update(changed)
        screen._compositor.update_widgets(dirty)
        screen._compositor_refresh()
