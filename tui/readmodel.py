"""What one read of the cache gives the board: every figure at a moment, and each source's health.

Runs in a worker thread against a read-only connection; the result is a plain value handed to the UI thread.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shiftboard import metrics
from shiftboard.health import Health, health
from shiftboard.store import Store

if TYPE_CHECKING:  # types only: the board's first frame is drawn before pydantic is imported
    from shiftboard.config import Settings, SourceSettings


@dataclass(frozen=True, slots=True)
class BoardData:
    """Figures at ``at`` over the window [``since``, ``at``), per queue (``metrics.ALL`` for every queue)."""

    at: float
    since: float
    queues: dict[str, dict[str, Any]]
    health: list[Health] = field(default_factory=list)
    #: Seconds the read took (shown so a slow cache is visible).
    latency_s: float = 0.0

    @property
    def queue_names(self) -> list[str]:
        """The named queues, in the order digits 1–9 select them."""
        return [name for name in self.queues if name != metrics.ALL]

    def figures(self, queue: str | None) -> dict[str, Any]:
        """One queue's figures; an unknown queue (not seen yet) has none."""
        return self.queues.get(queue or metrics.ALL, {})


def read_board(
    store: Store,
    settings: Settings,
    sources: Sequence[SourceSettings],
    at: float,
    *,
    now: float | None = None,
    memo: metrics.ReadMemo | None = None,
) -> BoardData:
    """Compute every figure at ``at``, and each source's health at ``now`` (default ``at``): a rewound board still
    says whether the cache is being filled today. ``memo``: the board's, kept across its reads of ``store``."""
    started = time.perf_counter()
    since = metrics.window_start(settings.metrics, at)
    snapshot = metrics.compute(store, settings.metrics, at, since, costs=settings.costs, memo=memo)
    states = {state.source: state for state in store.sync_states()}
    sources_health = [health(source, states.get(source.name), at if now is None else now) for source in sources]
    return BoardData(
        at=at,
        since=since,
        queues=snapshot["queues"],
        health=sources_health,
        latency_s=time.perf_counter() - started,
    )
