"""The figures the board shows as tiles: where each value comes from in metrics' layout, how it is written, which
threshold judges it and which rows lie behind it.

A figure's ``id`` is also its key in ``[board.thresholds]`` and ``[board.queues.<queue>]``. Adding a tile is adding
a Figure here; the grid, the keys and the drill-down follow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from shiftboard.tui import formatting


class Edges(Protocol):
    """A threshold: ``[board.thresholds]``' config model, or its plain copy in ``look.BoardLook``."""

    @property
    def warn(self) -> float: ...
    @property
    def breach(self) -> float: ...


class Thresholds(Protocol):
    """The board's thresholds and each queue's overrides (``[board]`` settings, or ``look.Limits``)."""

    @property
    def thresholds(self) -> Mapping[str, Edges]: ...
    @property
    def queues(self) -> Mapping[str, Mapping[str, Edges]]: ...


class State(Enum):
    """A figure's state against its thresholds; the word is shown beside the colour."""

    OK = "OK"
    WARN = "WARN"
    BREACH = "BREACH"
    NONE = ""


def _get(figures: Mapping[str, Any], *path: str) -> Any:
    value: Any = figures
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


@dataclass(frozen=True, slots=True)
class Figure:
    """One tile.

    value: the number, from one queue's figures (metrics' layout ``Q``). ``fmt`` writes it. ``judged`` is the
    value compared with the thresholds (the value itself unless given). ``note`` is a short second reading shown
    under the number. ``ticks``: the value is an age and grows by the time since it was read. ``drill`` names the
    rows behind it (tui.drills).
    """

    id: str
    label: str
    value: Callable[[Mapping[str, Any]], float | None]
    fmt: Callable[[float | None], str]
    drill: str | None = None
    judged: Callable[[Mapping[str, Any]], float | None] | None = None
    note: Callable[[Mapping[str, Any]], str | None] | None = None
    ticks: bool = False

    def judged_value(self, figures: Mapping[str, Any], elapsed: float = 0.0) -> float | None:
        if self.judged is not None:
            return self.judged(figures)
        return self.current(figures, elapsed)

    def current(self, figures: Mapping[str, Any], elapsed: float = 0.0) -> float | None:
        """The value ``elapsed`` seconds after it was read (ages grow; other figures stand still)."""
        value = self.value(figures)
        if value is not None and self.ticks:
            value += max(0.0, elapsed)
        return value

    def steady_s(self, figures: Mapping[str, Any], elapsed: float, limit: Edges | None) -> float | None:
        """For an age (``ticks``) written by ``formatting.duration``: the seconds from ``elapsed`` until its text or
        its state (against ``limit``) can next change as it grows. None for a figure that does not grow."""
        value = self.current(figures, elapsed)
        if value is None or not self.ticks:
            return None
        steady = formatting.duration_steady_s(value) if self.fmt is formatting.duration else 1.0
        if limit is not None and self.judged is None:
            # ``judge`` changes state once the value is past an edge.
            steady = min([steady] + [edge - value + 0.001 for edge in (limit.warn, limit.breach) if edge >= value])
        return steady


#: Short labels: a tile's title must fit in 14 columns at 80×24.
_AGENT_LABELS = {"available": "Available", "busy": "Busy", "wrap_up": "Wrap-up", "away": "Away"}


def _agents(state: str) -> Figure:
    return Figure(
        f"agents_{state}",
        _AGENT_LABELS[state],
        lambda q: _get(q, "agents", state),
        formatting.count,
        drill=f"agents:{state}",
    )


def _abandon_note(q: Mapping[str, Any]) -> str | None:
    rate = _get(q, "contacts", "abandon_rate_pct")
    return None if rate is None else formatting.percent(rate)


def _sla_note(q: Mapping[str, Any]) -> str | None:
    at_risk = _get(q, "cases", "sla", "at_risk")
    return None if at_risk is None else f"{at_risk} at risk"


def _csat_note(q: Mapping[str, Any]) -> str | None:
    responses = _get(q, "satisfaction", "csat_responses")
    return None if responses is None else f"n={responses}"


FIGURES: tuple[Figure, ...] = (
    Figure("waiting_now", "Waiting now", lambda q: _get(q, "contacts", "waiting_now"), formatting.count, "waiting"),
    Figure(
        "longest_wait_s",
        "Longest wait",
        lambda q: _get(q, "contacts", "longest_wait_s"),
        formatting.duration,
        "waiting",
        ticks=True,
    ),
    Figure(
        "service_level_pct",
        "Service level",
        lambda q: _get(q, "contacts", "service_level_pct"),
        formatting.percent,
        "answered",
    ),
    Figure("asa_s", "ASA", lambda q: _get(q, "contacts", "asa_s"), formatting.duration, "answered"),
    Figure(
        "abandon_rate_pct",
        "Abandoned",
        lambda q: _get(q, "contacts", "abandoned"),
        formatting.count,
        "abandoned",
        judged=lambda q: _get(q, "contacts", "abandon_rate_pct"),
        note=_abandon_note,
    ),
    Figure("blocked", "Blocked", lambda q: _get(q, "contacts", "blocked"), formatting.count, "blocked"),
    _agents("available"),
    _agents("busy"),
    _agents("wrap_up"),
    _agents("away"),
    Figure("backlog_open", "Open cases", lambda q: _get(q, "cases", "backlog", "open"), formatting.count, "open_cases"),
    Figure(
        "oldest_case_age_s",
        "Oldest case",
        lambda q: _get(q, "cases", "backlog", "oldest_age_s"),
        formatting.duration,
        "open_cases",
        ticks=True,
    ),
    Figure(
        "first_reply_p90_s",
        "1st reply p90",
        lambda q: _get(q, "cases", "first_reply_s", "p90"),
        formatting.duration,
    ),
    Figure("aht_s", "AHT", lambda q: _get(q, "contacts", "aht_s"), formatting.duration, "answered"),
    Figure(
        "csat_pct",
        "CSAT",
        lambda q: _get(q, "satisfaction", "csat_pct"),
        formatting.percent,
        "ratings",
        note=_csat_note,
    ),
    Figure(
        "sla_breached",
        "SLA breaches",
        lambda q: _get(q, "cases", "sla", "breached"),
        formatting.count,
        "sla",
        note=_sla_note,
    ),
)
FIGURES_BY_ID = {figure.id: figure for figure in FIGURES}


def threshold(board: Thresholds, figure_id: str, queue: str | None) -> Edges | None:
    """The threshold for a figure on a queue: the queue's override, else the board's, else none."""
    if queue is not None:
        override = board.queues.get(queue, {}).get(figure_id)
        if override is not None:
            return override
    return board.thresholds.get(figure_id)


def judge(value: float | None, limit: Edges | None) -> State:
    """A value's state. A value exactly at a threshold is within it (as a wait at the SL threshold is within SL);
    past ``warn`` is WARN, past ``breach`` is BREACH; when ``warn`` > ``breach`` lower is worse."""
    if value is None or limit is None:
        return State.NONE
    if limit.warn > limit.breach:
        if value < limit.breach:
            return State.BREACH
        return State.WARN if value < limit.warn else State.OK
    if value > limit.breach:
        return State.BREACH
    return State.WARN if value > limit.warn else State.OK
