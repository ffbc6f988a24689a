"""Memory of a board left open: VmRSS of the live board on the 1M cache, collecting the simulator in-process, over 30
minutes (1 minute when quick), sampled every minute from 5 s after the simulator's first sync is in the cache; VmRSS
at the first paint and when that sync was in are in the note.

The cache is bench_board's (1,000,000 historical contacts and cases plus 10,000 open cases). The board is the real
``shiftboard`` command in an 80×24 pseudo-terminal, live (no ``--at``), refreshing every 2 s and on each commit of
its simulator. The process is mostly waiting, so this module can run beside the others
(``python -m tests.bench.run --only memory`` in a second shell) without moving their figures much.

Run alone: ``python -m tests.bench.bench_memory [--quick]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import bench_board

MINUTES = 30.0
MINUTES_QUICK = 1.0
GROWTH_GOAL_MB = 5.0


def run(quick: bool) -> list[dict]:
    minutes = MINUTES_QUICK if quick else MINUTES
    with tempfile.TemporaryDirectory(prefix="shiftboard-bench-") as tmp:
        folder = Path(tmp)
        cache, built = bench_board.build_cache(folder)
        config = bench_board._config(folder, cache, bench_board.SIMULATOR_SOURCE)
        _, terminal = bench_board.start_once(bench_board.board_argv(config, None), folder)
        samples: list[tuple[float, float]] = []
        try:
            rss_paint, paint = terminal.rss_mb(), time.monotonic()
            bench_board.simulator_synced(cache, terminal)
            rss_synced, synced_s = terminal.rss_mb(), time.monotonic() - paint
            time.sleep(5.0)  # settle: the reads after the simulator's first pages
            started, cpu0 = time.monotonic(), terminal.cpu_s()
            while True:
                samples.append((time.monotonic() - started, terminal.rss_mb()))
                left = minutes * 60.0 - (time.monotonic() - started)
                if left <= 0:
                    break
                time.sleep(min(60.0, left))
            cpu_pct = (terminal.cpu_s() - cpu0) / (time.monotonic() - started) * 100
        finally:
            terminal.stop()
    first, last = samples[0][1], samples[-1][1]
    peak = max(rss for _, rss in samples)
    return [
        {
            "figure": f"memory of the live board collecting the simulator, over {minutes:g} min (VmRSS)",
            "value": f"{first:.0f} MB → {last:.0f} MB ({last - first:+.1f} MB), peak {peak:.0f} MB",
            "goal": f"< 150 MB, growing < {GROWTH_GOAL_MB:g} MB over 30 min",
            "note": f"VmRSS at the first paint {rss_paint:.0f} MB, {rss_synced:.0f} MB when the simulator's first sync "
            f"was in ({synced_s:.1f} s later), the first sample 5 s after that; "
            f"sampled every minute: {', '.join(f'{rss:.0f}' for _, rss in samples)} MB; CPU "
            f"{cpu_pct:.2f} % of one core over the span; 1M cache + {bench_board.EXTRA_OPEN:,} more open cases "
            f"(built in {built:.0f} s); load average {os.getloadavg()[0]:.1f}",
        }
    ]


if __name__ == "__main__":
    for result in run(quick="--quick" in sys.argv):
        print(f"{result['figure']}: {result['value']} (goal {result['goal']}; {result['note']})")
