"""Erlang B and Erlang C (M/M/N), and staffing for a service-level target.

Notation: ``a`` is the offered load in Erlangs (arrival rate × AHT in the same time unit), ``n`` the number of agents.
Every function uses the stable recursion ``B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1))`` and
``C = n·B / (n − a·(1 − B))``: no powers or factorials, so it stays exact to ~1e-15 at thousands of agents where
the textbook formula overflows (reference: ../shared/reference/metrics.md §4, §9.2).

Hand-written rather than a library: the Python packages checked (pyworkforce, pyErlang, erlanglib) either overflow
for large loads, have no ASA/percentile output, or treat the SL threshold as an ASA (metrics.md §9.3).

Erlang C is only defined for ``n > a``. With ``n ≤ a`` the queue grows without bound: we report P(wait) = 1,
service level 0 and an infinite ASA / wait percentile (``math.inf``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _check(n: int, a: float) -> None:
    if n < 0 or int(n) != n:
        raise ValueError(f"agents must be a whole number ≥ 0, got {n!r}")
    if not (a >= 0 and math.isfinite(a)):
        raise ValueError(f"offered load must be a finite number ≥ 0, got {a!r}")


def erlang_b(n: int, a: float) -> float:
    """Erlang B: the probability that a contact finds all ``n`` lines busy and is lost (M/M/N/N)."""
    _check(n, a)
    b = 1.0
    for k in range(1, int(n) + 1):
        b = a * b / (k + a * b)
    return b


def _c_from_b(n: int, a: float, b: float) -> float:
    return n * b / (n - a * (1.0 - b))


def erlang_c(n: int, a: float) -> float:
    """Erlang C: the probability that a contact has to wait (M/M/N, no abandonment); 1 when ``n ≤ a``."""
    _check(n, a)
    if a == 0:
        return 0.0
    if n <= a:
        return 1.0
    return _c_from_b(n, a, erlang_b(n, a))


def service_level(n: int, a: float, aht_s: float, threshold_s: float) -> float:
    """Fraction of contacts answered within ``threshold_s``: ``1 − C·exp(−(n − a)·T / AHT)``; 0 when ``n ≤ a``."""
    _check_times(aht_s, threshold_s)
    if a == 0:
        return 1.0
    if n <= a:
        return 0.0
    c = erlang_c(n, a)
    return 1.0 - c * math.exp(-(n - a) * threshold_s / aht_s)


def asa(n: int, a: float, aht_s: float) -> float:
    """Mean wait over all contacts, including those answered at once: ``C·AHT / (n − a)``; inf when ``n ≤ a``.

    This is the queueing-theory ASA; a helpdesk's ASA usually averages answered contacts only (metrics.md §2).
    """
    _check_times(aht_s, 0.0)
    if a == 0:
        return 0.0
    if n <= a:
        return math.inf
    return erlang_c(n, a) * aht_s / (n - a)


def wait_percentile(n: int, a: float, aht_s: float, q: float) -> float:
    """The wait that a fraction ``q`` (0 < q < 1) of contacts do not exceed.

    0 when ``q ≤ 1 − C`` (that many are answered at once), else ``AHT/(n − a) · ln(C / (1 − q))``; inf if unstable.
    """
    if not 0 < q < 1:
        raise ValueError(f"q must be between 0 and 1 (exclusive), got {q!r}")
    _check_times(aht_s, 0.0)
    if a == 0:
        return 0.0
    if n <= a:
        return math.inf
    c = erlang_c(n, a)
    if q <= 1.0 - c:
        return 0.0
    return aht_s / (n - a) * math.log(c / (1.0 - q))


def occupancy(n: int, a: float) -> float:
    """Share of agent time spent handling contacts under Erlang C: ``a / n`` (1 when ``n ≤ a``)."""
    _check(n, a)
    if n == 0:
        return 1.0
    return min(1.0, a / n)


def _check_times(aht_s: float, threshold_s: float) -> None:
    if not (aht_s > 0 and math.isfinite(aht_s)):
        raise ValueError(f"AHT must be a positive number of seconds, got {aht_s!r}")
    if not (threshold_s >= 0 and math.isfinite(threshold_s)):
        raise ValueError(f"threshold must be a number of seconds ≥ 0, got {threshold_s!r}")


@dataclass(frozen=True, slots=True)
class Staffing:
    """The agents needed for a target, and what that number gives under Erlang C."""

    traffic_erlangs: float
    agents: int
    scheduled: int
    service_level: float
    asa_s: float
    p_wait: float
    occupancy: float


#: Beyond this many agents the search stops: no real queue needs it, and a typo should not hang the CLI.
MAX_AGENTS = 1_000_000


def staffing(
    calls_per_hour: float,
    aht_s: float,
    target: float = 0.8,
    threshold_s: float = 20.0,
    shrinkage: float = 0.0,
    max_occupancy: float | None = None,
) -> Staffing:
    """The smallest ``n > a`` with service level ≥ ``target`` (and ``a/n ≤ max_occupancy`` when given).

    ``a = calls_per_hour × aht_s / 3600``. Scheduled agents cover shrinkage (breaks, training, absence):
    ``ceil(n / (1 − shrinkage))``. With no calls, no agent is needed.
    """
    if not (calls_per_hour >= 0 and math.isfinite(calls_per_hour)):
        raise ValueError(f"calls per hour must be a number ≥ 0, got {calls_per_hour!r}")
    _check_times(aht_s, threshold_s)
    if not 0 < target < 1:
        raise ValueError(f"target must be between 0 and 1 (exclusive), got {target!r}")
    if not 0 <= shrinkage < 1:
        raise ValueError(f"shrinkage must be at least 0 and below 1, got {shrinkage!r}")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ValueError(f"max occupancy must be above 0 and at most 1, got {max_occupancy!r}")
    a = calls_per_hour * aht_s / 3600.0
    if a == 0:
        return Staffing(0.0, 0, 0, 1.0, 0.0, 0.0, 0.0)
    n = math.floor(a) + 1
    if n > MAX_AGENTS:
        raise ValueError(f"offered load of {a:.0f} Erlangs needs more than {MAX_AGENTS} agents")
    # B(n) extended one agent at a time: the whole search is O(n), not O(n²).
    b = erlang_b(n, a)
    while True:
        c = _c_from_b(n, a, b)
        sl = 1.0 - c * math.exp(-(n - a) * threshold_s / aht_s)
        if sl >= target and (max_occupancy is None or a / n <= max_occupancy):
            break
        n += 1
        if n > MAX_AGENTS:
            raise ValueError(f"the target needs more than {MAX_AGENTS} agents")
        b = a * b / (n + a * b)
    # Rounded first so that 14 / (1 − 0.3) = 20.000000000000004 schedules 20, not 21.
    scheduled = math.ceil(round(n / (1.0 - shrinkage), 6))
    return Staffing(a, n, scheduled, sl, c * aht_s / (n - a), c, a / n)
