"""kill -9 of ``shiftboard collect`` in the middle of a large import, then a restart: every record is in the cache
exactly once, and the second run went on from the last committed cursor instead of reading the file again."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from shiftboard.model import format_time

RECORDS = 300_000
BATCH = 500


def _sync_state(cache: Path) -> tuple[int, str | None]:
    """records_total and the cursor of the source, read as any other reader would (0, None before the first page)."""
    if not cache.exists():
        return 0, None
    with contextlib.closing(sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=10)) as conn:
        try:
            row = conn.execute("SELECT records_total, cursor FROM sync_state WHERE source = 'pbx'").fetchone()
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0, None
    return (row[0], row[1]) if row else (0, None)


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)  # polling a condition in another process, bounded by the deadline


def test_kill_9_mid_import_then_restart_holds_every_record_once(shiftboard, tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    written = [f"c-{i}" for i in range(RECORDS)]
    with (exports / "calls.jsonl").open("w") as out:
        for i, cid in enumerate(written):
            offered = format_time(1_790_000_000.0 + i)
            out.write(json.dumps({"type": "contact", "id": cid, "queue": f"q{i % 7}", "offered_at": offered}) + "\n")
    cache = tmp_path / "cache.sqlite"
    config = shiftboard.config(
        f"[cache]\npath = '{cache}'\n[[sources]]\nname = 'pbx'\nkind = 'files'\npath = '{exports}/*.jsonl'\n"
        f"batch_size = {BATCH}\n"
    )

    first = shiftboard.popen("collect", "--config", str(config))
    try:
        _wait_for(lambda: _sync_state(cache)[0] >= 20 * BATCH, "the import to be under way")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    committed, cursor = _sync_state(cache)
    assert 0 < committed < RECORDS, "the kill did not land in the middle of the import"
    assert committed % BATCH == 0  # whole pages only: a page and its cursor commit together
    assert json.loads(cursor)["files"], "a cursor was committed with the pages"

    second = shiftboard.popen("collect", "--config", str(config))
    try:
        _wait_for(lambda: _sync_state(cache)[0] >= RECORDS, "the restarted import to finish", timeout=300)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert second.returncode == 0, second.stderr.read()

    with contextlib.closing(sqlite3.connect(f"file:{cache}?mode=ro", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = [row[0] for row in conn.execute("SELECT id FROM contacts WHERE source = 'pbx'")]
        total = conn.execute("SELECT records_total FROM sync_state WHERE source = 'pbx'").fetchone()[0]
    assert len(ids) == RECORDS and set(ids) == set(written)
    # Had the restart read the file from its start, it would have counted the first run's records again.
    assert total == RECORDS
