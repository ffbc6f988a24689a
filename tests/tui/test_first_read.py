"""The first read in a thread, started before Textual is imported: the board shows it, or reads again when it failed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.first_read import FirstRead
from shiftboard.tui.readmodel import read_board
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import until
from tests.tui.seed import NOW


def tile(app: ShiftboardApp, figure_id: str) -> Tile:
    return app.screen.query_one(f"#tile-{figure_id}", Tile)


async def test_the_board_shows_the_first_read_and_keeps_its_connection(settings, seeded):
    first = FirstRead(seeded.path, settings, [], NOW, lambda: NOW)
    app = ShiftboardApp(settings, seeded, [], at=NOW, clock=lambda: NOW, first_read=first)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        assert tile(app, "waiting_now").text == "3"  # tests/tui/seed.py: three contacts waiting at 10:00
        assert app.reads == 1
        assert app._reader is not None and first.take() is None  # the board took the read's connection


async def test_a_failed_first_read_leaves_the_board_reading_the_usual_way(settings, seeded, tmp_path: Path):
    first = FirstRead(tmp_path / "missing" / "cache.sqlite", settings, [], NOW, lambda: NOW)
    assert first.take() is None
    first = FirstRead(tmp_path / "missing" / "cache.sqlite", settings, [], NOW, lambda: NOW)
    app = ShiftboardApp(settings, seeded, [], at=NOW, clock=lambda: NOW, first_read=first)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.data is not None)
        assert tile(app, "waiting_now").text == "3"
        assert app.problem is None


def test_the_first_read_gives_the_figures_of_a_read_at_that_moment(settings, seeded):
    first = FirstRead(seeded.path, settings, [], NOW, lambda: NOW)
    taken = first.take()
    assert taken is not None
    reader, data = taken
    try:
        assert data.queues == read_board(seeded, settings, [], NOW, now=NOW).queues
        assert data.queues["all"]["contacts"]["waiting_now"] == 3  # tests/tui/seed.py: three contacts waiting at 10:00
        assert data.at == NOW
        assert reader.readonly and read_board(reader, settings, [], NOW).queues == data.queues  # a working connection
    finally:
        reader.close()


def test_the_first_read_module_does_not_import_textual():
    code = "import sys, shiftboard.tui.first_read; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "False"
