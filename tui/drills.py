"""The drill-downs a tile can open: a title, the kind of row (for its detail) and the core query behind it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from shiftboard import drilldown
from shiftboard.config import Settings

Query = Callable[..., list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Drill:
    """Rows behind a figure. ``kind``: the record a row is (contact, case, agent, rating); ``key``: its id column."""

    name: str
    title: str
    kind: str
    query: Query
    key: str = "id"


def drill(name: str, settings: Settings) -> Drill:
    """The drill-down called ``name`` (``agents:<state>`` for agents in a state)."""
    if name.startswith("agents:"):
        state = name.split(":", 1)[1]
        return Drill(
            name,
            f"Agents {state.replace('_', '-')}",
            "agent",
            partial(drilldown.agents_in_state, state=state),
            key="agent",
        )
    if name == "sla":
        # [metrics] sla_at_risk_min, where this version of the config has it, so the rows match the tile.
        risk_min = getattr(settings.metrics, "sla_at_risk_min", None)
        query = partial(
            drilldown.sla_cases,
            targets=settings.metrics.sla,
            at_risk_s=None if risk_min is None else risk_min * 60.0,
        )
        return Drill(name, "Cases past or near SLA", "case", query)
    title, kind, query = _SIMPLE[name]
    return Drill(name, title, kind, query)


_SIMPLE: dict[str, tuple[str, str, Query]] = {
    "waiting": ("Waiting contacts, longest first", "contact", drilldown.waiting_contacts),
    "answered": ("Answered contacts, longest wait first", "contact", drilldown.answered_contacts),
    "abandoned": ("Abandoned contacts", "contact", drilldown.abandoned_contacts),
    "blocked": ("Blocked contacts", "contact", drilldown.blocked_contacts),
    "open_cases": ("Open cases, oldest first", "case", drilldown.open_cases),
    "ratings": ("Ratings", "rating", drilldown.recent_ratings),
}
