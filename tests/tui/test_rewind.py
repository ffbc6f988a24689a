"""Rewind: ``[`` / ``]`` step the board through the day, ``l`` returns to live, ``--at`` opens a past moment.

The figures at a rewound moment are checked against ``shiftboard snapshot --json --at`` run as a separate process on
the same cache file, and a few against the seed by hand (tests/tui/seed.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shiftboard import metrics
from shiftboard.config import Settings
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.figures import FIGURES
from shiftboard.tui.rewind import step
from shiftboard.tui.screens.board import BoardScreen
from shiftboard.tui.screens.rows import RowsScreen
from shiftboard.tui.widgets.board_header import BoardHeader
from shiftboard.tui.widgets.row_table import RowTable
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import settled, until
from tests.tui.seed import NOW

MIN = 60.0


def tile(app: ShiftboardApp, figure_id: str) -> Tile:
    return app.screen.query_one(f"#tile-{figure_id}", Tile)


def header_text(app: ShiftboardApp) -> str:
    return str(app.screen.query_one(BoardHeader).content)


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).isoformat()


def snapshot_json(tmp_path: Path, settings: Settings, at: float) -> dict:
    """``shiftboard snapshot --json --at`` in its own process, on the board's cache file."""
    config = tmp_path / "snapshot.toml"
    config.write_text(f"[cache]\npath = '{settings.cache.resolved_path()}'\n[metrics]\ntimezone = 'UTC'\n")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env.pop("SHIFTBOARD_CONFIG", None)
    command = ["snapshot", "--json", "--no-sync", "--at", iso(at), "--config", str(config)]
    result = subprocess.run(
        [sys.executable, "-m", "shiftboard", *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("moment", "direction", "expected"),
    [
        (NOW, -1, NOW - 5 * MIN),  # 10:00 is on the grid: back to 09:55
        (NOW - 150, -1, NOW - 5 * MIN),  # 09:57:30 → 09:55
        (NOW - 5 * MIN, -1, NOW - 10 * MIN),
        (NOW - 10 * MIN, 1, NOW - 5 * MIN),
        (NOW - 5 * MIN, 1, None),  # 10:00 is now: live
        (NOW - 150, 1, None),
        (NOW - 10 * 3600, -1, NOW - 10 * 3600 - 5 * MIN),  # midnight → 23:55 the day before
    ],
)
def test_steps_land_on_the_grid_and_forward_to_now_is_live(moment, direction, expected):
    assert step(moment, NOW, 5 * MIN, direction, UTC) == expected


async def test_rewound_figures_equal_snapshot_at_the_same_moment(settings, seeded, tmp_path):
    now = [NOW]
    app = ShiftboardApp(settings, seeded, [], clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.data is not None)
        assert tile(app, "waiting_now").text == "3"
        for presses, moment in ((1, NOW - 5 * MIN), (11, NOW - 60 * MIN)):
            await pilot.press(*["left_square_bracket"] * presses)
            assert app.at == moment
            await until(pilot, lambda m=moment: app.data.at == m)
            expected = snapshot_json(tmp_path, settings, moment)
            assert expected["at"].startswith(iso(moment)[:19])
            assert set(app.data.queues) == set(expected["queues"])
            for queue, figures in expected["queues"].items():
                for figure in FIGURES:
                    assert figure.value(app.data.queues[queue]) == figure.value(figures), (queue, figure.id)
            for figure in FIGURES:
                assert tile(app, figure.id).text == figure.fmt(figure.value(expected["queues"][metrics.ALL]))
        # By hand at 09:00: nobody waits yet (the waiting contacts were offered after 09:58); C-1 (07:00), C-2
        # (08:00) and C-5 (08:00, solved only at 09:50) are open, C-1 2 h old; C-3 is created at 09:00 itself.
        assert tile(app, "waiting_now").text == "0"
        assert tile(app, "backlog_open").text == "3"
        assert tile(app, "oldest_case_age_s").text == "2h00m"
        header = header_text(app)
        assert "REWIND" in header and "09:00" in header and "press l for live" in header
        # The moment holds still: the clock moves on and the cache is read again, ages stay, the header keeps 09:00.
        now[0] = NOW + 40
        reads = app.reads
        app.read_now()
        await until(pilot, lambda: app.reads > reads)
        assert app.data.at == NOW - 60 * MIN
        assert tile(app, "oldest_case_age_s").text == "2h00m"
        assert "REWIND" in header_text(app) and "09:00" in header_text(app)


async def test_forward_past_now_and_l_return_to_live(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert app.at == NOW - 10 * MIN
        await pilot.press("right_square_bracket")
        assert app.at == NOW - 5 * MIN
        await pilot.press("right_square_bracket")
        assert app.at is None
        assert "REWIND" not in header_text(app)
        await until(pilot, lambda: app.data.at == NOW and tile(app, "waiting_now").text == "3")
        await pilot.press(*["left_square_bracket"] * 3)
        assert app.at == NOW - 15 * MIN
        await pilot.press("l")
        assert app.at is None
        await until(pilot, lambda: app.data.at == NOW)
        assert tile(app, "waiting_now").text == "3"
        assert "REWIND" not in header_text(app)


async def test_opening_at_a_past_moment_and_drilling_shows_rows_as_of_then(tmp_path, seeded):
    settings = Settings(
        cache={"path": str(tmp_path / "cache.sqlite")}, metrics={"timezone": "UTC"}, board={"rewind_step_min": 1}
    )
    # As `shiftboard --at 2026-11-23T09:59:00Z` does.
    app = ShiftboardApp(settings, seeded, [], at=NOW - MIN, clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.data is not None)
        assert app.data.at == NOW - MIN
        assert "REWIND" in header_text(app) and "09:59" in header_text(app)
        # At 09:59 only b-w1 (offered 09:58:30) waits, for 30 s.
        assert tile(app, "waiting_now").text == "1"
        assert tile(app, "longest_wait_s").text == "0:30"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RowsScreen) and app.screen.loaded)
        table = app.screen.query_one(RowTable)
        assert [k.split("\x1f")[1] for k in table.row_keys] == ["b-w1"]
        # Rewind keys act on the board only.
        await pilot.press("right_square_bracket")
        assert app.at == NOW - MIN
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("left_square_bracket")  # one-minute steps
        assert app.at == NOW - 2 * MIN
        await until(pilot, lambda: app.data.at == NOW - 2 * MIN)
        assert tile(app, "waiting_now").text == "0"


async def test_a_rewound_viewer_reads_again_only_when_the_cache_changes(settings, seeded):
    from shiftboard.model import Batch
    from tests.tui.seed import contact, write

    app = ShiftboardApp(settings, seeded, [], at=NOW, clock=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot, app)
        reads = app.reads
        waiting = tile(app, "waiting_now").text
        # Three refresh intervals (refresh_s = 1) with no commit: the same moment, the same data, no new read.
        await pilot.pause(3 * settings.board.refresh_s)
        assert app.reads == reads
        write(seeded, Batch(contacts=[contact("late-1", "Sales", NOW - 50)]))
        await until(pilot, lambda: tile(app, "waiting_now").text == str(int(waiting) + 1))
        assert app.reads == reads + 1
