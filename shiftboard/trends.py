"""How service level, contacts waiting and ASA moved over the last hours, in equal buckets: the wall's sparklines.

Buckets end at ``at``: bucket k covers [``start`` + k·``bucket_s``, ``start`` + (k+1)·``bucket_s``) with
``start`` = ``at`` − n·``bucket_s``. Cost is bounded by the period: each query is a range scan on an indexed time
column (answered_at, abandoned_at, offered_at) within it, never a scan of the whole table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shiftboard import metrics

if TYPE_CHECKING:  # types only: the board's first frame is drawn before pydantic is imported
    from shiftboard.config import MetricsSettings

#: How far back a contact still counts as waiting (the same horizon as metrics' waiting_now).
WAITING_HORIZON_S = 24 * 3600.0

# Each query is a range scan on an index of its time column (checked in tests/unit/test_trends.py).
ANSWERED_SQL = """SELECT queue, answered_at, answered_at - offered_at FROM contacts
    WHERE answered_at >= :start AND answered_at < :at AND blocked = 0"""
ABANDONED_SQL = """SELECT queue, abandoned_at, abandoned_at - offered_at FROM contacts
    WHERE abandoned_at >= :start AND abandoned_at < :at AND blocked = 0
      AND (answered_at IS NULL OR answered_at >= abandoned_at)"""
OFFERED_SQL = """SELECT offered_at, MIN(COALESCE(answered_at, 1e300), COALESCE(abandoned_at, 1e300),
                           COALESCE(ended_at, 1e300))
    FROM contacts WHERE offered_at >= :horizon AND offered_at < :at AND blocked = 0"""


@dataclass(frozen=True, slots=True)
class Trends:
    """Series over the buckets, oldest first.

    service_level_pct: of the contacts whose wait ended in the bucket (answered or abandoned in it), the service
    level under the queue's threshold T and abandon policy (as metrics' ``service_level``); None for a bucket where
    no wait ended. asa_s: mean wait (offer to answer) of the contacts answered in the bucket; None when none were.
    waiting: contacts waiting at the bucket's end (offered in the 24 h before it, not blocked, neither answered,
    abandoned nor ended by then), as metrics' ``waiting_now`` at that moment.
    """

    start: float
    bucket_s: float
    service_level_pct: list[float | None]
    waiting: list[int]
    asa_s: list[float | None]

    def ends(self) -> list[float]:
        """Each bucket's end, the moment its ``waiting`` count is taken."""
        return [self.start + (k + 1) * self.bucket_s for k in range(len(self.waiting))]


def trends(
    conn: Any, settings: MetricsSettings, at: float, *, hours: float = 4.0, bucket_s: float = 900.0, queue: str | None
) -> Trends:
    """The series for ``queue`` (None: every queue) over the ``hours`` before ``at`` in ``bucket_s`` buckets.

    ``conn`` is a sqlite3 connection to the cache. Each contact is judged by its own queue's settings.
    """
    count = max(1, math.ceil(hours * 3600 / bucket_s))
    start = at - count * bucket_s
    where_queue = "" if queue is None else " AND queue = :queue"
    p = {"start": start, "at": at, "queue": queue, "horizon": start - WAITING_HORIZON_S}

    answered = [0] * count
    within = [0] * count
    wait_sum = [0.0] * count
    abandoned = [0] * count
    ab_within = [0] * count
    short = [0] * count
    per_queue: dict[str, MetricsSettings] = {}

    def limits(name: str) -> MetricsSettings:
        if name not in per_queue:
            per_queue[name] = settings.for_queue(name)
        return per_queue[name]

    for name, ended, wait in conn.execute(ANSWERED_SQL + where_queue, p):
        k = int((ended - start) // bucket_s)
        answered[k] += 1
        wait_sum[k] += wait
        within[k] += wait <= limits(name).service_level_threshold_s
    for name, ended, wait in conn.execute(ABANDONED_SQL + where_queue, p):
        k = int((ended - start) // bucket_s)
        q = limits(name)
        abandoned[k] += 1
        ab_within[k] += wait <= q.service_level_threshold_s
        short[k] += wait <= q.short_abandon_s

    # A contact waits over [offered_at, first of answered/abandoned/ended); only those still waiting at some point
    # after ``start`` matter, and none offered before the 24 h horizon of the first bucket's end.
    ends = [start + (k + 1) * bucket_s for k in range(count)]
    waiting = [0] * count
    for offered, stop in conn.execute(OFFERED_SQL + where_queue, p):
        if stop <= start:
            continue
        for k, moment in enumerate(ends):
            if offered < moment <= stop and offered >= moment - WAITING_HORIZON_S:
                waiting[k] += 1

    policy = settings.abandon_policy
    # metrics' own count-to-percentage rule, so a bucket's service level matches the board's definition exactly.
    service_level = [
        metrics._sl_from_counts(answered[k], within[k], abandoned[k], ab_within[k], short[k])[policy]
        for k in range(count)
    ]
    asa = [wait_sum[k] / answered[k] if answered[k] else None for k in range(count)]
    return Trends(start=start, bucket_s=bucket_s, service_level_pct=service_level, waiting=waiting, asa_s=asa)
