"""The read model: every figure on the board, per queue and for all queues, at an explicit moment ``at``.

Every figure is a function of (queue, window [since, at), at) over the cache. Events at or after ``at`` are ignored,
so a past ``at`` reproduces what the board showed then. Nothing here reads the wall clock. A figure with nothing to
measure is None (shown as "—"); counts are numbers (0 is a count).

Definitions follow ../shared/reference/metrics.md; each function's docstring is its figure's definition, and
``FIGURES`` below is the text the README and docs/metrics.md repeat.

Cost: every query is bounded by the window, the last 24 h of offers (contacts waiting), the open cases, or the
agents (a skip-scan over the agent-state key), never by the length of history; ``make bench`` measures it.
"""

from __future__ import annotations

import itertools
import json
import math
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache
from math import fsum
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

from shiftboard import erlang
from shiftboard.business_hours import BusinessCalendar
from shiftboard.model import AGENT_STATES, OPEN_STATUSES, PRIORITIES, format_time
from shiftboard.store import OPEN_SQL, Store

if TYPE_CHECKING:  # types only: the board's first frame is drawn before pydantic is imported
    from shiftboard.config import CostSettings, MetricsSettings

ALL = "all"
#: A contact still waiting after this long is assumed lost by its source and no longer counted as waiting.
MAX_WAIT_S = 86400.0
#: A queue snapshot older than this no longer describes the queue's current state.
SNAPSHOT_MAX_AGE_S = 600.0
#: Staffing reads the arrivals and handle times of this last stretch before ``at``.
STAFFING_WINDOW_S = 3600.0
#: How far before the moment a board's agents' timeline was read up to a later write may store states and still
#: extend it rather than have the day read again (``_Timeline.unseen``): a few polls of a helpdesk.
LATE_STATES_S = 600.0
#: How many of the latest rating comments are shown.
COMMENTS_SHOWN = 10
AGE_BUCKETS = (("under_1h", 3600.0), ("1h_to_4h", 4 * 3600.0), ("4h_to_24h", 86400.0), ("over_24h", math.inf))
POLICIES = (
    "answered_only",
    "all_abandons",
    "exclude_short",
    "abandoned_after_threshold",
    "abandons_within_threshold_met",
)
#: Seconds in each [costs] period; a month is the mean Gregorian month (365.2425 / 12 days).
PERIOD_S = {"day": 86400.0, "week": 7 * 86400.0, "month": 365.2425 / 12 * 86400.0}
UNASSIGNED = "(unassigned)"
UNKNOWN = "(unknown)"


# -- small statistics ---------------------------------------------------------------------------------------------


def window_start(settings: MetricsSettings, at: float) -> float:
    """The start of the default window ending at ``at``: local midnight for "today", else ``at`` minus minutes."""
    if settings.window == "today":
        local = datetime.fromtimestamp(at, tz=settings.zone())
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight.timestamp()
    return at - int(settings.window[:-1]) * 60


def percentile(values: Sequence[float], pct: int, *, presorted: bool = False) -> float | None:
    """Nearest-rank percentile: the value at rank ⌈pct/100 · n⌉ (at least 1) of the sorted values; None if empty."""
    if not values:
        return None
    ordered = values if presorted else sorted(values)
    # Integer arithmetic: 0.9 * 70 is 63.00000000000001 in floats, which would skip a rank.
    rank = max(1, -(-pct * len(ordered) // 100))
    return ordered[rank - 1]


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    return math.fsum(values) / len(values) if values else None


def pct(part: float, whole: float) -> float | None:
    """``part`` as a percentage of ``whole``; None when ``whole`` is 0."""
    return 100.0 * part / whole if whole else None


def spread(values: Sequence[float]) -> dict[str, float | None]:
    """avg, p50, p90 (nearest rank) and max of ``values``; all None when there are none."""
    ordered = sorted(values)
    return {
        "avg": mean(ordered),
        "p50": percentile(ordered, 50, presorted=True),
        "p90": percentile(ordered, 90, presorted=True),
        "max": ordered[-1] if ordered else None,
    }


# -- contacts -------------------------------------------------------------------------------------------------------


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
    within = sum(1 for w in waits_answered if w <= threshold_s)
    abandoned_within = sum(1 for w in waits_abandoned if w <= threshold_s)
    short = sum(1 for w in waits_abandoned if w <= short_s)
    return _sl_from_counts(len(waits_answered), within, len(waits_abandoned), abandoned_within, short)


def _sl_from_counts(
    answered: int | None, within: int | None, abandoned: int | None, ab_within: int | None, short: int | None
) -> dict[str, float | None]:
    def f(num: int | None, den: int | None) -> float | None:
        return None if num is None or den is None else pct(num, den)

    total = None if answered is None or abandoned is None else answered + abandoned
    return {
        "answered_only": f(within, answered),
        "all_abandons": f(within, total),
        "exclude_short": f(within, None if total is None or short is None else total - short),
        "abandoned_after_threshold": f(within, None if total is None or ab_within is None else total - ab_within),
        "abandons_within_threshold_met": f(None if within is None or ab_within is None else within + ab_within, total),
    }


class _Contacts:
    """What one queue's contacts add up to; finalized by ``figures``."""

    __slots__ = (
        "_fixed",
        "blocked",
        "by_channel",
        "handle_n",
        "handle_sum",
        "offered",
        "oldest_waiting",
        "repeat",
        "snapshot",
        "waiting",
        "waits_abandoned",
        "waits_answered",
    )

    def __init__(self) -> None:
        #: The figures that are the same at every moment, and the settings they were worked out with (``figures``).
        self._fixed: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self.offered = self.blocked = self.waiting = self.repeat = 0
        self.waits_answered: list[float] = []
        self.waits_abandoned: list[float] = []
        self.by_channel: Counter[str] = Counter()
        self.oldest_waiting: float | None = None
        self.handle_sum = 0.0
        self.handle_n = 0
        self.snapshot: dict[str, Any] | None = None

    def merge(self, other: _Contacts) -> None:
        self._fixed = None
        self.offered += other.offered
        self.blocked += other.blocked
        self.waiting += other.waiting
        self.repeat += other.repeat
        self.waits_answered += other.waits_answered
        self.waits_abandoned += other.waits_abandoned
        self.by_channel.update(other.by_channel)
        if other.oldest_waiting is not None:
            self.oldest_waiting = min(self.oldest_waiting or math.inf, other.oldest_waiting)
        self.handle_sum += other.handle_sum
        self.handle_n += other.handle_n

    def figures(self, settings: MetricsSettings, at: float, extra: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        """Contact figures over contacts offered in [since, at), outcomes before ``at``.

        offered: entered the queue in the window (blocked contacts never entered, so are not offered); includes
        those still waiting and those that left without answer or abandon (flow-outs).
        answered / abandoned: offered in the window and answered / abandoned before ``at`` (answered wins if both).
        short_abandoned: abandoned with a wait of at most ``short_abandon_s``.
        blocked: refused entry in the window.
        waiting_now: offered in the 24 h before ``at``, not blocked, and neither answered, abandoned nor ended
        before ``at`` (a contact answered after ``at`` was waiting at ``at``).
        longest_wait_s: ``at`` minus the earliest offer among those waiting; oldest_waiting_since is that offer.
        service_level_pct: under the configured ``abandon_policy`` (see ``service_level``), threshold T.
        asa_s: mean wait (offer to answer) of answered contacts.
        wait_p50_s / wait_p90_s / wait_max_s: nearest-rank percentiles and maximum of those waits.
        abandon_rate_pct: abandoned / (answered + abandoned).
        aht_s: mean handle time, (ended − answered) + wrap-up (hold is inside the talk span), over answered
        contacts that ended in the window.
        by_channel: offered contacts per channel.
        repeat_contacts: offered contacts whose customer had another contact (any queue, blocked included)
        offered within ``repeat_window_h`` before it (a contact exactly that long before counts).

        ``extra`` are queue-snapshot aggregates (sources that give no contact rows) added to the counts; see
        ``snapshot_contacts``.
        """
        if extra:
            fixed = self._figures_at_any_moment(settings, extra)
        else:
            # All but the longest wait are the same at every moment: worked out once for a board's kept sums, which
            # it reads again every refresh while nothing is written (sorting and summing the day's waits).
            key = (settings.service_level_threshold_s, settings.short_abandon_s, settings.abandon_policy)
            kept = self._fixed
            if kept is None or kept[0] != key:
                kept = self._fixed = (key, self._figures_at_any_moment(settings, ()))
            fixed = kept[1]
        oldest = fixed["oldest_waiting_since"]
        return {**fixed, "longest_wait_s": None if oldest is None else at - oldest}

    def _figures_at_any_moment(self, settings: MetricsSettings, extra: Sequence[dict[str, Any]]) -> dict[str, Any]:
        threshold, short_s = settings.service_level_threshold_s, settings.short_abandon_s
        answered_w = sorted(self.waits_answered)
        abandoned_w = sorted(self.waits_abandoned)
        answered, abandoned = len(answered_w), len(abandoned_w)
        within = bisect_right(answered_w, threshold)
        ab_within = bisect_right(abandoned_w, threshold)
        short = bisect_right(abandoned_w, short_s)
        offered, blocked, waiting = self.offered, self.blocked, self.waiting
        oldest = self.oldest_waiting
        wait_sum, wait_n = math.fsum(answered_w), answered
        for snap in extra:
            offered += snap["offered"] or 0
            answered += snap["answered"] or 0
            abandoned += snap["abandoned"] or 0
            short += snap["short_abandoned"] or 0
            within += snap["within"] or 0
            ab_within += snap["ab_within"] or 0
            waiting += snap["waiting_now"] or 0
            if snap["oldest_waiting_since"] is not None:
                oldest = min(oldest or math.inf, snap["oldest_waiting_since"])
            if snap["wait_total_s"] is not None and snap["answered"]:
                wait_sum += snap["wait_total_s"]
                wait_n += snap["answered"]
        by_policy = _sl_from_counts(answered, within, abandoned, ab_within, short)
        return {
            "offered": offered,
            "answered": answered,
            "abandoned": abandoned,
            "short_abandoned": short,
            "blocked": blocked,
            "waiting_now": waiting,
            "longest_wait_s": None,
            "oldest_waiting_since": oldest,
            "service_level_pct": by_policy[settings.abandon_policy],
            "service_level_pct_by_policy": by_policy,
            "service_level_policy": settings.abandon_policy,
            "service_level_threshold_s": threshold,
            "asa_s": wait_sum / wait_n if wait_n else None,
            "wait_p50_s": percentile(answered_w, 50, presorted=True),
            "wait_p90_s": percentile(answered_w, 90, presorted=True),
            "wait_max_s": answered_w[-1] if answered_w else None,
            "abandon_rate_pct": pct(abandoned, answered + abandoned),
            "aht_s": self.handle_sum / self.handle_n if self.handle_n else None,
            "occupancy_pct": None,
            "by_channel": dict(sorted(self.by_channel.items())),
            "repeat_contacts": self.repeat,
            "basis": "queue_snapshot" if extra and not self.offered and not self.waiting else "contacts",
        }


def snapshot_contacts(row: dict[str, Any], at: float, since: float) -> dict[str, Any]:
    """Contact figures of a queue known only from its source's aggregates (a QueueSnapshot, e.g. Twilio, Talk).

    waiting_now, longest_wait_s and agents come from the latest snapshot at or before ``at``, only if it is at most
    10 minutes old. offered / answered / abandoned / short_abandoned / service level / ASA come from its cumulative
    fields, which follow the source's own window (``window_start`` to the snapshot's moment) and the source's own
    service-level threshold (``sl_threshold_s``), not ``since`` and T; ASA = wait_total_s / answered. Cumulative
    fields are used only when the snapshot was taken inside the window [since, at].
    """
    fresh = at - row["at"] <= SNAPSHOT_MAX_AGE_S
    cumulative = row["at"] >= since
    waiting = row["waiting"] if fresh else None
    longest = row["longest_wait_s"] if fresh else None
    return {
        "offered": row["offered"] if cumulative else None,
        "answered": row["answered"] if cumulative else None,
        "abandoned": row["abandoned"] if cumulative else None,
        "short_abandoned": row["short_abandoned"] if cumulative else None,
        "within": row["answered_within_sl"] if cumulative else None,
        "ab_within": row["abandoned_within_sl"] if cumulative else None,
        "wait_total_s": row["wait_total_s"] if cumulative else None,
        "waiting_now": waiting,
        # The longest wait was measured when the snapshot was taken; that caller has waited since then too.
        "oldest_waiting_since": None if longest is None else row["at"] - longest,
        "agents_online": row["agents_online"] if fresh else None,
        "agents_available": row["agents_available"] if fresh else None,
    }


def live_only(figures: dict[str, Any]) -> dict[str, Any]:
    """Snapshot figures with the cumulative counts dropped: only waiting_now, longest wait and agents remain."""
    kept = ("waiting_now", "oldest_waiting_since", "agents_online", "agents_available")
    return {key: (value if key in kept else None) for key, value in figures.items()}


# -- cases ----------------------------------------------------------------------------------------------------------


class _Cases:
    __slots__ = (
        "_fixed",
        "by_age",
        "by_assignee",
        "by_channel",
        "by_priority",
        "by_status",
        "created",
        "created_solved",
        "fcr_known",
        "fcr_yes",
        "first_reply",
        "first_reply_business",
        "next_due",
        "oldest",
        "open",
        "reopened",
        "resolution",
        "sla_at_risk",
        "sla_breached",
        "solved",
    )

    def __init__(self) -> None:
        self._fixed: dict[str, Any] | None = None
        self.created = self.created_solved = self.solved = self.fcr_known = self.fcr_yes = self.reopened = 0
        self.open = self.sla_breached = self.sla_at_risk = 0
        self.resolution: list[float] = []
        self.first_reply: list[float] = []
        self.first_reply_business: list[float] = []
        self.by_status: Counter[str] = Counter({s: 0 for s in OPEN_STATUSES})
        self.by_priority: Counter[str] = Counter({p: 0 for p in PRIORITIES})
        self.by_channel: Counter[str] = Counter()
        self.by_assignee: Counter[str] = Counter()
        self.by_age: dict[str, int] = {name: 0 for name, _ in AGE_BUCKETS}
        self.oldest: float | None = None
        #: The moment the soonest unbreached SLA target is due (absolute, so a kept backlog stays right later).
        self.next_due: float | None = None

    def merge(self, other: _Cases) -> None:
        self._fixed = None
        for name in ("created", "created_solved", "solved", "fcr_known", "fcr_yes", "reopened", "open"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.sla_breached += other.sla_breached
        self.sla_at_risk += other.sla_at_risk
        self.resolution += other.resolution
        self.first_reply += other.first_reply
        self.first_reply_business += other.first_reply_business
        for name in ("by_status", "by_priority", "by_channel", "by_assignee"):
            getattr(self, name).update(getattr(other, name))
        for bucket, count in other.by_age.items():
            self.by_age[bucket] += count
        if other.oldest is not None and (self.oldest is None or other.oldest < self.oldest):
            self.oldest = other.oldest
        self.note_next_due(other.next_due)

    def note_next_due(self, due: float | None) -> None:
        if due is not None and (self.next_due is None or due < self.next_due):
            self.next_due = due

    def figures(self, at: float) -> dict[str, Any]:
        """Case figures at ``at`` (deleted cases never count).

        created / solved: cases created / solved in [since, at).
        backlog.open: cases created before ``at`` and not solved before it: open now, or solved/closed at or
        after ``at``. by_status (a case since solved counts as "open"), by_priority, by_channel, by_assignee,
        by_age (time since creation: under 1 h, 1–4 h, 4–24 h, over 24 h; a bucket's lower edge belongs to it),
        oldest_age_s (age of the oldest open case) and oldest_created_at.
        first_reply_s: creation to first reply, over cases first replied to in the window (avg, p50, p90, max);
        first_reply_business_s: the same durations counted in business hours only.
        resolution_s: creation to solve, over cases solved in the window.
        fcr_pct: of cases solved in the window whose agent reply count is known, those solved with at most one
        agent reply and never reopened.
        reopen_rate_pct: of cases solved in the window, those reopened at least once (the source's reopen count).
        resolution_rate_pct: of cases created in the window, those solved before ``at``.
        sla: over open cases with a target for their priority: breached = past the first-reply target (not yet
        replied to before ``at``) or the resolution target; at_risk = not breached, a target due within
        ``sla_at_risk_min`` (inclusive); next_breach_s = time until the soonest unbreached target is due.
        """
        # All but two figures are the same at every moment: worked out once, for a board's kept parts (a figure's
        # spread sorts the window's durations).
        fixed = self._fixed
        if fixed is None:
            fixed = self._fixed = self._figures_at_any_moment()
        backlog = {**fixed["backlog"], "oldest_age_s": None if self.oldest is None else at - self.oldest}
        sla = {**fixed["sla"], "next_breach_s": None if self.next_due is None else self.next_due - at}
        return {**fixed, "backlog": backlog, "sla": sla}

    def _figures_at_any_moment(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "solved": self.solved,
            "backlog": {
                "open": self.open,
                "by_status": dict(self.by_status),
                "by_priority": dict(self.by_priority),
                "by_channel": dict(sorted(self.by_channel.items())),
                "by_assignee": dict(sorted(self.by_assignee.items())),
                "by_age": dict(self.by_age),
                "oldest_age_s": None,
                "oldest_created_at": self.oldest,
            },
            "first_reply_s": spread(self.first_reply),
            "first_reply_business_s": spread(self.first_reply_business),
            "resolution_s": spread(self.resolution),
            "fcr_pct": pct(self.fcr_yes, self.fcr_known),
            "reopen_rate_pct": pct(self.reopened, self.solved),
            "resolution_rate_pct": pct(self.created_solved, self.created),
            "sla": {
                "breached": self.sla_breached,
                "at_risk": self.sla_at_risk,
                "next_breach_s": None,
            },
        }


# -- satisfaction ---------------------------------------------------------------------------------------------------


def csat_satisfied(score: float, scale_min: float, scale_max: float) -> bool:
    """A satisfied CSAT response: the top score on a 2- or 3-point scale, one of the top two on 4 or more points."""
    points = scale_max - scale_min + 1
    return score >= (scale_max if points <= 3 else scale_max - 1)


class _Ratings:
    __slots__ = ("_fixed", "ces", "comments", "csat_n", "csat_yes", "iqs", "nps_det", "nps_n", "nps_pro")

    def __init__(self) -> None:
        self._fixed: dict[str, Any] | None = None
        self.csat_n = self.csat_yes = self.nps_n = self.nps_pro = self.nps_det = 0
        self.ces: list[float] = []
        self.iqs: list[float] = []
        self.comments: list[dict[str, Any]] = []

    def figures(self) -> dict[str, Any]:
        """Satisfaction over ratings given in [since, at); a rating without a queue takes its case's queue.

        csat_pct: satisfied / CSAT responses (``csat_satisfied``). nps: % promoters (9–10) − % detractors (0–6)
        of NPS responses (scores on another scale are first mapped onto 0–10). ces_avg: mean CES score.
        iqs_avg: mean of (score − min) / (max − min) × 100. Each with its response count.
        comments: the 10 latest non-empty comments, worst first (lowest score relative to its scale; ties latest
        first), as plain, unescaped strings: untrusted text, shown literally by the board.
        """
        if self._fixed is None:  # a board's kept ratings give the same figures at every read
            self._fixed = self._count()
        return self._fixed

    def _count(self) -> dict[str, Any]:
        latest = sorted(self.comments, key=lambda c: c["rated_at"], reverse=True)[:COMMENTS_SHOWN]
        latest.sort(key=lambda c: (c["_norm"], -c["rated_at"]))
        shown = [{k: v for k, v in c.items() if k != "_norm"} for c in latest]
        for c in shown:
            c["rated_at"] = format_time(c["rated_at"])
        return {
            "csat_pct": pct(self.csat_yes, self.csat_n),
            "csat_responses": self.csat_n,
            "nps": 100.0 * (self.nps_pro - self.nps_det) / self.nps_n if self.nps_n else None,
            "nps_responses": self.nps_n,
            "ces_avg": mean(self.ces),
            "ces_responses": len(self.ces),
            "iqs_avg": mean(self.iqs),
            "iqs_responses": len(self.iqs),
            "comments": shown,
        }

    def add(self, r: dict[str, Any]) -> None:
        self._fixed = None
        kind, score, lo, hi = r["kind"], r["score"], r["scale_min"], r["scale_max"]
        norm = (score - lo) / (hi - lo) if hi > lo else 0.0
        if kind == "csat":
            self.csat_n += 1
            self.csat_yes += csat_satisfied(score, lo, hi)
        elif kind == "nps":
            ten = score if (lo, hi) == (0, 10) else norm * 10
            self.nps_n += 1
            self.nps_pro += ten >= 9
            self.nps_det += ten <= 6
        elif kind == "ces":
            self.ces.append(score)
        elif kind == "iqs":
            self.iqs.append(norm * 100)
        if r["comment"]:
            self.comments.append(
                {
                    "kind": kind,
                    "score": score,
                    "scale_min": lo,
                    "scale_max": hi,
                    "rated_at": r["rated_at"],
                    "comment": r["comment"],
                    "case_id": r["case_id"],
                    "agent": r["agent"],
                    "_norm": norm,
                }
            )


# -- agents ---------------------------------------------------------------------------------------------------------


def _serves(queues: Sequence[str], queue: str) -> bool:
    """An agent with no queue listed serves every queue."""
    return not queues or queue in queues


class _Timeline:
    """Agents' states from ``since``, read up to a moment (``read_to``): the segments (start, end, state, queues) that
    ended at a change, and each agent's latest state (start, state, queues), which lasts until the moment asked about.
    With no change stored between the moment read and a later one, the same timeline answers for the later one too;
    with changes stored only after it, it is extended by them (``extend``)."""

    def __init__(self, initial: Iterable[Any], changes: Iterable[Any], since: float, read_to: float) -> None:
        #: Each agent's latest state, by (source, agent): at ``since`` for those with one before it.
        self.latest: dict[tuple[str, str], tuple[float, str, tuple[str, ...]]] = {
            (r[0], r[1]): (since, r[3], _queues(r[4])) for r in initial
        }
        self.closed: list[tuple[float, float, str, tuple[str, ...]]] = []
        #: The durations busy or in wrap-up, and available, of the closed segments, per distinct queue list, and
        #: their totals: each queue's occupancy sums a handful of totals.
        self._durations: dict[tuple[str, ...], tuple[list[float], list[float]]] = {}
        self._closed_totals: dict[tuple[str, ...], tuple[float, float]] = {}
        #: Per queue (None: all): the closed spans in which one of its agents was available, joined, and their ends
        #: (``availability``).
        self._available: dict[str | None, tuple[list[tuple[float, float]], list[float]]] = {}
        #: The changes added that start at or after ``recent_from`` (``LATE_STATES_S`` before ``read_to``), as read:
        #: a later write may store states before ``read_to`` beside them (``unseen``).
        self.recent_from = since
        self._recent: set[tuple[Any, ...]] = set()
        self.read_to = since
        self.extend(changes, read_to)

    def extend(self, changes: Iterable[Any], read_to: float) -> None:
        """Add the changes (source, agent, since, state, queues) up to the new ``read_to``: each agent's in order of
        time, all after its latest state (those stored from ``read_to`` as read before, and ``unseen``'s)."""
        latest, closed, durations = self.latest, self.closed, self._durations
        available: list[tuple[float, float, tuple[str, ...]]] = []
        recent_from = max(self.recent_from, read_to - LATE_STATES_S)
        recent = {row for row in self._recent if row[2] >= recent_from}
        for source, agent, moment, state, raw in changes:
            if moment >= recent_from:
                recent.add((source, agent, moment, state, raw))
            key = (source, agent)
            last = latest.get(key)
            if last is not None and moment > last[0]:
                closed.append((last[0], moment, last[1], last[2]))
                if last[1] in ("busy", "wrap_up"):
                    durations.setdefault(last[2], ([], []))[0].append(moment - last[0])
                elif last[1] == "available":
                    durations.setdefault(last[2], ([], []))[1].append(moment - last[0])
                    available.append((last[0], moment, last[2]))
            latest[key] = (moment, state, _queues(raw))
        # fsum: the same total whatever the order the segments were added in (read at once, or extended).
        self._closed_totals = {queues: (fsum(busy), fsum(idle)) for queues, (busy, idle) in durations.items()}
        for queue, (spans, ends) in self._available.items():
            for start, end, queues in available:
                if queue is None or _serves(queues, queue):
                    _join(spans, ends, start, end)
        self.read_to = read_to
        self.recent_from, self._recent = recent_from, recent
        #: The starts of the latest states that are "available", per queue (``availability``).
        self._starts: dict[str | None, list[float]] = {}
        self._totals_at: tuple[float, dict[tuple[str, ...], tuple[float, float]]] | None = None
        self._states: dict[str | None, dict[str, int]] = {}
        #: The agents who list no queue (and so serve every queue) by state, counted with ``_states``.
        self._states_every: dict[str, int] = {}
        self._queues = {q for _, _, qs in latest.values() for q in qs}

    def unseen(self, rows: Iterable[Any]) -> list[Any] | None:
        """Of ``rows`` (source, agent, since, state, queues), every change stored from ``recent_from`` up to some
        moment in order of time, those not in the timeline yet; None when one of them is not after its agent's latest
        state (stored out of order, or an added change rewritten): the timeline must be read again."""
        starts: dict[tuple[str, str], float] = {}
        unseen = []
        for row in rows:
            if tuple(row) in self._recent:
                continue
            key = (row[0], row[1])
            last = starts.get(key)
            if last is None:
                state = self.latest.get(key)
                last = -math.inf if state is None else state[0]
            if row[2] <= last:
                return None
            starts[key] = row[2]
            unseen.append(row)
        return unseen

    def states(self, queue: str | None) -> dict[str, int]:
        """Agents by their state at the moment read (their latest change before it); ``queue`` None counts all."""
        if not self._states:
            self._count_states()
        counts = self._states.get(queue)
        if counts is None:  # a queue that no agent lists: those who serve every queue
            counts = self._states[queue] = dict(self._states_every)
        return dict(counts)

    def _count_states(self) -> None:
        """Every queue's agents by state (``states``) in one pass over the agents: a read asks for each queue's in
        turn, and a pass per queue was a tenth of a read's work at the simulator's busy hour (cProfile)."""
        blank = {state: 0 for state in AGENT_STATES}
        total, every = dict(blank), dict(blank)
        by_queue: dict[str | None, dict[str, int]] = {}
        for _, state, queues in self.latest.values():
            total[state] = total.get(state, 0) + 1
            if not queues:
                every[state] = every.get(state, 0) + 1
            for queue in dict.fromkeys(queues):  # a queue listed twice serves once
                mine = by_queue.setdefault(queue, dict(blank))
                mine[state] = mine.get(state, 0) + 1
        for counts in by_queue.values():
            for state, n in every.items():
                counts[state] = counts.get(state, 0) + n
        by_queue[None] = total
        self._states, self._states_every = by_queue, every

    def queues(self) -> set[str]:
        """The queues some agent lists in its latest state."""
        return self._queues

    def _totals(self, at: float) -> dict[tuple[str, ...], tuple[float, float]]:
        if self._totals_at is None or self._totals_at[0] != at:
            parts = {queues: ([busy], [idle]) for queues, (busy, idle) in self._closed_totals.items()}
            for start, state, queues in self.latest.values():
                if at > start and state in ("busy", "wrap_up", "available"):
                    pair = parts.setdefault(queues, ([], []))
                    pair[1 if state == "available" else 0].append(at - start)
            self._totals_at = (at, {queues: (fsum(busy), fsum(idle)) for queues, (busy, idle) in parts.items()})
        return self._totals_at[1]

    def occupancy(self, queue: str | None, at: float) -> float | None:
        """Occupancy %: time busy or in wrap-up / time busy, in wrap-up or available, of the queue's agents in
        [since, at) (Amazon Connect's definition; an agent on several contacts counts once)."""
        totals = [pair for queues, pair in self._totals(at).items() if queue is None or _serves(queues, queue)]
        handling, idle = fsum(busy for busy, _ in totals), fsum(idle for _, idle in totals)
        return pct(handling, handling + idle)

    def availability(self, queue: str | None, opening: Sequence[tuple[float, float]], at: float) -> float | None:
        """Support availability %: share of the opening hours in [since, at) (``opening``, the calendar's intervals
        in order) during which at least one of the queue's agents was available; None when the window holds no
        opening hours."""
        kept = self._available.get(queue)
        if kept is None:
            joined = _union(
                (start, end)
                for start, end, state, queues in self.closed
                if state == "available" and (queue is None or _serves(queues, queue))
            )
            kept = self._available[queue] = (joined, [end for _, end in joined])
        spans, ends = kept
        starts = self._starts.get(queue)
        if starts is None:
            starts = self._starts[queue] = [
                start
                for start, state, queues in self.latest.values()
                if state == "available" and (queue is None or _serves(queues, queue))
            ]
        still = [start for start in starts if at > start]
        if still:
            # Every agent still available is so until ``at``, after every closed span's end: their spans make one,
            # from the earliest start, which takes in the closed spans that reach it (their union, as ``_union``).
            begin = min(still)
            i = bisect_left(ends, begin)
            spans = [*spans[:i], (min(spans[i][0], begin) if i < len(spans) else begin, at)]
        open_total = covered = 0.0
        i = 0
        for lo, hi in opening:
            open_total += hi - lo
            while i < len(spans) and spans[i][1] <= lo:
                i += 1
            j = i
            while j < len(spans) and spans[j][0] < hi:
                covered += min(hi, spans[j][1]) - max(lo, spans[j][0])
                j += 1
        return pct(covered, open_total)


def _union(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """The union of closed spans as disjoint spans in order (spans that touch are joined): the same for any
    grouping of the same spans, so joining some first changes nothing."""
    merged: list[list[float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _join(spans: list[tuple[float, float]], ends: list[float], start: float, end: float) -> None:
    """Join the span (start, end) into ``spans``, disjoint spans in order (``_union``'s), and ``ends``, their ends."""
    i = bisect_left(ends, start)  # spans before i end before ``start``: they neither overlap nor touch it
    j = i
    while j < len(spans) and spans[j][0] <= end:
        start, end = min(start, spans[j][0]), max(end, spans[j][1])
        j += 1
    spans[i:j] = [(start, end)]
    ends[i:j] = [end]


@lru_cache(maxsize=1024)
def _queues(raw: str | None) -> tuple[str, ...]:
    # Few distinct lists, parsed once each: agent-state rows repeat the same JSON text.
    return tuple(json.loads(raw)) if raw else ()


# -- the whole snapshot ---------------------------------------------------------------------------------------------


# Each key's latest row at or before a moment, found by a skip-scan: the distinct sources, then each source's
# distinct keys, one primary-key seek each (MIN over an index prefix), so the cost follows the number of agents or
# queues, not the length of their history.
def _latest_sql(table: str, key: str, time: str, op: str) -> str:
    return f"""
WITH RECURSIVE
src(source) AS (
    SELECT MIN(source) FROM {table}
    UNION ALL
    SELECT (SELECT MIN(t.source) FROM {table} t WHERE t.source > src.source) FROM src WHERE src.source IS NOT NULL
),
k(source, key) AS (
    SELECT source, (SELECT MIN(t.{key}) FROM {table} t WHERE t.source = src.source) FROM src
    WHERE src.source IS NOT NULL
    UNION ALL
    SELECT k.source, (SELECT MIN(t.{key}) FROM {table} t WHERE t.source = k.source AND t.{key} > k.key) FROM k
    WHERE k.key IS NOT NULL
)
SELECT x.* FROM k JOIN {table} x ON x.source = k.source AND x.{key} = k.key
 AND x.{time} = (SELECT MAX(m.{time}) FROM {table} m WHERE m.source = k.source AND m.{key} = k.key AND m.{time} {op} ?)
WHERE k.key IS NOT NULL
"""


_RATING_COLUMNS = ("kind", "score", "scale_min", "scale_max", "rated_at", "comment", "case_id", "agent")
#: Each agent's state at the moment given (its latest change strictly before it).
_AGENTS_AT = _latest_sql("agent_states", "agent", "since", "<")
#: Each source's latest snapshot of each queue at or before the moment given.
_SNAPSHOTS_AT = _latest_sql("queue_snapshots", "queue", "at", "<=")


def compute(
    store: Store,
    settings: MetricsSettings,
    at: float,
    since: float | None = None,
    *,
    costs: CostSettings | None = None,
    memo: ReadMemo | None = None,
) -> dict[str, Any]:
    """Every figure, per queue and for "all", in the layout of ``shiftboard snapshot --json``.

    "all" uses the ``[metrics]`` settings; a queue uses them with its ``[metrics.queues.<name>]`` overrides.
    ``costs`` gives cost_per_contact (None without it). ``memo``: a board's, kept from one read to the next, so a
    part of the read is counted again only when it can have changed (``ReadMemo``).
    """
    since = window_start(settings, at) if since is None else since
    hour = at - STAFFING_WINDOW_S
    zone = settings.zone()
    calendar = _calendar(settings, zone)
    p = {"since": since, "at": at, "hour": hour, "horizon": at - MAX_WAIT_S, "repeat": settings.repeat_window_h * 3600}
    with store.read() as conn:
        changes = Store.changes(conn)
        contacts, hour_counts = _contacts(conn, p, changes["contacts"], memo)
        # The window's sums, then the backlog's counts, then its ages and SLA states.
        cases = _merged_cases(
            (
                _cases_window(conn, p, calendar, changes["cases"], memo),
                *_backlog(conn, at, settings, calendar, changes["cases"], memo),
            ),
            memo,
        )
        ratings = _ratings(conn, p, (changes["ratings"], changes["cases"]), memo)
        timeline = _agents(conn, since, at, changes["agent_states"], memo)
        snapshots = _snapshots(conn, at, changes["queue_snapshots"], memo)

    agent_queues = timeline.queues()
    snap_by_queue: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in snapshots:
        snap_by_queue[row["queue"]].append(row)
    names = sorted(
        (
            set(contacts)
            | set(hour_counts)
            | set(cases)
            | set(ratings)
            | agent_queues
            | set(snap_by_queue)
            | set(settings.queues)
        )
        - {ALL}
    )
    # The opening hours in the window, for every queue's availability.
    opening = list(calendar.intervals(since, at))
    no_hour = _HourCounts()
    result: dict[str, Any] = {}
    snapshot_only: list[dict[str, Any]] = []
    needed: list[int] = []
    for name in names:
        acc = contacts.get(name, _NO_CONTACTS)
        extra = []
        if not acc.offered and not acc.waiting:
            extra = [snapshot_contacts(row, at, since) for row in snap_by_queue.get(name, [])]
        elif not acc.waiting:
            # History of finished contacts beside a live snapshot (Zendesk Talk exports only finished calls): the
            # contact rows give the counts, the snapshot says who is waiting now.
            extra = [live_only(snapshot_contacts(row, at, since)) for row in snap_by_queue.get(name, [])]
        snapshot_only += extra
        hour = hour_counts.get(name, no_hour)
        result[name] = _queue_figures(name, acc, hour, extra, settings.for_queue(name), timeline, opening, at)
        result[name]["cases"] = cases.get(name, _NO_CASES).figures(at)
        result[name]["satisfaction"] = (ratings[name] if name in ratings else _Ratings()).figures()
        if result[name]["staffing"]["agents_needed"] is not None:
            needed.append(result[name]["staffing"]["agents_needed"])
    hour_all = _HourCounts(
        sum(hour.arrivals for hour in hour_counts.values()),
        fsum(hour.handle_sum for hour in hour_counts.values()),
        sum(hour.handle_n for hour in hour_counts.values()),
    )
    everything = _all_contacts(contacts, memo)
    figures_all = _queue_figures(None, everything, hour_all, snapshot_only, settings, timeline, opening, at)
    figures_all["cases"] = cases[ALL].figures(at)
    figures_all["satisfaction"] = ratings[ALL].figures()
    figures_all["staffing"]["agents_needed"] = sum(needed) if needed else None
    figures_all["cost_per_contact"] = cost_per_contact(
        costs, since, at, figures_all["contacts"]["answered"], figures_all["cases"]["solved"]
    )
    result = {ALL: figures_all, **result}
    return {"at": format_time(at), "since": format_time(since), "queues": result}


#: A queue with no contacts or cases in the window: never changed, so its figures are worked out once.
_NO_CONTACTS = _Contacts()
_NO_CASES = _Cases()


def _merged_cases(parts: tuple[dict[str, _Cases], ...], memo: ReadMemo | None) -> dict[str, _Cases]:
    """Each queue's cases added up from ``parts``, and "all" from the queues; made again only when a part is not the
    one it was made from (``ReadMemo.derived``): the parts stay as read, kept for the next read."""

    def merge() -> dict[str, _Cases]:
        cases: dict[str, _Cases] = defaultdict(_Cases)
        for part in parts:
            for name, acc in part.items():
                cases[name].merge(acc)
        total = _Cases()
        for acc in cases.values():
            total.merge(acc)
        cases[ALL] = total
        return dict(cases)

    return merge() if memo is None else memo.derived("cases", parts, merge)


def _ratings(conn: Any, p: dict[str, Any], changes: tuple[int, int], memo: ReadMemo | None) -> dict[str, _Ratings]:
    """The ratings given in the window, per queue and for "all"; kept while the ratings are unchanged and none is
    stored between the moment read and ``at``, and, while a rating in the window takes its case's queue (it has no
    queue of its own), while the cases are unchanged too. ``changes``: the write counts of the ratings and the cases
    (``Store.changes``)."""
    ratings_n, cases_n = changes

    def key(by_case: bool) -> tuple[Any, ...]:
        # A write to the cases (several a minute from a helpdesk) matters here only through a rating's case queue.
        return (ratings_n, cases_n if by_case else None, p["since"])

    def read() -> tuple[_KeptRatings, float]:
        ratings: dict[str, _Ratings] = defaultdict(_Ratings)
        ratings[ALL] = _Ratings()
        by_case = False
        for r in conn.execute(
            """SELECT r.kind, r.score, r.scale_min, r.scale_max, r.rated_at, r.comment, r.case_id, r.agent,
                      COALESCE(r.queue, c.queue), r.queue IS NULL AND r.case_id IS NOT NULL FROM ratings r
               LEFT JOIN cases c ON c.source = r.source AND c.id = r.case_id
               WHERE r.rated_at >= :since AND r.rated_at < :at""",
            p,
        ):
            row = dict(zip(_RATING_COLUMNS, r[:8], strict=True))
            ratings[ALL].add(row)
            by_case = by_case or bool(r[9])
            if r[8] is not None:
                ratings[r[8]].add(row)
        later = conn.execute("SELECT MIN(rated_at) FROM ratings WHERE rated_at >= :at", p).fetchone()[0]
        return _KeptRatings(dict(ratings), by_case), _just_after(later)

    latest = memo.latest("ratings") if memo is not None else None
    by_case = latest is None or latest[1].by_case
    kept = memo.get("ratings", key(by_case), p["at"]) if memo is not None else None
    if kept is None:
        kept, until = read()
        if memo is not None:
            memo.keep("ratings", key(kept.by_case), p["at"], until, kept)
    return kept.queues  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class _KeptRatings:
    """The window's ratings per queue, and whether one of them takes its queue from its case."""

    queues: dict[str, _Ratings]
    by_case: bool


def _just_after(moment: float | None) -> float:
    """The first moment at which a stored time ``moment`` counts (tests are ``time < at``); inf for None."""
    return math.inf if moment is None else math.nextafter(moment, math.inf)


def _agents(conn: Any, since: float, at: float, changes: int, memo: ReadMemo | None) -> _Timeline:
    """The agents' timeline from ``since`` up to ``at``, kept while the agent states are unchanged (``changes``, their
    write count) and none is stored between the moment it was read and ``at``; after a write, extended with the
    states it stored when it can be (``_extend_agents``): read again from ``since``, its cost grew all day."""
    key = (changes, since)
    if memo is not None:
        timeline = memo.get("agents", key, at)
        if timeline is None:
            timeline = _extend_agents(conn, memo, key, at)
        if timeline is not None:
            return timeline  # type: ignore[no-any-return]

    def read() -> tuple[_Timeline, float]:
        initial = [(r[0], r[1], r[2], r[3], r[5]) for r in conn.execute(_AGENTS_AT, (since,))]
        rows = conn.execute(
            "SELECT source, agent, since, state, queues FROM agent_states WHERE since >= ? AND since < ?"
            " ORDER BY source, agent, since",
            (since, at),
        )
        return _Timeline(initial, rows, since, at), _agents_until(conn, at)

    return _kept(memo, "agents", key, at, read)


def _extend_agents(conn: Any, memo: ReadMemo, key: tuple[int, float], at: float) -> _Timeline | None:
    """The kept timeline brought up to ``at`` with the states stored after the moment it was read up to, and those
    written since it was kept, when each of them is its agent's latest (``_Timeline.unseen``); else None. A source
    often stores states from before the board's last read: a helpdesk polled every 30 s gives each its own time,
    and the simulator its events since its last poll."""
    kept = memo.latest("agents")
    if kept is None:
        return None
    (before, since), timeline = kept
    if since != key[1] or at < timeline.read_to:
        return None
    written = Store.written_since(conn, "agent_states", before, key[0])
    if written is None or written < timeline.recent_from:
        return None
    rows = conn.execute(
        "SELECT source, agent, since, state, queues FROM agent_states WHERE since >= ? AND since < ? ORDER BY since",
        (min(written, timeline.read_to), at),
    ).fetchall()  # all read before the kept timeline changes: a failed read leaves it as it was
    unseen = timeline.unseen(rows)
    if unseen is None:
        return None
    timeline.extend(unseen, at)
    memo.keep("agents", key, at, _agents_until(conn, at), timeline)
    memo.extended["agents"] += 1
    return timeline


def _snapshots(conn: Any, at: float, changes: int, memo: ReadMemo | None) -> list[dict[str, Any]]:
    """Each source's latest snapshot of each queue at or before ``at``; kept while the snapshots are unchanged
    (``changes``, their write count) and none is stored after the moment read up to ``at``."""

    def read() -> tuple[list[dict[str, Any]], float]:
        cursor = conn.execute(_SNAPSHOTS_AT, (at,))
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor]
        # A snapshot taken at t is the latest from ``at`` = t on (``<=``): the kept rows hold until then.
        later = conn.execute("SELECT MIN(at) FROM queue_snapshots WHERE at > ?", (at,)).fetchone()[0]
        return rows, math.inf if later is None else later

    return _kept(memo, "snapshots", changes, at, read)


def _agents_until(conn: Any, at: float) -> float:
    """Just after the first state stored at or after ``at``: a state counts from the first moment past its start
    (``since < at``)."""
    return _just_after(conn.execute("SELECT MIN(since) FROM agent_states WHERE since >= ?", (at,)).fetchone()[0])


def _queue_figures(
    name: str | None,
    acc: _Contacts,
    hour: _HourCounts,
    extra: list[dict[str, Any]],
    settings: MetricsSettings,
    timeline: _Timeline,
    opening: Sequence[tuple[float, float]],
    at: float,
) -> dict[str, Any]:
    agents = timeline.states(name)
    logged_in: int | None = sum(v for k, v in agents.items() if k != "offline")
    listed = name is None or name in timeline.queues()
    online = [e["agents_online"] for e in extra if e["agents_online"] is not None]
    available = [e["agents_available"] for e in extra if e["agents_available"] is not None]
    if name is not None and not listed and (online or available):
        # A snapshot-only queue: its source says how many agents are online and available, not what the others do;
        # "busy" then holds every online agent who is not available.
        agents = {state: 0 for state in AGENT_STATES}
        agents["available"] = sum(available) if available else 0
        logged_in = sum(online) if online else None
        if logged_in is not None:
            agents["busy"] = max(0, logged_in - agents["available"])
    contact_figures = acc.figures(settings, at, extra)
    contact_figures["occupancy_pct"] = timeline.occupancy(name, at)
    return {
        "contacts": contact_figures,
        "cases": None,
        "agents": agents,
        "satisfaction": None,
        "staffing": _staffing(hour, settings, logged_in),
        "cost_per_contact": None,
        "availability_pct": timeline.availability(name, opening, at),
    }


def cost_per_contact(costs: CostSettings | None, since: float, at: float, answered: int, solved: int) -> float | None:
    """Support cost per contact handled in [since, at): ``period_cost`` × window length / period length, divided
    by contacts answered plus cases solved in the window. Only for "all" (the cost is not split by queue); None
    without a ``[costs] period_cost`` or with nothing handled."""
    if costs is None or costs.period_cost is None or not (answered + solved):
        return None
    return costs.period_cost * (at - since) / PERIOD_S[costs.period] / (answered + solved)


def _staffing(hour: _HourCounts, settings: MetricsSettings, logged_in: int | None) -> dict[str, Any]:
    """Staffing now: arrivals_per_hour = contacts offered in the last 60 min before ``at``; aht_s = mean handle
    time of contacts that ended in those 60 min; agents_needed = the fewest agents meeting the queue's service-level
    target (``service_level_target_pct`` within ``service_level_threshold_s``) under Erlang C for that load (0 with
    no arrivals; for "all", the sum of the queues' needs); agents_logged_in = the queue's agents not offline."""
    arrivals = hour.arrivals
    aht = hour.handle_sum / hour.handle_n if hour.handle_n else None
    needed: int | None = None
    if arrivals == 0:
        needed = 0
    elif aht is not None and aht > 0 and settings.service_level_target_pct < 100:
        needed = _agents_needed(arrivals, aht, settings.service_level_target_pct, settings.service_level_threshold_s)
    return {"arrivals_per_hour": arrivals, "aht_s": aht, "agents_needed": needed, "agents_logged_in": logged_in}


@lru_cache(maxsize=256)
def _agents_needed(arrivals: int, aht_s: float, target_pct: float, threshold_s: float) -> int:
    """Erlang C's agents for the load (remembered: every refresh asks again for each queue, mostly the same)."""
    return erlang.staffing(arrivals, aht_s, target_pct / 100, threshold_s).agents


@dataclass(frozen=True, slots=True)
class _HourCounts:
    """One queue's last hour before ``at`` (``_staffing``): the contacts offered in it (not blocked), and the sum
    and count of the handle times of the answered contacts that ended in it."""

    arrivals: int = 0
    handle_sum: float = 0.0
    handle_n: int = 0


def _contacts(
    conn: Any, p: dict[str, Any], changes: int, memo: ReadMemo | None
) -> tuple[dict[str, _Contacts], dict[str, _HourCounts]]:
    """Every queue's contacts at ``p["at"]``: the window's sums (kept while the contacts are unchanged, ``changes``
    being their write count; see ``_contacts_until``), and the last hour's arrivals and handle times, counted at
    ``at`` from the hour's contacts (``_Hour``). The sums are returned as kept, not copied: neither is changed."""

    def read() -> tuple[dict[str, _Contacts], float]:
        window = _window_contacts(conn, p, changes, memo)
        return window, _contacts_until(conn, p, window)

    key = (changes, p["since"], p["repeat"])
    window = _kept(memo, "contacts", key, p["at"], read)
    hour = _hour(conn, p, changes, memo)
    start, at = p["hour"], p["at"]
    counts: dict[str, _HourCounts] = {}
    for queue in hour.offers.keys() | hour.ends.keys():
        offers = hour.offers.get(queue, [])
        ends, handles = hour.ends.get(queue, ([], []))
        i, j = bisect_left(ends, start), bisect_left(ends, at)
        arrivals = bisect_left(offers, at) - bisect_left(offers, start)
        if arrivals or j > i:  # kept offers and ends all before the hour: a queue not seen in it
            counts[queue] = _HourCounts(arrivals, fsum(handles[i:j]), j - i)
    return window, counts


def _all_contacts(contacts: dict[str, _Contacts], memo: ReadMemo | None) -> _Contacts:
    """Every queue's window sums added up; made again only when the sums were read again (``ReadMemo.derived``)."""

    def merge() -> _Contacts:
        total = _Contacts()
        for acc in contacts.values():
            total.merge(acc)
        return total

    return merge() if memo is None else memo.derived("contacts_all", (contacts,), merge)


@dataclass(frozen=True, slots=True)
class _Hour:
    """The contacts that make the last hour's figures before any moment from ``read_to`` on, until a contact is
    offered or ends after it: per queue, those offered in the hour before ``read_to`` (not blocked), in order of
    offer; and those answered that ended in it, in order of end, with their handle times (ended - answered +
    wrap-up). A read counts its hour from them with two bisections, not two queries."""

    read_to: float
    offers: dict[str, list[float]]
    ends: dict[str, tuple[list[float], list[float]]]


def _hour(conn: Any, p: dict[str, Any], changes: int, memo: ReadMemo | None) -> _Hour:
    """The contacts of the hour before ``p["at"]``, from ``p["hour"]`` (``_Hour``): kept while the contacts are
    unchanged (``changes``, their write count) and none is offered or ends between the moment read and ``at``; after
    a write, those before the earliest time it stored (``Store.written_since``) are kept and only the later ones read,
    as a live source writes the contacts of its last minutes."""
    at, lo = p["at"], p["hour"]
    kept = memo.get("hour", changes, at) if memo is not None else None
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    hour = None
    if memo is not None and (latest := memo.latest("hour")) is not None:
        before, earlier = latest
        written = Store.written_since(conn, "contacts", before, changes)
        if written is not None and at >= earlier.read_to:
            hour = _read_hour(conn, lo, max(lo, min(written, earlier.read_to)), at, earlier)
            memo.extended["hour"] += 1
    if hour is None:
        hour = _read_hour(conn, lo, lo, at, None)
    if memo is not None:
        later = conn.execute(
            "SELECT (SELECT MIN(offered_at) FROM contacts WHERE offered_at >= ?),"
            " (SELECT MIN(ended_at) FROM contacts WHERE ended_at >= ?)",
            (at, at),
        ).fetchone()
        memo.keep("hour", changes, at, min((_just_after(m) for m in later if m is not None), default=math.inf), hour)
    return hour


def _read_hour(conn: Any, lo: float, start: float, at: float, earlier: _Hour | None) -> _Hour:
    """The contacts from ``lo`` up to ``at``: those of ``earlier`` from ``lo`` up to ``start``, and those stored
    from ``start`` read. The lists of ``earlier`` are left as they were."""
    offers: dict[str, list[float]] = {}
    ends: dict[str, tuple[list[float], list[float]]] = {}
    if earlier is not None:
        for queue, times in earlier.offers.items():
            kept = times[bisect_left(times, lo) : bisect_left(times, start)]
            if kept:
                offers[queue] = kept
        for queue, (times, handles) in earlier.ends.items():
            i, j = bisect_left(times, lo), bisect_left(times, start)
            if j > i:
                ends[queue] = (times[i:j], handles[i:j])
    bounds = {"lo": start, "hi": at}
    for queue, offered in conn.execute(
        "SELECT queue, offered_at FROM contacts WHERE offered_at >= :lo AND offered_at < :hi AND blocked = 0"
        " ORDER BY offered_at",
        bounds,
    ):
        offers.setdefault(queue, []).append(offered)
    for ended, queue, handle in conn.execute(_ENDS, bounds):
        times, handles = ends.setdefault(queue, ([], []))
        times.append(ended)
        handles.append(handle)
    return _Hour(at, offers, ends)


#: The contacts' window is counted in two parts, split at the UTC hour an hour before the hour of ``at``: those
#: offered (for handle time: ended) before the split, kept from read to read while no write reaches back before it
#: (``Store.written_since``), and those after it, counted on every read. A live source writes the contacts of the
#: last minutes, so after its commits a read counts an hour or two of contacts instead of the whole day.
SPLIT_S = 3600.0


def contacts_split(since: float, at: float) -> float:
    """Where the window [since, at) is split (``SPLIT_S``): the UTC hour one hour before the hour of ``at``."""
    return max(since, math.floor(at / SPLIT_S) * SPLIT_S - SPLIT_S)


def _window_contacts(conn: Any, p: dict[str, Any], changes: int, memo: ReadMemo | None) -> dict[str, _Contacts]:
    """The window's sums and the contacts waiting at ``at``: those before the split (kept while they hold, see
    ``contacts_split``) added to those after it (``_recent_contacts``), in that order, so a kept and a fresh read add
    up alike. ``changes``: the contacts' write count (``Store.changes``)."""
    split = contacts_split(p["since"], p["at"])
    before = _contacts_before(conn, p, split, changes, memo)
    after: dict[str, _Contacts] = defaultdict(_Contacts)
    recent = _recent_contacts(conn, p, split, changes, memo)
    _add_offers(after, recent.offers, p["at"])
    _add_ends(after, recent.ends)
    window: dict[str, _Contacts] = defaultdict(_Contacts)
    for part in (before, after):
        for queue, acc in part.items():
            window[queue].merge(acc)
    for queue, count, oldest in conn.execute(_WAITING, p):
        window[queue].waiting = count
        window[queue].oldest_waiting = oldest
    for acc in window.values():
        # Sorted once as read: every read's figures take percentiles of the kept waits, and sorting a sorted list
        # (or the queues' sorted lists joined, for all queues) is about one pass.
        acc.waits_answered.sort()
        acc.waits_abandoned.sort()
    return dict(window)


#: Who waits at ``at``, per queue: offered in the 24 h before it, not blocked, and neither answered, abandoned nor
#: ended before it. Those with none of these yet are read from the index of contacts still open; those with one at or
#: after ``at`` (a rewound board) from the indexes of each: a scan of the 24 h of contacts cost a read after each
#: write more than any other query.
_WAITING_AT = """offered_at >= :horizon AND offered_at < :at AND blocked = 0
    AND (answered_at IS NULL OR answered_at >= :at) AND (abandoned_at IS NULL OR abandoned_at >= :at)
    AND (ended_at IS NULL OR ended_at >= :at)"""
_WAITING = f"""
SELECT queue, COUNT(*), MIN(offered_at) FROM (
    SELECT queue, offered_at FROM contacts INDEXED BY contacts_waiting
    WHERE answered_at IS NULL AND abandoned_at IS NULL AND ended_at IS NULL AND blocked = 0
      AND offered_at >= :horizon AND offered_at < :at
    UNION ALL
    SELECT queue, offered_at FROM (
        SELECT source, id, queue, offered_at FROM contacts INDEXED BY contacts_answered
        WHERE answered_at >= :at AND {_WAITING_AT}
        UNION
        SELECT source, id, queue, offered_at FROM contacts INDEXED BY contacts_abandoned
        WHERE abandoned_at >= :at AND {_WAITING_AT}
        UNION
        SELECT source, id, queue, offered_at FROM contacts INDEXED BY contacts_ended
        WHERE ended_at >= :at AND {_WAITING_AT}
    )
) GROUP BY queue"""


def _contacts_before(
    conn: Any, p: dict[str, Any], split: float, changes: int, memo: ReadMemo | None
) -> dict[str, _Contacts]:
    """The sums of the contacts offered (handle time: ended) in [since, split): kept in ``memo`` while no write of
    contacts since reached back before ``split`` and no answer or abandon of theirs falls between the kept read's
    moment and ``at``. Neither part nor value is changed once kept."""
    key = (split, p["since"], p["repeat"])
    if memo is not None and (latest := memo.latest("contacts_before")) is not None and latest[0] == key:
        seen, at, until, part = latest[1]
        written = Store.written_since(conn, "contacts", seen, changes)
        if written is not None and written >= split and at <= p["at"] < until:
            memo.keep("contacts_before", key, at, until, (changes, at, until, part))
            memo.hits["contacts_before"] += 1
            return part  # type: ignore[no-any-return]
    part_read: dict[str, _Contacts] = defaultdict(_Contacts)
    _read_window_contacts(conn, p, part_read, p["since"], split)
    value = dict(part_read)
    if memo is None:
        return value
    moments = conn.execute(
        """SELECT MIN(CASE WHEN answered_at >= :at THEN answered_at END),
                  MIN(CASE WHEN abandoned_at >= :at THEN abandoned_at END)
           FROM contacts WHERE offered_at >= :lo AND offered_at < :hi""",
        {"at": p["at"], "lo": p["since"], "hi": split},
    ).fetchone()
    until = min((_just_after(moment) for moment in moments if moment is not None), default=math.inf)
    memo.keep("contacts_before", key, p["at"], until, (changes, p["at"], until, value))
    return value


#: The contacts offered in [lo, hi) as the window's sums need them, in order of offer: offered_at, queue, channel,
#: blocked, answered_at, abandoned_at, and whether it repeats (``repeat_contacts``: another contact of its customer
#: offered in the ``:repeat`` seconds before it). Rows, not sums: the contacts after the split are kept as read and
#: only those a write can have changed are read again (``_recent_contacts``).
_OFFERS = """
SELECT c.offered_at, c.queue, c.channel, c.blocked != 0, c.answered_at, c.abandoned_at,
       c.blocked = 0 AND c.customer IS NOT NULL
       AND EXISTS (SELECT 1 FROM contacts b WHERE b.customer = c.customer
                   AND b.offered_at >= c.offered_at - :repeat AND b.offered_at < c.offered_at)
FROM contacts c WHERE c.offered_at >= :lo AND c.offered_at < :hi ORDER BY c.offered_at"""
#: The answered contacts (not blocked) that ended in [lo, hi), in order of end: ended_at, queue, handle time (the
#: window's handle time, and the last hour's for staffing, ``_read_hour``).
_ENDS = """
SELECT ended_at, queue, ended_at - answered_at + COALESCE(wrap_up_s, 0) FROM contacts
WHERE ended_at >= :lo AND ended_at < :hi AND answered_at <= ended_at AND blocked = 0 ORDER BY ended_at"""


def _read_window_contacts(conn: Any, p: dict[str, Any], contacts: dict[str, _Contacts], lo: float, hi: float) -> None:
    """The window's sums over the contacts offered in [lo, hi) (handle time: ended in [lo, hi)), outcomes before
    ``at``; [since, at) is the whole window. Not who waits (``_window_contacts``)."""
    q = {"lo": lo, "hi": hi, "repeat": p["repeat"]}
    _add_offers(contacts, conn.execute(_OFFERS, q), p["at"])
    _add_ends(contacts, conn.execute(_ENDS, q))


def _add_offers(contacts: dict[str, _Contacts], rows: Iterable[Sequence[Any]], at: float) -> None:
    """Add contacts (``_OFFERS`` rows) to each queue's sums: offered or blocked, by channel, repeat, and the wait of
    those answered (else abandoned) before ``at``."""
    for offered, queue, channel, blocked, answered, abandoned, repeat in rows:
        acc = contacts[queue]
        if blocked:
            acc.blocked += 1
            continue
        acc.offered += 1
        acc.by_channel[channel] += 1
        acc.repeat += repeat
        if answered is not None and answered < at:
            acc.waits_answered.append(answered - offered)
        elif abandoned is not None and abandoned < at:
            acc.waits_abandoned.append(abandoned - offered)


def _add_ends(contacts: dict[str, _Contacts], rows: Iterable[Sequence[Any]]) -> None:
    """Set each queue's handle time sum and count from ``_ENDS`` rows (fsum: the same sum in any order)."""
    handles: dict[str, list[float]] = defaultdict(list)
    for _, queue, handle in rows:
        handles[queue].append(handle)
    for queue, times in handles.items():
        acc = contacts[queue]
        acc.handle_sum, acc.handle_n = fsum(times), len(times)


@dataclass(frozen=True, slots=True)
class _Recent:
    """The contacts after the split as read: offered (``_OFFERS`` rows) and ended (``_ENDS`` rows) in [lo,
    ``read_to``), each in order of time. Neither list is changed once kept."""

    lo: float
    read_to: float
    offers: list[tuple[Any, ...]]
    ends: list[tuple[Any, ...]]


def _recent_contacts(conn: Any, p: dict[str, Any], lo: float, changes: int, memo: ReadMemo | None) -> _Recent:
    """The contacts offered or ended from ``lo`` (the split) up to ``at``. The rows kept from the board's last read
    are brought up to date: those from the earliest time the writes since stored (``Store.written_since``: an offer
    or end, as written and as it was), or from the moment last read up to, are read again; the earlier ones are
    kept, as no write since changed them (nor, being after them, whether they repeat). A live source writes the
    contacts of its last minutes, so a read after its commit reads minutes of contacts instead of an hour or two."""
    at, start = p["at"], lo
    offers: list[tuple[Any, ...]] = []
    ends: list[tuple[Any, ...]] = []
    if memo is not None and (latest := memo.latest("contacts_recent")) is not None:
        (before, repeat), kept = latest
        written = Store.written_since(conn, "contacts", before, changes)
        if written is not None and repeat == p["repeat"] and kept.lo <= lo and kept.read_to <= at:
            start = max(lo, min(written, kept.read_to))
            first = itemgetter(0)
            offers = kept.offers[bisect_left(kept.offers, lo, key=first) : bisect_left(kept.offers, start, key=first)]
            ends = kept.ends[bisect_left(kept.ends, lo, key=first) : bisect_left(kept.ends, start, key=first)]
            memo.extended["contacts_recent"] += 1
    q = {"lo": start, "hi": at, "repeat": p["repeat"]}
    recent = _Recent(lo, at, offers + conn.execute(_OFFERS, q).fetchall(), ends + conn.execute(_ENDS, q).fetchall())
    if memo is not None:
        memo.keep("contacts_recent", (changes, p["repeat"]), at, math.inf, recent)
    return recent


#: The stored moments after ``at`` that can change the window's sums (``_contacts_until``): a later offer, end,
#: answer or abandon. Of any contact, not only of those offered in the window or the 24 h of contacts waiting: one
#: seek in each index rather than a scan of the window; a contact offered before both and answered after ``at``
#: only makes the window be read again sooner.
_CONTACTS_LATER = """
SELECT (SELECT MIN(offered_at) FROM contacts WHERE offered_at >= :at),
       (SELECT MIN(ended_at) FROM contacts WHERE ended_at >= :at),
       (SELECT MIN(answered_at) FROM contacts WHERE answered_at >= :at),
       (SELECT MIN(abandoned_at) FROM contacts WHERE abandoned_at >= :at)
"""


def _contacts_until(conn: Any, p: dict[str, Any], window: dict[str, _Contacts]) -> float:
    """The first moment after ``p["at"]`` at which the window's sums can differ, with the contacts as they are: just
    after the next stored offer, answer, abandon or end (each counts from the first moment past it), or when the
    oldest contact waiting leaves the 24 h in which contacts count as waiting."""
    moments = conn.execute(_CONTACTS_LATER, p).fetchone()
    later = [_just_after(moment) for moment in moments if moment is not None]
    oldest = [acc.oldest_waiting for acc in window.values() if acc.oldest_waiting is not None]
    if oldest:
        later.append(min(oldest) + MAX_WAIT_S - HORIZON_MARGIN_S)
    return min(later, default=math.inf)


def _cases_window(
    conn: Any, p: dict[str, Any], calendar: BusinessCalendar, changes: int, memo: ReadMemo | None
) -> dict[str, _Cases]:
    """The cases created, solved and first replied to in the window, per queue; kept while the cases are unchanged
    (``changes``, their write count) and no such moment is stored between the moment read and ``at``."""

    def read() -> tuple[dict[str, _Cases], float]:
        window: dict[str, _Cases] = defaultdict(_Cases)
        _read_cases(conn, p, window, calendar)
        later = conn.execute(_CASES_LATER, p).fetchone()
        return dict(window), min((_just_after(moment) for moment in later if moment is not None), default=math.inf)

    return _kept(memo, "cases", (changes, p["since"], calendar), p["at"], read)


_CASES_LATER = """
SELECT (SELECT MIN(created_at) FROM cases WHERE created_at >= :at),
       (SELECT MIN(solved_at) FROM cases WHERE solved_at >= :at),
       (SELECT MIN(first_reply_at) FROM cases WHERE first_reply_at >= :at)
"""


def _read_cases(conn: Any, p: dict[str, Any], cases: dict[str, _Cases], calendar: BusinessCalendar) -> None:
    """Read the case figures per queue; "all" is added up from the queues afterwards."""
    for queue, count, solved in conn.execute(
        """SELECT queue, COUNT(*), SUM(solved_at IS NOT NULL AND solved_at < :at) FROM cases
           WHERE created_at >= :since AND created_at < :at AND status != 'deleted' GROUP BY queue""",
        p,
    ):
        acc = cases[queue]
        acc.created += count
        acc.created_solved += solved
    for queue, duration, replies, reopens in conn.execute(
        """SELECT queue, solved_at - created_at, agent_replies, reopens FROM cases
           WHERE solved_at >= :since AND solved_at < :at AND status != 'deleted'""",
        p,
    ):
        acc = cases[queue]
        acc.solved += 1
        acc.resolution.append(duration)
        if replies is not None:
            acc.fcr_known += 1
            acc.fcr_yes += replies <= 1 and not reopens
        acc.reopened += bool(reopens)
    between = calendar.seconds_cached
    for queue, created, first_reply in conn.execute(
        """SELECT queue, created_at, first_reply_at FROM cases
           WHERE first_reply_at >= :since AND first_reply_at < :at AND status != 'deleted'""",
        p,
    ):
        acc = cases[queue]
        acc.first_reply.append(first_reply - created)
        acc.first_reply_business.append(between(created, first_reply))


# -- the backlog ----------------------------------------------------------------------------------------------------
#
# The backlog at ``at`` is the open cases created before it (an index of open cases) plus the cases solved or closed
# at or after ``at`` (a range of the solved-at index; empty unless the board is rewound). Its figures are counted by
# SQLite rather than case by case in Python: counts by status, priority and channel, and by assignee, are read in
# index order (no sort); ages and SLA states are ranges of creation time per queue and priority, because every
# figure of a case is a monotone function of its creation time: a case's age falls as it is created later, and a due
# time (created + target, in calendar or business time) rises. ``_Cutoffs`` turns each boundary into the last
# creation time on its side, found by bisection with the very float arithmetic of the definitions, so the counts
# equal a case-by-case evaluation exactly.

#: Open, as the partial indexes of migration 3 spell it (a query must repeat it to use them).
_OPEN = "(status = 'new' OR status = 'open' OR status = 'pending' OR status = 'on_hold')"
_BACKLOG_COUNTS = f"""
SELECT queue, status, priority, channel, COUNT(*) FROM cases INDEXED BY cases_open_counts
WHERE {_OPEN} AND created_at < :at GROUP BY queue, status, priority, channel"""
_BACKLOG_ASSIGNEES = f"""
SELECT queue, assignee, COUNT(*) FROM cases INDEXED BY cases_open_assignee
WHERE {_OPEN} AND created_at < :at GROUP BY queue, assignee"""
_QUEUE_COUNTS = f"""
SELECT status, priority, channel, COUNT(*) FROM cases INDEXED BY cases_open_counts
WHERE {_OPEN} AND queue = :queue AND created_at < :at GROUP BY status, priority, channel"""
_QUEUE_ASSIGNEES = f"""
SELECT assignee, COUNT(*) FROM cases INDEXED BY cases_open_assignee
WHERE {_OPEN} AND queue = :queue AND created_at < :at GROUP BY assignee"""
_BACKLOG_OLDEST = f"""
SELECT MIN(created_at) FROM cases INDEXED BY cases_open_cover WHERE status IN {OPEN_SQL} AND created_at < :at"""
#: Cases open at ``at`` that are solved or closed now: counted as "open", one by one (few, and only when rewound).
_BACKLOG_SOLVED_LATER = f"""
SELECT queue, priority, channel, assignee, created_at, first_reply_at, solved_at FROM cases
WHERE solved_at >= :at AND created_at < :at AND status NOT IN {OPEN_SQL} AND status != 'deleted'"""
#: Moments after ``at`` already in the cache that change the backlog when ``at`` reaches them: a case created later
#: joins it, an open case replied to later stops counting against its first-reply target.
_BACKLOG_CREATED_LATER = "SELECT MIN(created_at) FROM cases WHERE created_at >= :at AND status != 'deleted'"
_BACKLOG_LATER = f"""
SELECT ({_BACKLOG_CREATED_LATER}), (SELECT MIN(first_reply_at) FROM cases WHERE first_reply_at >= :at AND {_OPEN})"""


def _in_range(select: str, bounds: str, replied: str = "", order: str = "") -> str:
    # One queue and priority of the open cases created in (low, high]: one range of cases_open_sla. Each bound is a
    # single term (the cutoffs are at most :last, the last moment before ``at``) so that SQLite stops at the high one.
    return f"""({select} FROM cases INDEXED BY cases_open_sla WHERE {_OPEN} AND queue = :queue
        AND priority = :priority AND {bounds} {replied} {order})"""


#: The first case of a range by creation time.
_FIRST = "ORDER BY created_at LIMIT 1"
#: Not replied to before ``at``: the first-reply target still applies.
_UNREPLIED = "AND (first_reply_at IS NULL OR first_reply_at >= :at)"
_BACKLOG_AGES = (
    _in_range("SELECT MIN(created_at)", "created_at <= :last"),
    _in_range("SELECT COUNT(*)", "created_at > :under_1h AND created_at <= :last"),
    _in_range("SELECT COUNT(*)", "created_at > :under_4h AND created_at <= :under_1h"),
    _in_range("SELECT COUNT(*)", "created_at > :under_24h AND created_at <= :under_4h"),
)
_BACKLOG_SLA = (
    # breached = created ≤ the resolution cutoff, or not replied to and created ≤ the first-reply cutoff
    _in_range("SELECT COUNT(*)", "created_at <= :breached_res"),
    _in_range("SELECT COUNT(*)", "created_at > :breached_res AND created_at <= :breached_first", _UNREPLIED),
    # breached or at risk: the same with the at-risk cutoffs (each at least the breached one)
    _in_range("SELECT COUNT(*)", "created_at > :breached_res AND created_at <= :near_res"),
    _in_range("SELECT COUNT(*)", "created_at > :near_res AND created_at <= :near_first", _UNREPLIED),
    # the earliest created of the cases not breached (their resolution is due soonest), and of those among them
    # not replied to (first reply due soonest); a priority without that target searches the empty (last, last]
    _in_range(
        "SELECT created_at",
        "created_at > :unbreached_res_after AND created_at <= :last",
        "AND NOT (created_at <= :breached_first AND (first_reply_at IS NULL OR first_reply_at >= :at))",
        _FIRST,
    ),
    _in_range("SELECT created_at", "created_at > :unbreached_first_after AND created_at <= :last", _UNREPLIED, _FIRST),
)
#: The earliest created case beyond each age cutoff: the next to change bucket (its horizon, ``ReadMemo``).
_BACKLOG_NEXT_AGES = tuple(
    _in_range("SELECT created_at", f"created_at > :{low} AND created_at <= :{high}", order=_FIRST)
    for low, high in (("under_1h", "last"), ("under_4h", "under_1h"), ("under_24h", "under_4h"))
)
#: The earliest created case not yet at risk of its resolution target, and of its first-reply target.
_BACKLOG_NEXT_NEAR = (
    _in_range("SELECT created_at", "created_at > :near_res AND created_at <= :last", order=_FIRST),
    _in_range("SELECT created_at", "created_at > :near_first AND created_at <= :last", _UNREPLIED, _FIRST),
)
#: Per queue and priority: the oldest case, the age buckets, then (priorities with a target) the SLA states; then the
#: next case to cross each age cutoff and (with a target) each at-risk cutoff.
_BACKLOG_RANGES = {
    sla: "SELECT "
    + ",\n".join(
        _BACKLOG_AGES + (_BACKLOG_SLA if sla else ()) + _BACKLOG_NEXT_AGES + (_BACKLOG_NEXT_NEAR if sla else ())
    )
    for sla in (False, True)
}


def _last_true(holds: Callable[[float], bool], lo: float, hi: float) -> float:
    """The largest float x in [lo, hi] for which ``holds(x)``, given that it holds up to some point and not after
    it; -inf when it does not hold at ``lo``. Bisection on floats: about 40 steps for a span of days."""
    if not holds(lo):
        return -math.inf
    if holds(hi):
        return hi
    while True:  # holds(lo), not holds(hi)
        mid = lo + (hi - lo) / 2
        if mid <= lo or mid >= hi:
            return lo
        if holds(mid):
            lo = mid
        else:
            hi = mid


class _Target:
    """One SLA target of a priority: when a case created at ``created`` is due (None: never)."""

    __slots__ = ("calendar", "seconds")

    def __init__(self, seconds: float, calendar: BusinessCalendar | None) -> None:
        self.seconds = seconds
        self.calendar = calendar

    def due(self, created: float, *, cached: bool = True) -> float | None:
        """``cached``: remembered across refreshes (a case's due time); the cutoff searches ask about passing
        moments and would only crowd that cache."""
        if self.calendar is None:
            return created + self.seconds
        add = self.calendar.add_cached if cached else self.calendar.add
        return add(created, self.seconds)


class _Cutoffs:
    """The creation times that divide the open cases at ``at`` into age buckets and, for each priority with an SLA
    target, breached / at risk / neither (see ``_Cases.figures``). Exact for creation times in [``lo``, ``at``]."""

    def __init__(self, settings: MetricsSettings, calendar: BusinessCalendar, at: float, lo: float) -> None:
        #: The last moment before ``at``: the latest creation time in the backlog, and the top of every cutoff.
        self.last = math.nextafter(at, -math.inf)
        self.at, self.lo = at, lo
        self.risk_s = settings.sla_at_risk_min * 60
        # A case of age exactly 1 h is in "1h_to_4h": under_1h is created after the last creation time aged ≥ 1 h.
        self.under_1h, self.under_4h, self.under_24h = (
            _last_true(lambda c, edge=edge: at - c >= edge, lo, self.last) for edge in (3600, 4 * 3600, 86400)
        )
        self.targets: dict[str, tuple[_Target | None, _Target | None]] = {}
        for priority, t in settings.sla.items():
            business = calendar if t.business_hours else None
            first = None if t.first_reply_min is None else _Target(t.first_reply_min * 60, business)
            resolution = None if t.resolution_min is None else _Target(t.resolution_min * 60, business)
            if first is not None or resolution is not None:
                self.targets[priority] = (first, resolution)
        self._sla: dict[str, dict[str, float]] = {}

    def _last(self, holds: Callable[[float], bool]) -> float:
        return _last_true(holds, self.lo, self.last)

    def age_bucket(self, created: float) -> str:
        if created > self.under_1h:
            return "under_1h"
        if created > self.under_4h:
            return "1h_to_4h"
        return "4h_to_24h" if created > self.under_24h else "over_24h"

    def sla(self, priority: str) -> dict[str, float]:
        """The cutoffs of one priority: breached_first / breached_res (due at or before ``at``) and near_first /
        near_res (due within the at-risk time, or breached); -inf where the priority has no such target."""
        if priority not in self._sla:
            first, resolution = self.targets.get(priority, (None, None))
            cut = {}
            for name, target in (("first", first), ("res", resolution)):
                breached = near = -math.inf
                if target is not None:
                    breached = self._last(lambda c, t=target: _due_within(t.due(c, cached=False), self.at, 0.0))
                    near = self._last(lambda c, t=target: _due_within(t.due(c, cached=False), self.at, self.risk_s))
                cut[f"breached_{name}"], cut[f"near_{name}"] = breached, max(breached, near)
            cut["unbreached_res_after"] = cut["breached_res"] if resolution is not None else self.last
            cut["unbreached_first_after"] = (
                max(cut["breached_first"], cut["breached_res"]) if first is not None else self.last
            )
            self._sla[priority] = cut
        return self._sla[priority]

    def next_due(self, priority: str, created_res: float | None, created_first: float | None) -> float | None:
        """The moment the soonest target is due, given the earliest creation times of the cases not breached
        (``created_res``) and of those among them not replied to (``created_first``)."""
        first, resolution = self.targets.get(priority, (None, None))
        soonest = None
        for target, created in ((resolution, created_res), (first, created_first)):
            due = None if target is None or created is None else target.due(created)
            if due is not None and (soonest is None or due < soonest):
                soonest = due
        return soonest

    def next_changes(
        self, priority: str, created: Sequence[float | None], near_res: float | None, near_first: float | None
    ) -> list[float]:
        """Moments after ``at`` at which a case of ``priority`` changes bucket or SLA state, given the earliest
        creation time beyond each age cutoff (``created``, youngest bucket first) and beyond each at-risk cutoff."""
        moments = [c + edge for c, (_, edge) in zip(created, AGE_BUCKETS, strict=False) if c is not None]
        first, resolution = self.targets.get(priority, (None, None))
        for target, c in ((resolution, near_res), (first, near_first)):
            due = None if target is None or c is None else target.due(c)
            if due is not None:
                moments.append(due - self.risk_s)
        return moments

    def case_changes(self, priority: str, created: float, unreplied: bool) -> list[float]:
        """Moments after ``at`` at which one case changes bucket or SLA state."""
        moments = [created + edge for _, edge in AGE_BUCKETS[:-1]]
        first, resolution = self.targets.get(priority, (None, None))
        for target in (resolution, first if unreplied else None):
            due = None if target is None else target.due(created)
            if due is not None:
                moments += [due, due - self.risk_s]
        return [moment for moment in moments if moment > self.at]


def _due_within(due: float | None, at: float, seconds: float) -> bool:
    # A case is breached when its target is due at or before ``at``, at risk when due at most ``seconds`` after it.
    return due is not None and due - at <= seconds


#: How much earlier than a moment at which a kept part changes it stops being used: float rounding of the moments
#: worked out from stored times (``ReadMemo``).
HORIZON_MARGIN_S = 0.001


_T = TypeVar("_T")


class ReadMemo:
    """What a board keeps from one read to the next (``compute(memo=…)``), so that a read, most often caused by a
    commit that wrote nothing it uses, counts again only what can have changed.

    Each kept *part* of a read (the backlog, the contacts' window sums, the agents' timeline) is a function of its
    table, of a few settings and of the moment ``at``. It is kept with a *key* (the table's write count,
    ``Store.changes``, and what else it depends on) and the moments [``at``, *until*) over which, with the table as
    it is, it stays the same; *until* is worked out when the part is read, from the stored times after ``at``. A read
    with the same key at a moment in that span reuses the part; a write to the table, other settings or a moment
    outside it (a rewound board) read it again.

    The backlog is kept in two parts (``_backlog``). Its counts ("open_cases") hold until a case created later joins
    or a case solved later leaves. Its ages and SLA states ("backlog") hold until, besides those, an open case
    reaches an age-bucket edge, an SLA target or its at-risk time, or a case replied to later stops counting against
    its first-reply target (``_read_backlog_times``); the oldest age and the time to the next breach are worked out
    from ``at``. Counting the backlog was most of a refresh with 10,000 open cases. When a case crosses an edge, only
    its queue and priority are counted again; after a write to the cases, only the queues it touched
    (``_open_cases``).

    The contacts' window sums are kept whole while the contacts are unchanged; after a write, the sums of the
    contacts before the split an hour or two back ("contacts_before", ``contacts_split``) are kept while no write
    reached back before it, and only the contacts after it are counted again, from their rows as kept
    ("contacts_recent"), of which only those the write can have changed are read again. The last hour's contacts
    ("hour", ``_Hour``) and the agents' timeline ("agents") are brought up to date after a write: only what it can
    have changed is read.

    What is made from kept parts (the cases of each queue added up, the contacts of all queues) is kept too, and made
    again only when a part was read again (``derived``); so are the figures of kept sums that hold at every moment
    (``_Contacts.figures``, ``_Cases.figures``).
    """

    __slots__ = ("_derived", "_parts", "extended", "hits")

    def __init__(self) -> None:
        self._parts: dict[str, tuple[Any, float, float, Any]] = {}
        self._derived: dict[str, tuple[tuple[Any, ...], Any]] = {}
        #: Reads that reused each part.
        self.hits: Counter[str] = Counter()
        #: Reads that brought a kept part up to date rather than read it again (``latest``).
        self.extended: Counter[str] = Counter()

    def until(self, part: str) -> float:
        """The moment from which the kept ``part`` is read again (-inf: none kept)."""
        kept = self._parts.get(part)
        return -math.inf if kept is None else kept[2]

    def get(self, part: str, key: Any, at: float) -> Any:
        """The kept ``part`` if it holds for ``key`` at ``at``, else None."""
        kept = self._parts.get(part)
        if kept is not None and kept[0] == key and kept[1] <= at < kept[2]:
            self.hits[part] += 1
            return kept[3]
        return None

    def keep(self, part: str, key: Any, at: float, until: float, value: Any) -> None:
        self._parts[part] = (key, at, until, value)

    def derived(self, name: str, sources: tuple[Any, ...], make: Callable[[], _T]) -> _T:
        """``make()``, a value made from kept parts (``sources``), made again only when one of them is not the very
        object it was made from. Neither the parts nor the value may be changed once made."""
        kept = self._derived.get(name)
        if (
            kept is not None
            and len(kept[0]) == len(sources)
            and all(a is b for a, b in zip(kept[0], sources, strict=True))
        ):
            return kept[1]  # type: ignore[no-any-return]
        value = make()
        self._derived[name] = (sources, value)
        return value

    def latest(self, part: str) -> tuple[Any, Any] | None:
        """The key and value last kept of ``part``, whether or not it holds now (a part that can be brought up to
        date, rather than read again: the agents' timeline)."""
        kept = self._parts.get(part)
        return None if kept is None else (kept[0], kept[3])


def _kept(memo: ReadMemo | None, part: str, key: Any, at: float, read: Callable[[], tuple[_T, float]]) -> _T:
    """``part`` from ``memo`` when it holds at ``at``, else ``read()`` (the part, and its *until*) and kept."""
    if memo is not None:
        value = memo.get(part, key, at)
        if value is not None:
            return value  # type: ignore[no-any-return]
    value, until = read()
    if memo is not None:
        memo.keep(part, key, at, until, value)
    return value


def _backlog(
    conn: Any, at: float, settings: MetricsSettings, calendar: BusinessCalendar, changes: int, memo: ReadMemo | None
) -> tuple[dict[str, _Cases], dict[str, _Cases]]:
    """The backlog at ``at`` per queue in two parts, kept apart (``ReadMemo``): its counts, which change only when a
    case is written, created or solved; and its ages and SLA states, which change as open cases age. As a case
    crosses an age edge or a target, every few seconds with thousands open, only its queue and priority are counted
    again (``_read_backlog_times``), rather than the whole backlog. ``changes``: the cases' write count."""
    counts = _open_cases(conn, at, changes, memo)
    key = (changes, settings)
    earlier: _BacklogTimes | None = None
    if memo is not None and (latest := memo.latest("backlog")) is not None and latest[0][1] == settings:
        earlier = latest[1]  # its counts are these, or those these were counted again from (``_read_backlog_times``)

    def read_times() -> tuple[_BacklogTimes, float]:
        times = _read_backlog_times(conn, at, settings, calendar, counts, earlier)
        if memo is not None and times.reused:
            memo.extended["backlog"] += 1
        return times, times.until - HORIZON_MARGIN_S

    return counts.cases, _kept(memo, "backlog", key, at, read_times).cases


#: Numbers each ``_OpenCases`` made: counts taken from earlier ones name those by number, not by reference, which
#: would keep every earlier count alive in a chain as long as the board runs.
_open_cases_made = itertools.count()


@dataclass(frozen=True, slots=True)
class _OpenCases:
    """The backlog's counts at a moment (``_Cases``: open, by status, priority, channel and assignee), and what its
    ages and SLA states are counted from: the open cases per queue and priority, those solved since (rewound), and
    the earliest creation time among them.

    ``made``: which counts these are (a number of their own); ``base``: the counts these were counted again from,
    after writes that touched only the queues in ``touched`` (None: every case was counted)."""

    cases: dict[str, _Cases]
    pairs: Counter[tuple[str, str]]
    solved_later: list[tuple[Any, ...]]
    oldest: float | None
    at: float
    made: int = field(default_factory=lambda: next(_open_cases_made))
    base: int | None = None
    touched: frozenset[str] = frozenset()


def _open_cases(conn: Any, at: float, changes: int, memo: ReadMemo | None) -> _OpenCases:
    """The backlog's counts at ``at`` (``_read_open_cases``); kept while the cases are unchanged (``changes``, their
    write count) up to its *until*. After writes, when the kept counts still held at ``at`` but for them, only the
    queues the writes touched are counted again (``Store.keys_written_since``)."""
    if memo is not None:
        counts = memo.get("open_cases", changes, at)
        if counts is not None:
            return counts  # type: ignore[no-any-return]
        kept = memo.latest("open_cases")
        if kept is not None and kept[1].at <= at < memo.until("open_cases"):
            touched = Store.keys_written_since(conn, "cases", kept[0], changes)
            if touched is not None:
                counts, until = _read_open_cases(conn, at, kept[1], frozenset(touched))
                memo.keep("open_cases", changes, at, until, counts)
                memo.extended["open_cases"] += 1
                return counts
    counts, until = _read_open_cases(conn, at)
    if memo is not None:
        memo.keep("open_cases", changes, at, until, counts)
    return counts


def _read_open_cases(
    conn: Any, at: float, earlier: _OpenCases | None = None, touched: frozenset[str] = frozenset()
) -> tuple[_OpenCases, float]:
    """The backlog's counts at ``at``, and the moment (less HORIZON_MARGIN_S) from which they can differ: a case
    created later joins, a case solved later leaves.

    ``earlier``: counts that hold at ``at`` for every queue but those in ``touched``: theirs are taken as they are
    (the same objects, never changed once made), and only the touched queues are counted."""
    p = {"at": at}
    cases: dict[str, _Cases] = defaultdict(_Cases)
    pairs: Counter[tuple[str, str]] = Counter()
    if earlier is None:
        rows = conn.execute(_BACKLOG_COUNTS, p).fetchall()
        assignees = conn.execute(_BACKLOG_ASSIGNEES, p).fetchall()
    else:
        cases.update((queue, acc) for queue, acc in earlier.cases.items() if queue not in touched)
        pairs.update({pair: n for pair, n in earlier.pairs.items() if pair[0] not in touched})
        rows, assignees = [], []
        for queue in sorted(touched):
            rows += [(queue, *row) for row in conn.execute(_QUEUE_COUNTS, {"at": at, "queue": queue})]
            assignees += [(queue, *row) for row in conn.execute(_QUEUE_ASSIGNEES, {"at": at, "queue": queue})]
    for queue, status, priority, channel, count in rows:
        acc = cases[queue]
        acc.open += count
        acc.by_status[status] += count
        acc.by_priority[priority] += count
        acc.by_channel[channel or UNKNOWN] += count
        pairs[queue, priority] += count
    for queue, assignee, count in assignees:
        cases[queue].by_assignee[assignee or UNASSIGNED] += count
    solved_later = conn.execute(_BACKLOG_SOLVED_LATER, p).fetchall()
    for queue, priority, channel, assignee, *_ in solved_later:
        if earlier is not None and queue not in touched:
            continue  # counted in the kept counts of its queue
        acc = cases[queue]
        acc.open += 1
        acc.by_status["open"] += 1
        acc.by_priority[priority] += 1
        acc.by_channel[channel or UNKNOWN] += 1
        acc.by_assignee[assignee or UNASSIGNED] += 1
    created_later = conn.execute(_BACKLOG_CREATED_LATER, p).fetchone()[0]
    moments = [row[6] for row in solved_later] + ([created_later] if created_later is not None else [])
    oldest = conn.execute(_BACKLOG_OLDEST, p).fetchone()[0] if pairs else None
    oldest = min((c for c in (oldest, *(row[4] for row in solved_later)) if c is not None), default=None)
    until = min(moments, default=math.inf) - HORIZON_MARGIN_S
    base = None if earlier is None else earlier.made
    return _OpenCases(dict(cases), pairs, solved_later, oldest, at, base=base, touched=touched), until


@dataclass(frozen=True, slots=True)
class _BacklogTimes:
    """The backlog's ages and SLA states per queue at ``at``, and what they were added up from: for each queue and
    priority its range counts (a row of ``_BACKLOG_RANGES``) and the first moment they can change, a case of that
    pair crossing an age edge, a target or its at-risk time. ``until``: the first moment any of it can change,
    ``shared_until`` the first that is not one pair's (a case created or replied to later, or solved later)."""

    cases: dict[str, _Cases]
    at: float
    counts: _OpenCases
    pairs: dict[tuple[str, str], tuple[tuple[Any, ...], float]]
    shared_until: float
    until: float
    #: How many pairs' counts were taken from an earlier read.
    reused: int = 0


def _read_backlog_times(
    conn: Any,
    at: float,
    settings: MetricsSettings,
    calendar: BusinessCalendar,
    counts: _OpenCases,
    earlier: _BacklogTimes | None = None,
) -> _BacklogTimes:
    """The backlog's ages and SLA states per queue at ``at`` (see ``_Cases.figures``), given its counts at ``at``,
    and the first moment after ``at`` at which they change with the cases as they are (``ReadMemo``; inf: never).

    ``earlier``: the same backlog read at an earlier moment, with the cases as they are now; a queue and priority
    whose counts hold at ``at`` is not counted again."""
    cases: dict[str, _Cases] = defaultdict(_Cases)
    shared = [c for c in conn.execute(_BACKLOG_LATER, {"at": at}).fetchone() if c is not None]
    kept_pairs: dict[tuple[str, str], tuple[tuple[Any, ...], float]] = {}
    if earlier is not None and earlier.at <= at < earlier.shared_until - HORIZON_MARGIN_S:
        if earlier.counts is counts:
            kept_pairs = earlier.pairs
        elif counts.base == earlier.counts.made:  # a write touched some queues: the others' cases are as they were
            kept_pairs = {pair: kept for pair, kept in earlier.pairs.items() if pair[0] not in counts.touched}
    if counts.oldest is None:
        until = min(shared, default=math.inf)
        return _BacklogTimes(dict(cases), at, counts, {}, until, until)
    cut = _Cutoffs(settings, calendar, at, counts.oldest)
    ages = ("under_1h", "1h_to_4h", "4h_to_24h")
    pairs: dict[tuple[str, str], tuple[tuple[Any, ...], float]] = {}
    reused = 0
    for (queue, priority), total in sorted(counts.pairs.items()):
        targeted = priority in cut.targets
        kept = kept_pairs.get((queue, priority))
        changes_at: float | None = None
        if kept is not None and at < kept[1] - HORIZON_MARGIN_S:
            row, changes_at = kept
            reused += 1
        else:
            sla = cut.sla(priority)
            params = {"at": at, "last": cut.last, "queue": queue, "priority": priority, **sla}
            params.update(under_1h=cut.under_1h, under_4h=cut.under_4h, under_24h=cut.under_24h)
            row = conn.execute(_BACKLOG_RANGES[targeted], params).fetchone()
        due = cut.next_due(priority, row[8], row[9]) if targeted else None
        if changes_at is None:  # counted now: the first moment a case of this pair crosses something
            if targeted:
                moments = cut.next_changes(priority, row[10:13], row[13], row[14]) + ([due] if due is not None else [])
            else:
                moments = cut.next_changes(priority, row[4:7], None, None)
            changes_at = min(moments, default=math.inf)
        pairs[queue, priority] = row, changes_at
        first_created, young = row[0], row[1:4]
        acc = cases[queue]
        if acc.oldest is None or first_created < acc.oldest:
            acc.oldest = first_created
        for bucket, count in zip(ages, young, strict=True):
            acc.by_age[bucket] += count
        acc.by_age["over_24h"] += total - sum(young)
        if not targeted:
            continue
        breached, near = row[4:6], row[6:8]
        acc.sla_breached += sum(breached)
        acc.sla_at_risk += sum(near) - breached[1]
        acc.note_next_due(due)
    for queue, priority, _channel, _assignee, created, first_reply, solved in counts.solved_later:
        acc = cases[queue]
        acc.by_age[cut.age_bucket(created)] += 1
        if acc.oldest is None or created < acc.oldest:
            acc.oldest = created
        unreplied = first_reply is None or first_reply >= at
        # It leaves the backlog once solved, is replied to at its first reply, and moves on with its age and targets.
        shared += [solved, *cut.case_changes(priority, created, unreplied)]
        if unreplied and first_reply is not None:
            shared.append(first_reply)
        sla = cut.sla(priority)
        if created <= sla["breached_res"] or (unreplied and created <= sla["breached_first"]):
            acc.sla_breached += 1
            continue
        if created <= sla["near_res"] or (unreplied and created <= sla["near_first"]):
            acc.sla_at_risk += 1
        acc.note_next_due(cut.next_due(priority, created, created if unreplied else None))
    # Each _Cases of a part starts at zero: the age buckets of ``_Cases()`` are all present, so merging adds.
    shared_until = min(shared, default=math.inf)
    until = min([shared_until, *(changes_at for _, changes_at in pairs.values())])
    return _BacklogTimes(dict(cases), at, counts, pairs, shared_until, until, reused)


_CALENDARS: dict[tuple[Any, ...], BusinessCalendar] = {}


_LAST_CALENDAR: list[Any] = [None, None, None]


def _calendar(settings: MetricsSettings, zone: tzinfo) -> BusinessCalendar:
    # One calendar per schedule and zone, kept across refreshes so its per-day cache stays warm. The last one is
    # found by identity first: the repr of the schedule took longer than the rest of a read with nothing changed.
    hours, last_zone, last = _LAST_CALENDAR
    if hours is settings.business_hours and last_zone is zone:
        return last  # type: ignore[no-any-return]
    key = (repr(settings.business_hours), str(zone))
    if key not in _CALENDARS:
        if len(_CALENDARS) > 16:
            _CALENDARS.clear()
        _CALENDARS[key] = BusinessCalendar(settings.business_hours, zone)
    _LAST_CALENDAR[:] = [settings.business_hours, zone, _CALENDARS[key]]
    return _CALENDARS[key]
