"""The board: the header, a tile per figure, the footer with the keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen

from shiftboard.tui.compositor import use_cropped_compositor
from shiftboard.tui.figures import FIGURES
from shiftboard.tui.widgets.board_header import BoardHeader
from shiftboard.tui.widgets.steady_footer import SteadyFooter
from shiftboard.tui.widgets.tile import Tile
from shiftboard.tui.widgets.tile_grid import TileGrid


class BoardScreen(Screen):
    """The base screen. The app feeds it data; it never reads the cache itself."""

    BINDINGS = [Binding("enter", "drill", "Rows behind", id="drill")]

    def __init__(self) -> None:
        super().__init__()
        use_cropped_compositor(self)  # a tile's change renders that tile, not every tile (see tui/compositor.py)
        #: The header and the tiles, kept so each read does not search the DOM for them.
        self.header = BoardHeader()
        self.tiles = [Tile(figure) for figure in FIGURES]

    def compose(self) -> ComposeResult:
        if self.app.data is not None:  # type: ignore[attr-defined]
            self.app.fill_board(self)  # type: ignore[attr-defined]  # a read taken before this screen was composed
        yield self.header
        with TileGrid(id="tiles"):
            yield from self.tiles
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.tiles[0].focus()
        if self.app.data is not None:  # type: ignore[attr-defined]
            self.app.show_board()  # type: ignore[attr-defined]  # a read taken before this screen was composed

    def action_drill(self) -> None:
        focused = self.focused
        if isinstance(focused, Tile):
            self.app.action_drill(focused.figure.id)  # type: ignore[attr-defined]
