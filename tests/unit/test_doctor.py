"""doctor's cache and source checks on a real cache file: ok, stale, failing, never synced, not configured, and a
check that never answers."""

from __future__ import annotations

import threading

from shiftboard import doctor
from shiftboard.adapters.base import SourceSettings
from shiftboard.model import Batch, Case
from shiftboard.store import SCHEMA_VERSION

NOW = 1795428000.0


def test_cache_lines_say_what_each_source_needs(store):
    batch = Batch(cases=[Case("fresh", "C-1", "Billing", "open", "normal", NOW - 600)])
    store.write_batch("fresh", "simulator", batch, {"n": 1}, NOW - 20)  # ok: 20 s ago, polled every 30 s
    store.write_batch("old", "simulator", Batch(), None, NOW - 3600)  # stale: an hour ago, three polls are 90 s
    store.write_batch("broken", "simulator", Batch(), None, NOW - 7200)
    store.record_failure("broken", "simulator", "401 Unauthorized", NOW - 300)
    store.write_batch("gone", "simulator", Batch(), None, NOW - 60)  # no longer in the config
    sources = [
        SourceSettings(name=name, kind="simulator", interval_s=30) for name in ("fresh", "old", "broken", "never")
    ]
    findings = doctor.check_cache(store.path, sources, now=NOW)
    lines = [f.line() for f in findings]
    assert lines[0].startswith(f"cache: ok {store.path}: writable, schema {SCHEMA_VERSION} (current), ")
    assert "1 records (cases 1, contacts 0" in lines[0]
    assert lines[1].startswith("cache: source fresh: ok last sync ") and "(20 s ago), 1 records" in lines[1]
    assert lines[2].startswith("cache: source old: WARN stale: last sync ") and "(60 min ago)" in lines[2]
    assert lines[2].endswith("— fix: is a collector running? start `shiftboard collect` or the board")
    assert lines[3].startswith("cache: source broken: FAIL failing for 5 min: 401 Unauthorized; last sync ")
    assert lines[4] == ("cache: source never: WARN never synced — fix: run `shiftboard collect` (or open the board)")
    assert lines[5].startswith("cache: source gone: WARN in the cache but not in the config")
    assert len(lines) == 6


def test_a_source_check_that_never_answers_fails_at_its_deadline():
    release = threading.Event()

    class Stuck:
        def check(self) -> str:
            release.wait(30)
            return "too late"

        def close(self) -> None:
            pass

    source = SourceSettings(name="slow", kind="simulator", timeout_s=0.2)
    try:
        finding = doctor.check_source(source, make=lambda s: Stuck(), grace_s=0.1)  # type: ignore[arg-type,return-value]
    finally:
        release.set()
    assert finding.status == doctor.FAIL
    assert finding.line().startswith("source slow (simulator): FAIL no answer within 0.3 s — fix: check ")
