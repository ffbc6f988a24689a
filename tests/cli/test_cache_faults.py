"""A cache that cannot be written, through the real command: a clear message, exit code 3, no traceback, and the
file intact with its earlier data (SQLite's own integrity_check)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiftboard.model import Batch, Case, format_time
from shiftboard.store import SCHEMA_VERSION, Store

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="mounting a filesystem needs root (CI runs as root)")


def _cache_with_data(path: Path, cases: int = 3) -> None:
    with Store(path) as store:
        batch = Batch(
            cases=[Case("old", f"C-{i}", "Billing", "open", "normal", 1_700_000_000.0 + i) for i in range(cases)]
        )
        store.write_batch("old", "files", batch, {"n": cases}, 1_700_000_100.0)


def _intact(path: Path, cases: int = 3, *, immutable: bool = False) -> None:
    # A WAL file in a read-only folder can only be opened as immutable (no shared-memory file can be made there).
    options = "mode=ro&immutable=1" if immutable else "mode=ro"
    with contextlib.closing(sqlite3.connect(f"file:{path}?{options}", uri=True)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = [row[0] for row in conn.execute("SELECT id FROM cases WHERE source = 'old' ORDER BY id")]
    assert ids == [f"C-{i}" for i in range(cases)]


@contextlib.contextmanager
def _mount(target: Path, options: str, source: str = "tmpfs", kind: str | None = "tmpfs") -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    command = ["mount", *(["-t", kind] if kind else []), "-o", options, source, str(target)]
    subprocess.run(command, check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def _assert_clean_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("shiftboard: cache")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


@needs_root
def test_a_full_disk_stops_the_import_with_exit_3_and_keeps_the_earlier_data(shiftboard, tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    # About 6 MB of cases to import into a 1 MiB filesystem.
    line = {"type": "case", "queue": "Billing", "status": "open", "created_at": format_time(1_700_000_000.0)}
    with (exports / "cases.jsonl").open("w") as out:
        for i in range(30_000):
            out.write(json.dumps({**line, "id": f"N-{i}", "subject": f"subject {i} " + "x" * 100}) + "\n")
    with _mount(tmp_path / "small", "size=1m,mode=0700") as small:
        cache = small / "cache.sqlite"
        _cache_with_data(cache)
        config = shiftboard.config(
            f"[cache]\npath = '{cache}'\n[[sources]]\nname = 'pbx'\nkind = 'files'\npath = '{exports}/*.jsonl'\n"
            "batch_size = 2000\n"
        )
        result = shiftboard("snapshot", "--config", str(config))
        _assert_clean_failure(result, "disk is full")
        _intact(cache)
        # The pages committed before the disk filled are whole and counted once, with the cursor that follows them.
        with contextlib.closing(sqlite3.connect(f"file:{cache}?mode=ro", uri=True)) as conn:
            imported = conn.execute("SELECT COUNT(*) FROM cases WHERE source = 'pbx'").fetchone()[0]
            total = conn.execute("SELECT records_total FROM sync_state WHERE source = 'pbx'").fetchone()
        assert imported % 2000 == 0
        assert (total[0] if total else 0) == imported


@contextlib.contextmanager
def _read_only_cache(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ro"
    folder.mkdir()
    cache = folder / "cache.sqlite"
    _cache_with_data(cache)
    if ROOT:
        # root ignores file permissions: make the whole folder a read-only bind mount instead.
        with _mount(folder, "bind,ro", source=str(folder), kind=None):
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
            yield cache
    else:
        cache.chmod(0o400)
        folder.chmod(0o500)
        try:
            yield cache
        finally:
            folder.chmod(0o700)


@pytest.mark.parametrize("args", [("snapshot",), ("snapshot", "--no-sync"), ("collect",)])
def test_a_read_only_cache_gives_exit_3_and_stays_untouched(shiftboard, tmp_path: Path, args):
    with _read_only_cache(tmp_path) as cache:
        before = cache.read_bytes()
        with pytest.raises(OSError):
            cache.open("ab").close()  # the setup really is read-only
        config = shiftboard.config(f"[cache]\npath = '{cache}'\n")
        result = shiftboard(*args, "--config", str(config), timeout=60)
        _assert_clean_failure(result, str(cache), "read-only")
        assert cache.read_bytes() == before
        _intact(cache, immutable=True)


@pytest.mark.parametrize("args", [("snapshot",), ("collect",), ("doctor",)])
def test_a_cache_from_a_newer_schema_gives_exit_3_and_stays_untouched(shiftboard, tmp_path: Path, args):
    cache = tmp_path / "cache.sqlite"
    _cache_with_data(cache)
    with contextlib.closing(sqlite3.connect(cache)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = cache.read_bytes()
    config = shiftboard.config(f"[cache]\npath = '{cache}'\n")
    result = shiftboard(*args, "--config", str(config), timeout=60)
    if args == ("doctor",):
        assert result.returncode == 1 and "cache: FAIL" in result.stdout and "newer shiftboard" in result.stdout
    else:
        _assert_clean_failure(result, "newer shiftboard", f"schema {SCHEMA_VERSION + 1}")
    assert cache.read_bytes() == before
