"""A screen compositor that, for a partial update, renders only the widgets whose visible area meets a changed area.

Textual 8.2's ``Compositor._get_renders`` keeps, for a partial update, every widget whose *clip* (the visible area of
its container) overlaps the rectangle around all the changed areas, and renders each of them whole. A tile's clip is
the whole grid, so a change to one tile rendered all sixteen tiles, the header and the footer, and threw away the
lines outside the change: about 4 ms of the main thread at 100×30 for each second the longest wait ticks on. And a
read that changes two tiles far apart changes a rectangle that holds most of the board. A partial update sends only
the changed areas' cells, so leaving out the widgets whose own visible area (region within clip) meets none of them
sends the same cells. Full updates (a resize, a new screen) are untouched.

When each changed area lies in a widget in front of it (a tile's number, a tile, the header), the update goes
further (``_front_update``): it renders only the rectangle around each widget's changed areas, and sends those
widgets' cells as they are, without cutting every line of the screen at every widget's edge. Otherwise (the grid
behind the tiles, a notification in front of part of a change) the narrowed render above does it.

Why not the public route, a container per row of tiles (a tile's clip would then be its row): the columns follow
the terminal's size, and Textual cannot move a mounted widget to another parent, so every change of columns would
mount the tiles again; and each update would still render every row, the header and the footer. This leans on
private parts of a version-pinned dependency (``textual<9``): ``Screen._compositor``, ``Compositor._get_renders``,
``_dirty_regions`` and ``_regions_to_spans``, and how ``ChopsUpdate`` reads its chops. ``tests/tui/test_compositor.py``
checks that each update leaves the screen Textual's own compositor leaves, and that a one-tile change renders one
tile (a tick, its number's rows alone): it fails if an upgrade moves them.
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
        if self.narrow and (update := self._front_update()) is not None:
            return update
        self._changed = tuple(self._dirty_regions) if self.narrow else ()  # the base clears them before rendering
        try:
            return super().render_partial_update()
        finally:
            self._changed = ()

    def _front_update(self) -> ChopsUpdate | None:
        """The update when each widget with changed areas is in front of all of them (a tile whose number or frame
        changed, the header): each such widget's lines of the rectangle around its changed areas; None otherwise.

        Textual renders each of those widgets whole and cuts every line of the screen at the widgets' edges to find
        what to send; when each changed cell's widget is in front of it, what to send is those widgets' own cells. A
        waiting age repaints one tile every second, and a read the header and the tiles it changed: this was about a
        fifth of such a repaint's work (docs/benchmarks.md, session 19).
        """
        changed = self._dirty_regions
        if not changed:
            return None
        widgets = super().visible_widgets
        by_widget: dict[Widget, list[Region]] = {}
        for area in changed:
            front = _in_front(widgets, area)
            if front is None:
                return None
            by_widget.setdefault(front[0], []).append(area)
        crops: list[tuple[Widget, Region, Region]] = []
        for widget, areas in by_widget.items():
            crop = Region.from_union(areas)
            # In front of the whole rectangle, not of its changed areas alone: a widget in front of the space
            # between them (a notification) keeps that space.
            front = _in_front(widgets, crop)
            if front is None or front[0] is not widget or not front[2].contains_region(crop):
                return None
            crops.append((widget, front[1], crop))
        chops: dict[int, dict[int, Strip]] = {}
        ends: dict[int, list[int]] = {}
        for widget, region, crop in sorted(crops, key=lambda each: each[2].x):
            strips = widget.render_lines(crop.translate(-region.offset))
            if len(strips) != crop.height:
                return None
            for y, strip in zip(crop.line_range, strips, strict=True):
                chops.setdefault(y, {})[crop.x] = strip
                ends.setdefault(y, []).append(crop.right)
        spans = list(self._regions_to_spans(changed))
        changed.clear()
        # ChopsUpdate reads its chops and their ends by line number: only the changed lines are looked up.
        return ChopsUpdate(chops, spans, ends)  # type: ignore[arg-type]

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


def _in_front(widgets: dict[Widget, tuple[Region, Region]], area: Region) -> tuple[Widget, Region, Region] | None:
    """Of ``widgets`` (front first), the first whose visible area meets ``area``, with its region and visible area;
    None when none does."""
    for widget, (region, clip) in widgets.items():
        visible = region.intersection(clip)
        if area.overlaps(visible):
            return widget, region, visible
    return None


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
