"""Keys from config: every binding has an id, ``[keys]`` remaps by id, help shows the remapped keys, and an unknown
id is a config error (exit 2) before the board starts."""

from __future__ import annotations

from pathlib import Path

from textual.binding import Binding

from shiftboard.config import Settings
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.keymap import binding_ids, bindings, keymap_problems
from shiftboard.tui.screens.board import BoardScreen
from shiftboard.tui.screens.help import HelpScreen
from shiftboard.tui.screens.rows import RowsScreen
from shiftboard.tui.widgets.board_header import BoardHeader
from tests.tui.conftest import until
from tests.tui.seed import NOW


def test_every_binding_has_an_id():
    found = bindings()
    assert len(found) >= 25
    missing = [(cls.__name__, b) for cls, b in found if not isinstance(b, Binding) or not b.id]
    assert missing == []
    ids = binding_ids()
    assert {"quit", "help", "palette", "rewind-back", "rewind-forward", "live", "drill", "filter", "back"} <= set(ids)


def test_unknown_ids_are_named_one_line_each():
    problems = keymap_problems({"quit": "x", "frobnicate": "f", "rewind": "b"}, Path("/etc/sb.toml"))
    assert len(problems) == 2
    assert problems[0].startswith("/etc/sb.toml: keys.frobnicate: unknown binding id; expected one of ")
    assert "rewind-back" in problems[0]
    assert problems[1].startswith("/etc/sb.toml: keys.rewind: unknown binding id")


async def test_keys_from_config_remap_bindings_and_show_in_help(tmp_path, seeded):
    settings = Settings(
        cache={"path": str(tmp_path / "cache.sqlite")},
        metrics={"timezone": "UTC"},
        keys={"help": "f1", "rewind-back": "b", "live": "g", "drill": "o"},
    )
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.press("question_mark")  # no longer help
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        keys = {entry.binding_id: entry.keys for entry in app.screen.entries}
        assert keys["help"].lower() == "f1"
        assert keys["rewind-back"] == "b"
        assert keys["drill"] == "o"
        assert "?" not in keys["help"]
        await pilot.press("escape")
        await pilot.press("left_square_bracket")  # the old key does nothing now
        assert app.at is None
        await pilot.press("b")
        assert app.at == NOW - 300
        assert "press g for live" in str(app.screen.query_one(BoardHeader).content)
        await pilot.press("g")
        assert app.at is None
        await pilot.press("o")
        assert isinstance(app.screen, RowsScreen)
