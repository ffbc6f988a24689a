"""The grid of tiles: it picks how many columns fit the terminal and moves focus between tiles with the arrows."""

from __future__ import annotations

import math

from textual.binding import Binding
from textual.containers import Grid

from shiftboard.tui.widgets.tile import Tile

#: Narrowest and lowest a tile may be and still show its label, number and state.
MIN_TILE_WIDTH = 18
MIN_TILE_HEIGHT = 4
#: Tiles look balanced near this width:height ratio in terminal cells (cells are about twice as tall as wide).
TARGET_RATIO = 3.5


def columns_for(count: int, width: int, height: int) -> int:
    """How many columns to lay ``count`` tiles out in, in a ``width`` × ``height`` area.

    Among the column counts where every tile fits (at least MIN_TILE_WIDTH wide and MIN_TILE_HEIGHT high), the one
    whose tiles are closest to TARGET_RATIO; if none fits, as many columns as the width allows (the grid scrolls).
    """
    if count <= 0:
        return 1
    fitting = []
    for cols in range(1, count + 1):
        tile_w = width / cols
        rows = math.ceil(count / cols)
        tile_h = height / rows
        if tile_w >= MIN_TILE_WIDTH and tile_h >= MIN_TILE_HEIGHT:
            fitting.append((abs(tile_w / tile_h - TARGET_RATIO), cols))
    if fitting:
        return min(fitting)[1]
    return max(1, min(count, width // MIN_TILE_WIDTH))


class TileGrid(Grid):
    """Tiles in reading order; arrows move focus, Tab too."""

    BINDINGS = [
        Binding("left", "move(-1, 0)", "Previous tile", show=False, id="tile-left"),
        Binding("right", "move(1, 0)", "Next tile", show=False, id="tile-right"),
        Binding("up", "move(0, -1)", "Tile above", show=False, id="tile-up"),
        Binding("down", "move(0, 1)", "Tile below", show=False, id="tile-down"),
    ]

    columns = 4

    def on_resize(self) -> None:
        tiles = list(self.query(Tile))
        size = self.size
        self.columns = columns_for(len(tiles), size.width, size.height)
        rows = math.ceil(len(tiles) / self.columns) if tiles else 1
        self.styles.grid_size_columns = self.columns
        self.styles.grid_size_rows = rows
        fits = size.height >= rows * MIN_TILE_HEIGHT
        self.styles.grid_rows = "1fr" if fits else str(MIN_TILE_HEIGHT + 1)

    def action_move(self, dx: int, dy: int) -> None:
        tiles = list(self.query(Tile))
        if not tiles:
            return
        focused = self.screen.focused
        index = tiles.index(focused) if focused in tiles else 0
        if dy:
            target = index + dy * self.columns
            if not 0 <= target < len(tiles):
                return
        else:
            target = (index + dx) % len(tiles)
        tiles[target].focus()
