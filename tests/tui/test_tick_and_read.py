"""A tick of the ages and a refresh's read share one repaint: the read starts just before a tick, and a tick that
finds a read under way leaves the ages to its show, unless the read is slow."""

from __future__ import annotations

import asyncio

import pytest

from shiftboard.tui.app import TICK_LEAD_S, ShiftboardApp
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import settled, until
from tests.tui.seed import NOW


def _held_reads(app: ShiftboardApp, monkeypatch) -> list[float]:
    """The moments of the reads the app asks for from now on, held instead of read (``app._read_requests``)."""
    held: list[float] = []
    monkeypatch.setattr(app, "_read", held.append)
    return held


def _tick_now(app: ShiftboardApp) -> None:
    """The tick the app planned, run now (as the event loop would at its moment)."""
    assert app._tick is not None
    app._tick.cancel()
    app._on_tick()


@pytest.mark.parametrize("slow_read", [False, True])
async def test_a_tick_during_a_read_is_left_to_the_read_unless_it_is_slow(settings, seeded, monkeypatch, slow_read):
    """A tick that finds a read under way does not draw, and the read's show moves the age on; a read still under
    way 0.1 s after it began does not stop the ages."""
    slow = settings.model_copy(update={"board": settings.board.model_copy(update={"refresh_s": 3600.0})})
    now = [NOW]
    app = ShiftboardApp(slow, seeded, [], clock=lambda: now[0], ascii_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot, app)
        tile = app.screen.query_one("#tile-longest_wait_s", Tile)
        assert tile.text == "1:30"
        held = _held_reads(app, monkeypatch)
        app.read_now()
        assert held == [NOW]
        now[0] = NOW + 1
        _tick_now(app)
        assert tile.text == "1:30"  # not drawn by the tick
        if slow_read:
            await until(pilot, lambda: tile.text == "1:31")  # drawn by a tick while the read is still under way
            assert held and app._reading
        reads = app.reads
        app._read_requests.put(held.pop())  # the read lands: its show moves the age on
        await until(pilot, lambda: app.reads == reads + 1)
        assert tile.text == "1:31"


async def test_a_refresh_read_starts_just_before_a_tick(settings, seeded):
    """With an age ticking every second, the next refresh's read is planned a tick's lead before a tick, and no
    more than half a second from the refresh interval."""
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW, ascii_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot, app)
        assert app._tick is not None  # the longest wait, 1:30, moves on every second
        loop = asyncio.get_running_loop()
        for tick_in in (0.05, 0.3, 0.55, 0.8, 0.999):  # wherever the next tick falls
            app._tick.cancel()
            app._tick = loop.call_later(tick_in, app._on_tick)
            start = loop.time() + app._refresh_delay()
            assert abs(start - (loop.time() + app.refresh_s)) <= 0.5 + 0.01
            before_tick = (app._tick.when() - start) % 1.0
            assert abs(before_tick - TICK_LEAD_S) < 0.005, tick_in
        app._tick.cancel()
        app._tick = None
        assert app._refresh_delay() == app.refresh_s  # no age moving: the interval as set
