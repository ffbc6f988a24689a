"""The read model: every figure on the board, per queue and for all queues, at an explicit moment ``at``.

Every figure is a function of (queue, window [since, at), at) over the cache. Events at or after ``at`` are ignored,
so a past ``at`` reproduces what the board showed then. Nothing here reads the wall clock. A figure with nothing to
measure is None (shown as "—"), never 0.

Definitions follow ../shared/reference/metrics.md; each function's docstring is its figure's definition.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shiftboard.config import MetricsSettings
from shiftboard.model import AGENT_STATES, OPEN_STATUSES, PRIORITIES, format_time
from shiftboard.store import OPEN_SQL, Store

ALL = "all"
#: A contact still waiting after this long is assumed lost by its source and no longer counted as waiting.
MAX_WAIT_S = 86400.0
AGE_BUCKETS = (("under_1h", 3600.0), ("1h_to_4h", 4 * 3600.0), ("4h_to_24h", 86400.0), ("over_24h", math.inf))


def window_start(settings: MetricsSettings, at: float) -> float:
    """The start of the default window ending at ``at``: local midnight for "today", else ``at`` minus minutes."""
    if settings.window == "today":
        local = datetime.fromtimestamp(at, tz=settings.zone())
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight.timestamp()
    return at - int(settings.window[:-1]) * 60


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``pct`` % of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    return sum(values) / len(values) if values else None


def pct(part: float, whole: float) -> float | None:
    """``part`` as a percentage of ``whole``; None when ``whole`` is 0."""
    return 100.0 * part / whole if whole else None


@dataclass(slots=True)
class _Contact:
    queue: str
    channel: str
    offered_at: float
    answered_at: float | None
    ended_at: float | None
    abandoned_at: float | None
    blocked: bool
    wrap_up_s: float | None


def service_level(
    waits_answered: Sequence[float], waits_abandoned: Sequence[float], threshold_s: float, short_s: float
) -> dict[str, float | None]:
    """Service level % under each abandon policy, with T = ``threshold_s`` and a wait of exactly T within T.

    - answered_only: answered ≤ T / answered
    - all_abandons: answered ≤ T / (answered + abandoned)
    - exclude_short: answered ≤ T / (answered + abandoned − abandoned within ``short_s``)
    - abandoned_after_threshold: answered ≤ T / (answered + abandoned after T)
    - abandons_within_threshold_met: (answered ≤ T + abandoned ≤ T) / (answered + abandoned)
    """
    answered = len(waits_answered)
    abandoned = len(waits_abandoned)
    within = sum(1 for w in waits_answered if w <= threshold_s)
    abandoned_within = sum(1 for w in waits_abandoned if w <= threshold_s)
    short = sum(1 for w in waits_abandoned if w <= short_s)
    return {
        "answered_only": pct(within, answered),
        "all_abandons": pct(within, answered + abandoned),
        "exclude_short": pct(within, answered + abandoned - short),
        "abandoned_after_threshold": pct(within, answered + abandoned - abandoned_within),
        "abandons_within_threshold_met": pct(within + abandoned_within, answered + abandoned),
    }


def contact_figures(contacts: Iterable[_Contact], settings: MetricsSettings, since: float, at: float) -> dict:
    """Contact figures over contacts offered in [since, at), outcomes before ``at``.

    offered: entered the queue in the window (blocked contacts never entered, so are not offered).
    answered / abandoned: offered in the window and answered / abandoned before ``at``.
    short_abandoned: abandoned with a wait of at most ``short_abandon_s``.
    blocked: refused entry in the window. waiting_now: offered before ``at``, no outcome before ``at``.
    longest_wait_s: ``at`` minus the earliest offer among those waiting.
    asa_s: mean wait of answered contacts. wait_p50_s/p90_s/max_s: nearest-rank percentiles of those waits.
    abandon_rate_pct: abandoned / (answered + abandoned).
    aht_s: mean of (ended − answered) + wrap-up over answered contacts that ended in the window.
    by_channel: offered per channel.
    """
    offered = answered = abandoned = blocked = 0
    waits_answered: list[float] = []
    waits_abandoned: list[float] = []
    waiting_since: list[float] = []
    handle: list[float] = []
    by_channel: Counter[str] = Counter()
    for c in contacts:
        if c.offered_at >= at:
            continue
        answered_at = c.answered_at if c.answered_at is not None and c.answered_at < at else None
        abandoned_at = c.abandoned_at if c.abandoned_at is not None and c.abandoned_at < at else None
        ended_at = c.ended_at if c.ended_at is not None and c.ended_at < at else None
        if c.blocked:
            if c.offered_at >= since:
                blocked += 1
            continue
        if answered_at is None and abandoned_at is None and ended_at is None:
            if at - c.offered_at <= MAX_WAIT_S:
                waiting_since.append(c.offered_at)
            continue
        if answered_at is not None and ended_at is not None and since <= ended_at:
            handle.append((ended_at - answered_at) + (c.wrap_up_s or 0.0))
        if c.offered_at < since:
            continue
        offered += 1
        by_channel[c.channel] += 1
        if answered_at is not None:
            answered += 1
            waits_answered.append(answered_at - c.offered_at)
        elif abandoned_at is not None:
            abandoned += 1
            waits_abandoned.append(abandoned_at - c.offered_at)
        else:
            # Ended without answer or abandon (flow-out): in offered, not in any service-level denominator.
            pass
    offered += len([s for s in waiting_since if s >= since])
    by_policy = service_level(
        waits_answered, waits_abandoned, settings.service_level_threshold_s, settings.short_abandon_s
    )
    return {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "short_abandoned": sum(1 for w in waits_abandoned if w <= settings.short_abandon_s),
        "blocked": blocked,
        "waiting_now": len(waiting_since),
        "longest_wait_s": (at - min(waiting_since)) if waiting_since else None,
        "oldest_waiting_since": min(waiting_since) if waiting_since else None,
        "service_level_pct": by_policy[settings.abandon_policy],
        "service_level_pct_by_policy": by_policy,
        "asa_s": mean(waits_answered),
        "wait_p50_s": percentile(waits_answered, 50),
        "wait_p90_s": percentile(waits_answered, 90),
        "wait_max_s": max(waits_answered) if waits_answered else None,
        "abandon_rate_pct": pct(abandoned, answered + abandoned),
        "aht_s": mean(handle),
        "by_channel": dict(sorted(by_channel.items())),
    }


def case_figures(rows: Iterable[Any], since: float, at: float) -> dict:
    """Case figures at ``at``.

    backlog.open: cases created before ``at`` and not solved/closed before it (deleted cases never count).
    by_status / by_priority: of those; a case solved later counts under its status "open" at ``at``.
    by_age: by time since creation. oldest_age_s: age of the oldest open case.
    created / solved: cases created / solved in [since, at).
    first_reply_s: creation to first reply, over cases first replied to in the window.
    resolution_s: creation to solve, over cases solved in the window.
    """
    open_count = 0
    by_status: Counter[str] = Counter()
    by_priority: Counter[str] = Counter({p: 0 for p in PRIORITIES})
    by_age: dict[str, int] = {name: 0 for name, _ in AGE_BUCKETS}
    oldest: float | None = None
    created = solved = 0
    first_reply: list[float] = []
    resolution: list[float] = []
    for r in rows:
        if r["status"] == "deleted" or r["created_at"] >= at:
            continue
        solved_at = r["solved_at"] if r["solved_at"] is not None and r["solved_at"] < at else None
        if since <= r["created_at"]:
            created += 1
        if solved_at is not None and since <= solved_at:
            solved += 1
            resolution.append(solved_at - r["created_at"])
        fr = r["first_reply_at"]
        if fr is not None and since <= fr < at:
            first_reply.append(fr - r["created_at"])
        is_open = r["status"] in OPEN_STATUSES or (r["solved_at"] is not None and r["solved_at"] >= at)
        if not is_open or solved_at is not None:
            continue
        open_count += 1
        status = r["status"] if r["status"] in OPEN_STATUSES else "open"
        by_status[status] += 1
        by_priority[r["priority"]] += 1
        age = at - r["created_at"]
        oldest = age if oldest is None else max(oldest, age)
        for name, limit in AGE_BUCKETS:
            if age < limit:
                by_age[name] += 1
                break
    return {
        "created": created,
        "solved": solved,
        "backlog": {
            "open": open_count,
            "by_status": {s: by_status.get(s, 0) for s in OPEN_STATUSES},
            "by_priority": dict(by_priority),
            "by_age": by_age,
            "oldest_age_s": oldest,
        },
        "first_reply_s": _spread(first_reply),
        "resolution_s": _spread(resolution),
    }


def _spread(values: Sequence[float]) -> dict[str, float | None]:
    return {
        "avg": mean(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "max": max(values) if values else None,
    }


def agent_figures(states: Iterable[Any], queue: str | None) -> dict[str, int]:
    """Agents by their state at ``at`` (their latest state change before it); ``queue`` None counts all."""
    counts = {state: 0 for state in AGENT_STATES}
    for row in states:
        queues = json.loads(row["queues"]) if row["queues"] else []
        if queue is None or not queues or queue in queues:
            counts[row["state"]] = counts.get(row["state"], 0) + 1
    return counts


def compute(store: Store, settings: MetricsSettings, at: float, since: float | None = None) -> dict[str, Any]:
    """Every figure, per queue and for "all", in the layout of ``shiftboard snapshot --json``."""
    since = window_start(settings, at) if since is None else since
    horizon = min(since, at - MAX_WAIT_S)
    with store.read() as conn:
        conn.row_factory = _row_factory
        contact_rows = conn.execute(
            """SELECT queue, channel, offered_at, answered_at, ended_at, abandoned_at, blocked, wrap_up_s
               FROM contacts WHERE offered_at >= ? AND offered_at < ?""",
            (horizon, at),
        ).fetchall()
        case_rows = conn.execute(
            f"""SELECT queue, status, priority, created_at, first_reply_at, solved_at FROM cases
                WHERE (status IN {OPEN_SQL} AND created_at < :at)
                   OR (solved_at >= :since AND created_at < :at)
                   OR (created_at >= :since AND created_at < :at)
                   OR (first_reply_at >= :since AND first_reply_at < :at)""",
            {"at": at, "since": since},
        ).fetchall()
        agent_rows = conn.execute(
            """SELECT a.source, a.agent, a.state, a.queues FROM agent_states a
               JOIN (SELECT source, agent, MAX(since) AS since FROM agent_states WHERE since < ?
                     GROUP BY source, agent) latest
               ON a.source = latest.source AND a.agent = latest.agent AND a.since = latest.since""",
            (at,),
        ).fetchall()
        conn.row_factory = None
    contacts_by_queue: dict[str, list[_Contact]] = defaultdict(list)
    for r in contact_rows:
        contacts_by_queue[r["queue"]].append(
            _Contact(
                r["queue"],
                r["channel"],
                r["offered_at"],
                r["answered_at"],
                r["ended_at"],
                r["abandoned_at"],
                bool(r["blocked"]),
                r["wrap_up_s"],
            )
        )
    cases_by_queue: dict[str, list[Any]] = defaultdict(list)
    for r in case_rows:
        cases_by_queue[r["queue"]].append(r)
    agent_queues = {q for r in agent_rows for q in (json.loads(r["queues"]) if r["queues"] else [])}
    queues = sorted(set(contacts_by_queue) | set(cases_by_queue) | agent_queues)

    def figures(queue: str | None) -> dict[str, Any]:
        queue_settings = settings if queue is None else settings.for_queue(queue)
        contacts = contact_rows_for(contacts_by_queue, queue)
        cases = [r for q, rows in cases_by_queue.items() if queue in (None, q) for r in rows]
        return {
            "contacts": contact_figures(contacts, queue_settings, since, at),
            "cases": case_figures(cases, since, at),
            "agents": agent_figures(agent_rows, queue),
        }

    return {
        "at": format_time(at),
        "since": format_time(since),
        "queues": {ALL: figures(None), **{q: figures(q) for q in queues}},
    }


def contact_rows_for(by_queue: dict[str, list[_Contact]], queue: str | None) -> list[_Contact]:
    if queue is not None:
        return by_queue.get(queue, [])
    return [c for rows in by_queue.values() for c in rows]


def _row_factory(cursor: Any, row: tuple) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}
