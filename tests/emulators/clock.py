"""A clock that only moves when told to, shared by an emulator (rate-limit windows) and an adapter (its sleeps)."""

from __future__ import annotations

import threading

from shiftboard.adapters.base import AdapterContext


class FakeClock:
    """Epoch seconds that advance only by ``advance`` (or by a sleep of the context made by ``context``)."""

    def __init__(self, start: float) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def context(self, environ: dict[str, str]) -> AdapterContext:
        """An AdapterContext on this clock whose sleeps return at once, advance the clock and are recorded."""
        waits: list[float] = []

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            self.advance(seconds)

        context = AdapterContext(clock=self, environ=environ, sleep=sleep)
        context.waits = waits  # type: ignore[attr-defined]
        return context
