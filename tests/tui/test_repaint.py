"""Repainting what a read or a tick changed at once (tui/repaint.py): the tick's new number is sent to the terminal
before the tick returns, without a message to the tile or the screen, and leaves the screen Textual would draw;
behind another screen, Textual's own route repaints it."""

from __future__ import annotations

import pytest
from rich.console import Console
from textual.message import Message
from textual.message_pump import MessagePump
from textual.renderables.digits import Digits

from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.screens.board import BoardScreen
from shiftboard.tui.screens.help import HelpScreen
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import settled, until
from tests.tui.seed import NOW


def _wait_tile(app: ShiftboardApp) -> Tile:
    return app.screen.query_one("#tile-longest_wait_s", Tile)


def _screen_text(app: ShiftboardApp) -> str:
    """The board as Textual draws it whole, now (not what the partial updates sent)."""
    return app.screen._compositor.render_full_update().render_segments(Console(legacy_windows=False))


def _sent_by(screen, app: ShiftboardApp, monkeypatch) -> list[str]:
    """What ``screen``'s compositor sends from now on, each update as the text for the terminal (kept even when the
    app runs headless and sends nothing)."""
    compositor = screen._compositor
    sent: list[str] = []
    render_update = compositor.render_update

    def kept(*args, **kwargs):
        update = render_update(*args, **kwargs)
        if update is not None:
            sent.append(update.render_segments(app.console))
        return update

    monkeypatch.setattr(compositor, "render_update", kept)
    return sent


@pytest.mark.parametrize("ascii_only", [False, True])  # large digits drawn by the tile; Textual's compact number
async def test_a_tick_is_sent_at_once_without_messages(settings, seeded, monkeypatch, ascii_only):
    slow = settings.model_copy(update={"board": settings.board.model_copy(update={"refresh_s": 3600.0})})
    now = [NOW]
    app = ShiftboardApp(slow, seeded, [], clock=lambda: now[0], ascii_only=ascii_only)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot, app)
        await pilot.pause()
        board = app.screen
        assert isinstance(board, BoardScreen)
        tile = _wait_tile(app)
        assert tile.text == "1:30"
        sent = _sent_by(board, app, monkeypatch)
        posted: list[tuple[str, str]] = []
        post_message = MessagePump.post_message

        def counted(self: MessagePump, message: Message) -> bool:
            posted.append((type(self).__name__, type(message).__name__))
            return post_message(self, message)

        monkeypatch.setattr(MessagePump, "post_message", counted)
        # Textual keeps the visual that ``render`` gave (the compact number) until a refresh clears it.
        tile._render()
        now[0] = NOW + 1
        app._on_tick()  # what the event loop calls when the wait's text changes
        assert tile.text == "1:31"
        assert posted == []  # no prompt to the tile, no update to the screen
        assert len(sent) == 1  # sent before the tick returned
        update = sent[0]
        if ascii_only:
            assert "1:31" in update and "1:30" not in update
        else:
            # Textual's own large digits for the new number, row by row.
            rows = Digits("1:31").render(tile.visual_style.rich_style)
            for row in [segment.text for segment in rows if segment.text != "\n"]:
                assert row in update
        monkeypatch.setattr(MessagePump, "post_message", post_message)
        await pilot.pause()
        # Textual, drawing the whole board now, draws what the partial update left: the new number.
        whole = _screen_text(app)
        if ascii_only:
            assert "1:31" in whole and "1:30" not in whole
        tile.refresh()  # the tile drawn again from nothing: the kept lines were the current ones
        await pilot.pause()
        assert _screen_text(app) == whole


async def test_a_tick_behind_another_screen_is_repainted_by_textual(settings, seeded, monkeypatch):
    """The help is a modal screen: the board shows around and behind it, its ages still moving."""
    slow = settings.model_copy(update={"board": settings.board.model_copy(update={"refresh_s": 3600.0})})
    now = [NOW]
    app = ShiftboardApp(slow, seeded, [], clock=lambda: now[0], ascii_only=True)
    async with app.run_test(size=(160, 60)) as pilot:  # the help leaves the top tiles in sight
        await settled(pilot, app)
        board = app.screen
        tile = _wait_tile(app)
        app.action_help()
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        sent = _sent_by(app.screen, app, monkeypatch)
        now[0] = NOW + 5
        app._on_tick()
        assert tile.text == "1:35"
        await until(pilot, lambda: any("1:35" in update for update in sent))  # drawn behind the help, dimmed
        app.pop_screen()
        await until(pilot, lambda: app.screen is board)
        await pilot.pause()
        whole = _screen_text(app)
        assert "1:35" in whole and "1:30" not in whole
