"""A screen compositor that, for a partial update, renders only the widgets whose visible area meets a changed area.

Textual 8.2's ``Compositor._get_renders`` keeps, for a partial update, every widget whose *clip* (the visible area of
its container) overlaps the rectangle around all the changed areas, and renders each of them whole. A tile's clip is
the whole grid, so a change to one tile rendered all sixteen tiles, the header and the footer, and threw away the
lines outside the change: about 4 ms of the main thread at 100×30 for each second the longest wait ticks on. And a
read that changes two tiles far apart changes a rectangle that holds most of the board. A partial update sends only
the changed areas' cells, so leaving out the widgets whose own visible area (region within clip) meets none of them
sends the same cells. Full updates (a resize, a new screen) are untouched.

Why not the public route, a container per row of tiles (a tile's clip would then be its row): the columns follow
the terminal's size, and Textual cannot move a mounted widget to another parent, so every change of columns would
mount the tiles again; and each update would still render every row, the header and the footer. This leans on
private parts of a version-pinned dependency (``textual<9``): ``Screen._compositor``, ``Compositor._get_renders`` and
``_dirty_regions``. ``tests/tui/test_compositor.py`` checks that what is sent is what Textual's own compositor sends,
and that a one-tile change renders one tile: it fails if an upgrade moves them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.strip import Strip
    from textual.widget import Widget


class CroppedCompositor(Compositor):
    """Renders, for a partial update, only the widgets whose visible area overlaps one of the changed areas.

    ``narrow`` False renders as Textual does (kept for the test that compares the two).
    """

    def __init__(self) -> None:
        super().__init__()
        self.narrow = True
        #: The changed areas of the partial update being rendered; empty otherwise.
        self._changed: tuple[Region, ...] = ()
        #: The same, while ``_get_renders`` runs: only then is ``visible_widgets`` narrowed (Textual also reads it
        #: to work out where widgets start and end on each line, which must see every widget).
        self._narrowed_to: tuple[Region, ...] = ()

    @property
    def visible_widgets(self) -> dict[Widget, tuple[Region, Region]]:
        """Textual's visible widgets (widget → region, clip); during a partial render, those meeting a change."""
        widgets = super().visible_widgets
        changed = self._narrowed_to
        if not changed:
            return widgets
        return _meeting(widgets, changed)

    def render_partial_update(self) -> ChopsUpdate | None:
        self._changed = tuple(self._dirty_regions) if self.narrow else ()  # the base clears them before rendering
        try:
            return super().render_partial_update()
        finally:
            self._changed = ()

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        self._narrowed_to = self._changed
        try:
            # The base reads ``visible_widgets`` once, before its first render: it sees the narrowed mapping.
            yield from super()._get_renders(crop)
        finally:
            self._narrowed_to = ()


def use_cropped_compositor(screen: Screen) -> None:
    """Give a screen that is not mounted yet a ``CroppedCompositor`` (call from its ``__init__``)."""
    screen._compositor = CroppedCompositor()


def _meeting(
    widgets: dict[Widget, tuple[Region, Region]], changed: tuple[Region, ...]
) -> dict[Widget, tuple[Region, Region]]:
    """Of ``widgets`` (front first, as Textual orders them), those whose visible area meets a changed area that no
    widget in front of them covers whole.

    A widget in front wins every cell of its visible area (``_render_chops`` keeps the first strip for each cut, and
    a widget's strips fill its area), so a container behind a changed tile, the grid and the screen, would be
    rendered only to be thrown away: about a third of the work of a tick of the longest wait.
    """
    open_areas = list(changed)
    kept: dict[Widget, tuple[Region, Region]] = {}
    for widget, (region, clip) in widgets.items():
        if not open_areas:
            break
        visible = region.intersection(clip)
        if any(area.overlaps(visible) for area in open_areas):
            kept[widget] = (region, clip)
            open_areas = [area for area in open_areas if not visible.contains_region(area)]
    return kept
