"""The simulator through the real collector into a real cache, and `shiftboard snapshot` with no config at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from shiftboard.adapters.simulator import SimulatorSettings
from shiftboard.collector import Collector
from shiftboard.store import Store

AT = datetime(2026, 11, 22, 1, 0, tzinfo=UTC).timestamp()
TABLES = ("cases", "contacts", "agent_states", "ratings", "queue_snapshots")


def source() -> SimulatorSettings:
    return SimulatorSettings(name="simulator", kind="simulator", timezone="UTC")


def rows(store: Store) -> dict[str, list[tuple]]:
    return {table: [tuple(r) for r in store.query(f"SELECT * FROM {table} ORDER BY 1, 2, 3")] for table in TABLES}


def test_a_new_collector_continues_from_the_stored_cursor_without_duplicates(store: Store, tmp_path: Path):
    first = Collector(store, [source()]).sync_once(AT)
    assert first[0].error is None and first[0].records > 3000
    state = store.sync_state("simulator")
    assert state is not None and state.cursor is not None
    assert state.cursor["done"] == AT - state.cursor["clock"][0][1]
    second = Collector(store, [source()]).sync_once(AT + 1800)  # a restarted process
    assert second[0].error is None and second[0].records > 0

    with Store(tmp_path / "one-shot.sqlite") as reference:
        Collector(reference, [source()]).sync_once(AT + 1800)
        assert store.counts() == reference.counts()
        assert rows(store) == rows(reference)


def test_a_board_and_a_snapshot_writing_one_cache_agree(store: Store, tmp_path: Path):
    board = Collector(store, [source()])
    board.sync_once(AT)
    Collector(store, [source()]).sync_once(AT + 600)  # `snapshot` picks up the stored cursor
    board.sync_once(AT + 900)  # the board still holds its own, older cursor: it sends some records again
    with Store(tmp_path / "one-shot.sqlite") as reference:
        Collector(reference, [source()]).sync_once(AT + 900)
        assert rows(store) == rows(reference)


def test_snapshot_with_no_config_runs_the_simulator(tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SHIFTBOARD_", "XDG_"))} | {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    command = Path(sys.executable).with_name("shiftboard")
    done = subprocess.run(
        [str(command), "snapshot", "--json", "--at", "2026-11-22T15:00:00Z"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    for queue in ("Billing", "Tech support", "Sales"):
        assert data["queues"][queue]["contacts"]["offered"] > 0
    assert [s["kind"] for s in data["sources"]] == ["simulator"]
    assert (tmp_path / "data" / "shiftboard" / "cache.sqlite").exists()
