"""The command palette's cache search (``drilldown.search``) on caches of growing history.

The same caches as bench_metrics (5,000 cases a day, 3,000 open). A search reads the open cases, the cases created
in the last week and the agents seen in it, and looks an exact id up by primary key, so its cost follows the open
items and one week, not history. Each figure is the median of 5 searches for text that matches nothing (the worst
case: nothing stops the scan early).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from shiftboard import drilldown
from shiftboard.store import Store
from tests.bench.bench_metrics import AT, build


def search_ms(store: Store, text: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        drilldown.search(store, text, AT)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(quick: bool) -> list[dict]:
    sizes = [100_000, 1_000_000] if quick else [100_000, 1_000_000, 5_000_000]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="shiftboard-bench-") as folder:
        for n in sizes:
            path = Path(folder) / f"cache-{n}.sqlite"
            build(path, n)
            with Store(path, readonly=True) as store:
                median = search_ms(store, "zz-no-match")
            rows.append(
                {
                    "figure": f"palette search at {n:,} cases",
                    "value": f"{median:.0f} ms",
                    "goal": "",
                    "note": "median of 5, text matching nothing; runs in a thread after 0.15 s without typing",
                }
            )
            path.unlink()
    return rows
