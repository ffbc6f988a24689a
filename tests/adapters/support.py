"""Helpers shared by the adapter tests: a fake clock whose sleeps advance it, a full sync, reading the cache back,
and a plain reference for the spread figures (avg, nearest-rank p50/p90, max)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shiftboard.adapters.base import AdapterContext, SourceSettings
from shiftboard.collector import Collector, SyncOutcome
from shiftboard.health import Health, health
from shiftboard.store import Store


@dataclass
class FakeTime:
    """A clock that stands still except when something sleeps on it; every sleep is recorded."""

    now: float
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def context(self, environ: dict[str, str]) -> AdapterContext:
        return AdapterContext(clock=self.clock, environ=environ, sleep=self.sleep)


def sync(store: Store, settings: SourceSettings, context: AdapterContext, at: float) -> SyncOutcome:
    """One full sync of one source through the real collector (it drains every page that is ready)."""
    collector = Collector(store, [settings], context=context)
    try:
        [outcome] = collector.sync_once(at)
    finally:
        for runner in collector.runners:
            runner.close()
    return outcome


def source_health(store: Store, settings: SourceSettings, at: float) -> Health:
    return health(settings, store.sync_state(settings.name), at)


def rows(store: Store, table: str, source: str, key: str = "id") -> dict[Any, dict[str, Any]]:
    """A table's rows for one source, by key."""
    return {r[key]: dict(r) for r in store.query(f"SELECT * FROM {table} WHERE source = ?", (source,))}


def spread(values: Sequence[float]) -> dict[str, float | None]:
    """avg, nearest-rank p50 and p90, and max, written out plainly for comparison with the metrics module."""
    if not values:
        return {"avg": None, "p50": None, "p90": None, "max": None}
    ordered = sorted(values)

    def rank(pct: float) -> float:
        return ordered[max(1, math.ceil(pct * len(ordered) / 100)) - 1]

    return {"avg": sum(ordered) / len(ordered), "p50": rank(50), "p90": rank(90), "max": ordered[-1]}


def approx(figures: dict[str, float | None], expected: dict[str, float | None]) -> bool:
    return all(
        (figures[k] is None and expected[k] is None)
        or (figures[k] is not None and expected[k] is not None and abs(figures[k] - expected[k]) < 1e-6)
        for k in expected
    )


class FaultPlan:
    """Wraps an emulator so that after its ``n``-th request the server answers the next ones with faults.

    ``plan`` maps a request count to the faults to inject then, e.g. ``{3: [Fault("429", retry_after=7)]}``: the
    fourth request is answered 429. Faults thus land in the middle of a sync, not only on its first request.
    """

    def __init__(self, handler: Any, plan: dict[int, list[Any]]) -> None:
        self.handler = handler
        self.plan = dict(plan)
        self.server: Any = None
        self.count = 0

    def __call__(self, request: Any) -> Any:
        self.count += 1
        faults = self.plan.pop(self.count, None)
        if faults and self.server is not None:
            self.server.inject(*faults)
        return self.handler(request)


def run_synced(
    emulator: Any,
    store: Store,
    make_settings: Any,
    environ: dict[str, str],
    plan: dict[int, list[Any]] | None = None,
    **extra: Any,
) -> tuple[SyncOutcome, FakeTime, Any, SourceSettings]:
    """One full sync of ``emulator`` served on loopback, faults placed by ``plan``, time faked (sleeps recorded).

    ``make_settings(url, **extra)`` builds the source's settings for the server's url; an emulator with a ``clock``
    attribute is given the fake clock, so its rate limits count in the same time as the adapter's waits.
    """
    from tests.emulators.server import EmulatorServer

    time = FakeTime(emulator.now)
    if hasattr(emulator, "clock"):
        emulator.clock = time.clock
    handler = FaultPlan(emulator, plan or {})
    with EmulatorServer(handler) as server:
        handler.server = server
        config = make_settings(server.url, **extra)
        outcome = sync(store, config, time.context(environ), emulator.now)
    return outcome, time, server, config
