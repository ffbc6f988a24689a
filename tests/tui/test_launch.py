"""The board's forked start-up (tui/launch.py): the child checks the configuration and reads the cache; the process
that draws gets both without importing pydantic, and a problem is reported once, as for every command.

Launches run in a fresh interpreter (a subprocess), as ``shiftboard`` forks them: a single-threaded process, with
nothing imported that the board would not have imported at that point.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shiftboard.config import load_settings
from shiftboard.store import Store
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.first_read import FirstRead
from shiftboard.tui.look import BoardConfig, BoardLook
from shiftboard.tui.readmodel import read_board
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import until
from tests.tui.seed import NOW, base_batch, write

AT = datetime.fromtimestamp(NOW, UTC).isoformat()

#: Launches the board's start-up as cli.run_board does and prints what the drawing process got, as JSON.
LAUNCH = """
import json, sys, time
from shiftboard.cli import build_parser, prepare_board
from shiftboard.tui.launch import Launch
import shiftboard.tui.app  # what the drawing process imports while the child works

args = build_parser().parse_args(sys.argv[1:])
launch = Launch(lambda: prepare_board(args), time.time)
start = launch.start()
taken = launch.take()
out = {"started": start is not None, "read": taken is not None}
out["pydantic_before_settings"] = any(m.split(".")[0] == "pydantic" for m in sys.modules)
if start is not None:
    out["path"] = str(start.path)
    out["at"] = start.at
    out["refresh_s"] = start.config.look.refresh_s
    out["cache_from_settings"] = str(start.config.settings.cache.resolved_path())
if taken is not None:
    out["waiting_now"] = taken[1].queues["all"]["contacts"]["waiting_now"]
    out["reader_readonly"] = taken[0].readonly
launch.close()
print(json.dumps(out))
"""


def launch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args], capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent
    )


def write_config(tmp_path: Path, cache: Path, *extra: str) -> Path:
    config = tmp_path / "shiftboard.toml"
    lines = [
        "sources = []",
        "[cache]",
        f'path = "{cache}"',
        "[metrics]",
        'timezone = "UTC"',
        "[board]",
        "refresh_s = 7",
    ]
    config.write_text("\n".join([*lines, *extra]) + "\n", encoding="utf-8")
    return config


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    path = tmp_path / "cache.sqlite"
    with Store(path) as store:
        write(store, base_batch())
    return path


def test_the_child_sends_the_start_then_the_first_read_and_the_drawing_process_needs_no_pydantic(tmp_path, cache):
    config = write_config(tmp_path, cache)
    result = launch("--config", str(config), "--at", AT)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["started"] and out["read"]
    assert out["path"] == str(cache) and out["at"] == NOW and out["refresh_s"] == 7
    assert out["waiting_now"] == 3  # tests/tui/seed.py: three contacts waiting at 10:00
    assert out["reader_readonly"]
    assert out["pydantic_before_settings"] is False
    assert out["cache_from_settings"] == str(load_settings(config).cache.resolved_path())


def test_a_configuration_the_child_cannot_use_sends_nothing_and_says_nothing(tmp_path, cache):
    config = write_config(tmp_path, cache, 'theme = ["not", "a", "name"]')
    result = launch("--config", str(config))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"started": False, "read": False, "pydantic_before_settings": False}
    assert result.stderr == ""  # the parent prepares again and reports it (next test)


def test_shiftboard_reports_a_bad_configuration_once_before_the_screen_changes(tmp_path, cache):
    config = write_config(tmp_path, cache, 'theme = ["not", "a", "name"]')
    result = subprocess.run(
        [sys.executable, "-m", "shiftboard", "--config", str(config)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stdout == ""  # Textual never started: no escape sequences, no alternate screen
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"shiftboard: config: {config}: board.theme: "), result.stderr


def test_a_read_the_child_cannot_make_leaves_the_board_to_read(tmp_path):
    code = (
        "import sys, time; from pathlib import Path; from shiftboard.config import Settings;"
        "from shiftboard.tui.launch import Launch, Start; from shiftboard.tui.look import BoardConfig;"
        "config = BoardConfig.of(Settings(), []);"
        "launch = Launch(lambda: Start(Path(sys.argv[1]), None, config), time.time);"
        "print(launch.start() is not None, launch.take() is None); launch.close()"
    )
    missing = tmp_path / "no such folder" / "cache.sqlite"
    result = subprocess.run([sys.executable, "-c", code, str(missing)], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["True", "True"], result.stderr


async def test_the_first_frame_is_drawn_from_the_look_before_the_settings_are_unpickled(settings, seeded):
    # As the drawing process receives it from the child: the settings still bytes inside.
    config = pickle.loads(pickle.dumps(BoardConfig.of(settings, [])))
    assert config.look == BoardLook.of(settings, [])
    first = FirstRead(seeded.path, settings, [], NOW, lambda: NOW)  # reads with the test's own settings
    app = ShiftboardApp(config, seeded, at=NOW, clock=lambda: NOW, first_read=first)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        assert app.screen.query_one("#tile-waiting_now", Tile).text == "3"
        # A board fixed at a moment, with no source, reads nothing more: nothing has needed the settings yet.
        assert config._pickled is not None
        assert app.settings == settings  # and they are there when a drill or a read asks
        assert config._pickled is None
        assert read_board(seeded, app.settings, app.sources, NOW).queues == app.data.queues


def test_a_process_with_threads_does_not_fork():
    code = (
        "import threading; from shiftboard.tui.launch import can_fork; a = can_fork(); "
        "threading.Thread(target=threading.Event().wait, daemon=True).start(); print(a, can_fork())"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.split() == [str(hasattr(os, "fork")), "False"]
