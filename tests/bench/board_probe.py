"""A real board process for the load and soak harnesses: the Textual app, headless, with its own refresh loop.

Run: ``python -m tests.bench.board_probe --config F --log PATH [--seconds S] [--tracemalloc PATH]``.

``ProbeApp`` is ``ShiftboardApp`` unchanged except that it notes when each read of the cache starts and when its
result has been shown (``read_now`` starting a read, ``_read_finished`` ending one, the two places every refresh goes
through), and appends one JSON line per refresh to ``--log``: ``{"start": epoch s, "duration": s, "error": reason or
null, "interval": configured s}``. Start is the moment the read began, so the gap between two starts is what a viewer
sees between refreshes. The app exits by itself after ``--seconds``, so a harness that dies cannot leave it running.

``--tracemalloc PATH`` traces Python allocations and appends the top allocation sites (by size, grouped by line)
to PATH every 60 s, to find what grows when the soak's RSS does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import IO

from shiftboard.config import load_settings
from shiftboard.store import Store
from shiftboard.tui import app as board_app
from shiftboard.tui.app import ShiftboardApp

TRACEMALLOC_EVERY_S = 60.0


class ProbeApp(ShiftboardApp):
    """The board, recording each refresh to a JSON Lines log."""

    # Textual resolves a relative CSS_PATH from the module of the class that sets it; keep the board's own.
    CSS_PATH = [str(Path(board_app.__file__).parent / path) for path in ShiftboardApp.CSS_PATH]

    def __init__(
        self, *args: object, log: IO[str], seconds: float, trace: IO[str] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._log = log
        self._seconds = seconds
        self._trace = trace
        self._read_started: float | None = None
        self._read_started_wall = 0.0
        self._trace_base: tracemalloc.Snapshot | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.set_timer(self._seconds, self.exit)
        if self._trace is not None:
            self._trace_base = tracemalloc.take_snapshot()
            self.set_interval(TRACEMALLOC_EVERY_S, self._write_trace)

    def read_now(self) -> None:
        was_reading = self._reading
        super().read_now()
        if not was_reading and self._reading:
            self._read_started = time.perf_counter()
            self._read_started_wall = time.time()

    def _read_finished(self) -> None:
        if self._read_started is not None:
            entry = {
                "start": self._read_started_wall,
                "duration": time.perf_counter() - self._read_started,
                "error": self.problem,
                "interval": self.refresh_s,
            }
            self._log.write(json.dumps(entry) + "\n")
            self._log.flush()
            self._read_started = None
        super()._read_finished()

    def _write_trace(self) -> None:
        assert self._trace is not None and self._trace_base is not None
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        current, peak = tracemalloc.get_traced_memory()
        top = snapshot.compare_to(self._trace_base, "lineno")[:15]
        self._trace.write(
            json.dumps(
                {
                    "at": time.time(),
                    "traced_bytes": current,
                    "peak_bytes": peak,
                    "growth_since_start": [str(stat) for stat in top],
                }
            )
            + "\n"
        )
        self._trace.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True, help="JSON Lines file: one line per refresh")
    parser.add_argument("--seconds", type=float, default=3600.0, help="exit after this long (default 1 h)")
    parser.add_argument("--tracemalloc", type=Path, help="append allocation growth to this file every 60 s")
    args = parser.parse_args(argv)

    if args.tracemalloc:
        tracemalloc.start(10)
    settings = load_settings(args.config)
    store = Store(settings.cache.resolved_path())
    with args.log.open("a", encoding="utf-8") as log:
        trace = args.tracemalloc.open("a", encoding="utf-8") if args.tracemalloc else None
        try:
            app = ProbeApp(settings, store, settings.source_settings(), log=log, seconds=args.seconds, trace=trace)
            app.run(headless=True)
        finally:
            store.close()
            if trace is not None:
                trace.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
