"""Benchmark: the simulator's first fetch (about 36 h of model time) and a steady one-second fetch.

Run: ``.venv/bin/python -m tests.bench.bench_simulator``. Reports figures; asserts nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from shiftboard.adapters.simulator import SimulatorAdapter, SimulatorSettings


def main() -> None:
    # 23:59 UTC: the run's origin is 12:00 UTC the day before, so the first fetch simulates 36 h.
    at = datetime(2026, 11, 22, 23, 59, tzinfo=UTC).timestamp()
    settings = SimulatorSettings(name="simulator", kind="simulator", timezone="UTC")
    adapter = SimulatorAdapter(settings)
    wall, cpu = time.perf_counter(), time.process_time()
    cursor, records, pages = None, 0, 0
    while True:
        result = adapter.fetch(cursor, at)
        cursor, records, pages = result.cursor, records + len(result.batch), pages + 1
        if not result.more:
            break
    print(
        f"first fetch, 36 h of model time: {time.perf_counter() - wall:.2f} s wall, "
        f"{time.process_time() - cpu:.2f} s CPU, {records} records in {pages} pages"
    )
    steps, emitted = 60, 0
    wall = time.perf_counter()
    for second in range(1, steps + 1):
        result = adapter.fetch(cursor, at + second)
        cursor, emitted = result.cursor, emitted + len(result.batch)
    per_fetch_ms = (time.perf_counter() - wall) / steps * 1000
    print(f"steady fetches, 1 s apart: {per_fetch_ms:.2f} ms each, {emitted / steps:.1f} records each")


if __name__ == "__main__":
    main()
