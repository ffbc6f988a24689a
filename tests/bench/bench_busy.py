"""Reads at a busy hour: what a board that collects the simulator spends reading the cache, replayed.

bench_board's CPU rows measure the whole board process for 60 s of wall time. The busiest part of the default
board, its reader, then follows the simulated centre's hour and the host's speed, and one minute's figure moves by
a third from round to round. This replays the same work every time:

- a copy of bench_board's 1M cache (``kept_cache``), and the simulator (America/Anchorage, from 12:00 local, its
  busiest hours; the day is the first after the cache's latest record, so all of the cache is history) collecting
  into it on a simulated clock: its first sync simulates the day up to then, then one sync per simulated second (as
  its 1 s poll did until session 17; it now polls just after each event of its model, at most 5 s apart, which at
  its busy hour is about a third as many syncs: kept at 1 s so that rounds compare with earlier sessions);
- the board's reads, as the app plans them: one just after each sync the collector announces (``on_commit``), and
  otherwise one 2 s after the last read (its refresh timer), each ``read_board`` with the board's ``ReadMemo``.

Figures: the reads' thread CPU (``time.thread_time``) per simulated minute and per read, and the syncs' (the
model thread's work, less its waits). Rounds run one after another on fresh copies; the median is reported.

Run alone: ``python -m tests.bench.bench_busy [--quick] [--folder /tmp/board-bench] [--rounds N]``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.bench.bench_board import SIMULATOR_SOURCE, _config, fresh_copy, kept_cache

ZONE = "America/Anchorage"
#: The simulated span after the first sync, seconds (quick: shorter).
SPAN_S, QUICK_SPAN_S = 300, 120
REFRESH_S = 2.0
#: From a commit to the read it causes, in the board: its message, then the reader thread's queue.
COMMIT_TO_READ_S = 0.005


@dataclass(frozen=True)
class Replay:
    """One replay's totals: ``span_s`` simulated seconds from ``start`` (UTC)."""

    start: datetime
    span_s: int
    reads: int
    reads_after_commits: int
    read_cpu_s: float
    sync_cpu_s: float

    def per_minute_ms(self, cpu_s: float) -> float:
        return cpu_s / self.span_s * 60 * 1000


def busy_start(cache: Path) -> datetime:
    """12:00 in Anchorage on the first day after the cache's latest contact or case."""
    import sqlite3

    with sqlite3.connect(f"file:{cache}?mode=ro", uri=True) as conn:
        latest = conn.execute(
            "SELECT MAX(m) FROM (SELECT MAX(offered_at) AS m FROM contacts UNION ALL SELECT MAX(created_at) FROM cases)"
        ).fetchone()[0]
    zone = ZoneInfo(ZONE)
    day = datetime.fromtimestamp(latest, zone).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 12, tzinfo=zone).astimezone(UTC)


def replay(cache: Path, folder: Path, span_s: int) -> Replay:
    """Replay ``span_s`` simulated seconds of the busy simulator and the board's reads on a fresh copy of ``cache``."""
    from shiftboard.adapters.base import AdapterContext
    from shiftboard.collector import SourceRunner
    from shiftboard.config import load_settings
    from shiftboard.metrics import ReadMemo
    from shiftboard.store import Store
    from shiftboard.tui.readmodel import read_board

    copy = folder / "busy.sqlite"
    fresh_copy(cache, copy)
    config = _config(folder, copy, SIMULATOR_SOURCE + f'timezone = "{ZONE}"\n', name="busy")
    settings = load_settings(config)
    sources = settings.source_settings()
    start = busy_start(cache)
    now = [start.timestamp()]
    announced: list[bool] = []
    writer = Store(copy)
    runner = SourceRunner(
        sources[0], writer, AdapterContext(clock=lambda: now[0]), on_commit=lambda: announced.append(True)
    )
    runner.sync()  # the simulated day up to the start
    reader = Store(copy, readonly=True)
    memo = ReadMemo()
    try:
        read_board(reader, settings, sources, now[0], memo=memo)  # the board's first read, before the span
        last_read = now[0]
        reads = after_commits = 0
        read_cpu = sync_cpu = 0.0
        for step in range(1, span_s + 1):
            now[0] = start.timestamp() + step
            announced.clear()
            began = time.thread_time()
            runner.sync()
            sync_cpu += time.thread_time() - began
            if announced:  # the board reads a few ms after the commit
                at = now[0] + COMMIT_TO_READ_S
            elif last_read + REFRESH_S < now[0] + 1:  # its refresh timer falls before the next sync
                at = last_read + REFRESH_S
            else:
                continue
            began = time.thread_time()
            read_board(reader, settings, sources, at, memo=memo)
            read_cpu += time.thread_time() - began
            reads += 1
            after_commits += bool(announced)
            last_read = at  # a read moves the refresh timer on (ShiftboardApp._read_finished)
    finally:
        reader.close()
        writer.close()
    return Replay(start, span_s, reads, after_commits, read_cpu, sync_cpu)


def rows(replays: list[Replay], note_cache: str) -> list[dict]:
    first = replays[0]
    local = first.start.astimezone(ZoneInfo(ZONE))
    where = (
        f"{note_cache}; the simulator in {ZONE} from {local:%Y-%m-%d %H:%M} local, {first.span_s} simulated s "
        f"after its first sync; median of {len(replays)} replays"
    )
    per_read = [r.read_cpu_s / r.reads * 1000 for r in replays]
    reads_min = statistics.median(r.per_minute_ms(r.read_cpu_s) for r in replays)
    return [
        {
            "figure": "busy simulator: the board's reads, thread CPU per simulated minute",
            "value": f"{reads_min:.0f} ms ({reads_min / 600:.2f} % of a core)",
            "goal": "(part of the CPU left open)",
            "note": f"{where}; each replay "
            + ", ".join(f"{r.per_minute_ms(r.read_cpu_s):.0f}" for r in replays)
            + f" ms; {first.reads} reads ({first.reads_after_commits} after a commit) in {first.span_s} s",
        },
        {
            "figure": "busy simulator: one read, thread CPU",
            "value": f"{statistics.median(per_read):.2f} ms",
            "goal": "",
            "note": "each replay " + ", ".join(f"{ms:.2f}" for ms in per_read) + " ms",
        },
        {
            "figure": "busy simulator: its syncs, thread CPU per simulated minute",
            "value": f"{statistics.median(r.per_minute_ms(r.sync_cpu_s) for r in replays):.0f} ms",
            "goal": "(part of the CPU left open)",
            "note": "the model thread's work, less its waits",
        },
    ]


def run_busy(folder: Path, quick: bool, rounds: int) -> list[dict]:
    cache, note_cache = kept_cache(folder)
    span = QUICK_SPAN_S if quick else SPAN_S
    with tempfile.TemporaryDirectory(prefix="shiftboard-bench-") as tmp:
        replays = [replay(cache, Path(tmp), span) for _ in range(rounds)]
    return rows(replays, note_cache)


def run(quick: bool) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="shiftboard-bench-") as tmp:
        return run_busy(Path(tmp), quick, 1 if quick else 3)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter span and one replay")
    parser.add_argument("--folder", type=Path, help="where the 1M cache is kept between runs (bench_board's)")
    parser.add_argument("--rounds", type=int, metavar="N", help="replays (default 3, 1 when quick)")
    options = parser.parse_args()
    rounds = options.rounds or (1 if options.quick else 3)
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="shiftboard-bench-") as tmp:
        results = run_busy(options.folder or Path(tmp), options.quick, rounds)
    for result in results:
        print(f"{result['figure']}: {result['value']} (goal {result['goal']}; {result['note']})")
