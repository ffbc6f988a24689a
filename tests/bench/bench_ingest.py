"""Import speed of the files source: the whole collector path (reading, parsing, validating, writing to SQLite).

Writes a mix of records (half contacts, 30 % cases, 10 % agent states, 10 % ratings; every field filled) to a JSON
Lines file and to a CSV file in a temporary folder, then times ``Collector(store, [files source]).sync_once()`` into
a real, empty cache file: adapter parsing plus ``Store.write_batch``, page by page with its cursor, as in production.

Run alone: ``python -m tests.bench.bench_ingest [--quick]``.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from shiftboard.adapters.files import FilesSettings
from shiftboard.collector import Collector
from shiftboard.store import Store
from tests.bench import harness

GOAL_RECORDS_PER_S = 50_000
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC).timestamp()
COLUMNS = [
    "type",
    "id",
    "queue",
    "status",
    "priority",
    "channel",
    "subject",
    "customer",
    "assignee",
    "created_at",
    "first_reply_at",
    "solved_at",
    "updated_at",
    "agent_replies",
    "reopens",
    "agent",
    "offered_at",
    "answered_at",
    "ended_at",
    "abandoned_at",
    "blocked",
    "hold_s",
    "wrap_up_s",
    "state",
    "since",
    "queues",
    "kind",
    "score",
    "scale_max",
    "case_id",
    "rated_at",
    "comment",
]


def mixed_records(count: int, seed: int = 7) -> list[dict]:
    """``count`` valid records of every type, as the dicts a user's export would hold."""
    return list(harness.mixed_records(count, START, 0.5, seed=seed, solved_share=0.7, solve_after_s=7200))


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(harness.jsonl_line(row))


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in rows:
            cells = []
            for column in COLUMNS:
                value = row.get(column)
                if value is None:
                    cells.append("")
                elif isinstance(value, list):
                    cells.append(";".join(value))
                elif isinstance(value, bool):
                    cells.append("true" if value else "false")
                else:
                    cells.append(value)
            writer.writerow(cells)


def import_rate(folder: Path, pattern: str, expected: int) -> tuple[float, float, float]:
    """(records per second, wall seconds, CPU seconds of this process) of one sync of a files source over
    ``pattern`` into a fresh cache. CPU seconds tell what the code costs when other work shares the machine."""
    settings = FilesSettings(name="files", kind="files", path=str(folder / pattern))
    with Store(folder / f"cache-{pattern.replace('*', '_')}.sqlite") as store:
        collector = Collector(store, [settings])
        started, cpu_started = time.perf_counter(), time.process_time()
        outcomes = collector.sync_once()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        if outcomes[0].error or outcomes[0].records != expected or outcomes[0].skipped:
            raise RuntimeError(f"import went wrong: {outcomes[0]}")
    return expected / elapsed, elapsed, cpu


def run(quick: bool) -> list[dict]:
    """Import 1M mixed records (100k when ``quick``) from JSON Lines and from CSV; report records per second."""
    count = 100_000 if quick else 1_000_000
    rows = mixed_records(count)
    results = []
    with tempfile.TemporaryDirectory(prefix="shiftboard-bench-") as tmp:
        folder = Path(tmp)
        write_jsonl(folder / "export.jsonl", rows)
        write_csv(folder / "export.csv", rows)
        for label, pattern in (("JSON Lines", "*.jsonl"), ("CSV", "*.csv")):
            rate, elapsed, cpu = import_rate(folder, pattern, count)
            results.append(
                {
                    "figure": f"files source import, {label}, {count:,} mixed records (records/s)",
                    "value": round(rate),
                    "goal": f">= {GOAL_RECORDS_PER_S:,}",
                    "note": f"{elapsed:.1f} s wall, {cpu:.1f} s CPU ({count / cpu:,.0f} records per CPU-second) for "
                    f"Collector.sync_once() into a new SQLite cache in pages of 50,000; load average "
                    f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
                }
            )
    return results


if __name__ == "__main__":
    for result in run(quick="--quick" in sys.argv):
        print(f"{result['figure']}: {result['value']:,} (goal {result['goal']}; {result['note']})")
