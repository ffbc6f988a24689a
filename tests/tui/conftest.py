"""Board fixtures: a real cache in tmp_path filled with the seed, settings pointing at it, a fixed clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from shiftboard.config import Settings
from shiftboard.store import Store
from shiftboard.tui.widgets import board_header
from tests.tui.seed import NOW, base_batch, write


@pytest.fixture(autouse=True)
def _still(monkeypatch: pytest.MonkeyPatch) -> None:
    """No animations and no blinking cursor, so screens are deterministic."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    # The same colours wherever the tests run (the board picks an ANSI theme on a 16-colour TERM); tests of colour
    # variants set NO_COLOR or TEXTUAL_COLOR_SYSTEM themselves.
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None, raising=False)
    # How long a read takes depends on the machine's load; the header's "slow read" note must not enter snapshots.
    monkeypatch.setattr(board_header, "SLOW_READ_S", float("inf"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(cache={"path": str(tmp_path / "cache.sqlite")}, metrics={"timezone": "UTC"}, board={"refresh_s": 1})


@pytest.fixture
def seeded(settings: Settings) -> Iterator[Store]:
    with Store(settings.cache.resolved_path()) as store:
        write(store, base_batch())
        yield store


async def until(pilot, condition: Callable[[], bool], tries: int = 400) -> None:
    """Let the app run until ``condition`` holds (bounded at 20 s, which only a broken board or a machine loaded far
    past normal reaches; fails the test when it never does)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


async def settled(pilot, app) -> None:
    """Until a viewer has shown its first read and the one its change probe asks for as it starts (a commit may
    fall between the two): from then on only a commit or the refresh timer makes it read."""
    await until(pilot, lambda: app.reads >= 2)


Until = Callable[..., Awaitable[None]]
__all__ = ["NOW", "settled", "until"]
