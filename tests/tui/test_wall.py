"""Wall mode: big figures per queue, rotation on the clock, a flash and a bell on a crossing into BREACH, trends;
and the terminal variants (NO_COLOR, 16 colours, ASCII) in which every state still reads as a word."""

from __future__ import annotations

import html
import re

import pytest

from shiftboard.config import Settings
from shiftboard.model import Batch
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.screens.board import BoardScreen
from shiftboard.tui.screens.wall import WallScreen, WallTile
from shiftboard.tui.terminal import ANSI_THEME
from tests.tui.conftest import until
from tests.tui.seed import NOW, contact, write


def wall_settings(settings: Settings, **board) -> Settings:
    return settings.model_copy(update={"board": settings.board.model_copy(update=board)})


def wall_app(settings, store, clock=lambda: NOW, **kwargs) -> ShiftboardApp:
    return ShiftboardApp(settings, store, [], clock=clock, wall=True, **kwargs)


async def wall_loaded(pilot) -> WallScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, WallScreen) and app.data is not None)
    screen = app.screen
    await until(pilot, lambda: "all" in screen._trends)
    await until(pilot, lambda: screen.query_one("#trend-sl").query_one(".trend-value").visual is not None)
    await pilot.pause()
    return screen


def words(screen) -> dict[str, str]:
    """Each wall tile's state word, by figure."""
    return {tile.figure.id: tile.state.value for tile in screen.query(WallTile)}


def screen_text(app) -> str:
    """The characters on screen, from the SVG export (its text elements)."""
    svg = app.export_screenshot()
    return html.unescape("".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))).replace("\xa0", " ")


# -- snapshots ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_wall_snapshot(snap_compare, settings, seeded, size):
    app = wall_app(settings, seeded)

    async def loaded(pilot):
        screen = await wall_loaded(pilot)
        # All queues by hand (tests/tui/seed.py): 3 waiting (OK under 5), longest 90 s (WARN past 60), service level
        # 3 of 5 within 20 s = 60% (BREACH under 70).
        assert words(screen)["waiting_now"] == "OK"
        assert words(screen)["longest_wait_s"] == "WARN"
        assert words(screen)["service_level_pct"] == "BREACH"

    assert snap_compare(app, terminal_size=size, run_before=loaded)


def test_wall_snapshot_no_color(snap_compare, settings, seeded, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = wall_app(settings, seeded)
    assert app.no_color

    async def loaded(pilot):
        await wall_loaded(pilot)
        text = screen_text(app)
        assert {"OK", "WARN", "BREACH"} <= set(re.findall(r"\b(OK|WARN|BREACH)\b", text))

    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded)


def test_wall_snapshot_16_colours_picks_ansi_theme(snap_compare, settings, seeded, monkeypatch):
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "standard")
    app = wall_app(settings, seeded)

    async def loaded(pilot):
        await wall_loaded(pilot)
        assert app.theme == ANSI_THEME
        # WARN and BREACH stay distinct colours in the theme (the default's amber and red both fall to bright red).
        variables = app.theme_variables
        assert variables["warning"] != variables["error"]
        assert {"OK", "WARN", "BREACH"} <= set(re.findall(r"\b(OK|WARN|BREACH)\b", screen_text(app)))

    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded)


@pytest.mark.parametrize("wall", [False, True], ids=["board", "wall"])
def test_ascii_snapshot_has_only_ascii(snap_compare, settings, seeded, wall):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW, wall=wall, ascii_only=True)

    async def loaded(pilot):
        if wall:
            await wall_loaded(pilot)
        else:
            await until(pilot, lambda: app.data is not None)
            await pilot.pause()
        text = screen_text(app)
        assert "BREACH" in text
        assert all(ord(char) < 128 for char in text), [
            text[max(0, i - 30) : i + 5] for i, c in enumerate(text) if ord(c) >= 128
        ]

    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded)


def test_board_snapshot_no_color_at_80x24(snap_compare, settings, seeded, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)

    async def loaded(pilot):
        await until(pilot, lambda: app.data is not None)
        await pilot.pause()
        assert {"OK", "WARN", "BREACH"} <= set(re.findall(r"\b(OK|WARN|BREACH)\b", screen_text(app)))

    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded)


# -- behaviour ------------------------------------------------------------------------------------------------------


async def test_w_toggles_wall_mode(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, WallScreen))
        assert app.screen.focused is None  # no cursor on the wall
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, BoardScreen))


async def test_rotation_follows_the_clock(settings, seeded):
    now = [NOW]
    app = wall_app(wall_settings(settings, wall_rotate_s=3), seeded, clock=lambda: now[0])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await wall_loaded(pilot)
        assert screen.queue is None
        seen = []
        for _ in range(3):
            now[0] += 3
            before = screen.queue
            await until(pilot, lambda before=before: screen.queue != before)
            seen.append(screen.queue)
            # The header names the queue on screen.
            assert (screen.queue or "All queues") in str(screen.query_one("#wall-header").visual)
        assert seen == ["Billing", "Sales", None]


@pytest.mark.parametrize("bell", [True, False])
async def test_crossing_into_breach_flashes_and_rings_once(settings, seeded, bell):
    app = wall_app(wall_settings(settings, bell=bell), seeded)
    rings = []
    app.bell = lambda: rings.append(1)  # the terminal bell itself writes to a real terminal only
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await wall_loaded(pilot)
        tile = screen.query_one("#tile-waiting_now", WallTile)
        assert tile.state.value == "OK" and screen.crossings == []
        # 13 more waiting in Billing: 15 there (2 + 13, breach is past 15? no: at 15 it is within) → 16 all queues.
        write(seeded, Batch(contacts=[contact(f"x{i}", "Billing", NOW - 10 - i) for i in range(13)]))
        reads = app.reads
        app.read_now()
        await until(pilot, lambda: app.reads > reads and screen.crossings)
        # All queues: 3 + 13 = 16 > 15 → BREACH. Billing: 2 + 13 = 15, at the threshold → still WARN.
        assert screen.crossings == [("all", "waiting_now")]
        assert tile.state.value == "BREACH"
        assert tile.has_class("-flash")
        assert rings == ([1] if bell else [])
        # The next read finds it still in breach: no second flash, no second bell.
        reads = app.reads
        app.read_now()
        await until(pilot, lambda: app.reads > reads)
        await pilot.pause()
        assert screen.crossings == [("all", "waiting_now")]
        assert rings == ([1] if bell else [])
        await until(pilot, lambda: not tile.has_class("-flash"))


async def test_unknown_theme_is_reported_not_fatal(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW, theme="no-such-theme")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        assert app.theme != "no-such-theme"
        assert any("unknown theme 'no-such-theme'" in n.message for n in app._notifications)
