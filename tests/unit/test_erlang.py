"""Erlang B/C against published values (../shared/reference/metrics.md §9.4, §9.6)."""

import math

import pytest

from shiftboard import erlang

# A, N, AHT, T, P(wait), SL, ASA, occupancy — metrics.md §9.4, each row cross-checked against a published source.
# A = 27.0833 in the table is 650 calls/h × 150 s / 3600 s, written out exactly below.
TABLE = [
    (10, 11, 180, 20, 0.682118, 0.389614, 122.7813, 0.9091),
    (10, 14, 180, 20, 0.174132, 0.888350, 7.8359, 0.7143),
    (10, 15, 180, 20, 0.102042, 0.941453, 3.6735, 0.6667),
    (48, 55, 240, 15, 0.238701, 0.845883, 8.1840, 0.8727),
    (60, 65, 180, 45, 0.420072, 0.879647, 15.1226, 0.9231),
    (650 * 150 / 3600, 34, 150, 30, 0.143013, 0.964141, 3.1015, 0.7966),
    (10, 11, 1800, 3600, 0.682118, 0.907685, 1227.81, 0.9091),
]


@pytest.mark.parametrize(("a", "n", "aht", "t", "p_wait", "sl", "asa", "occ"), TABLE)
def test_erlang_c_matches_published_table(a, n, aht, t, p_wait, sl, asa, occ):
    assert erlang.erlang_c(n, a) == pytest.approx(p_wait, abs=1e-6)
    assert erlang.service_level(n, a, aht, t) == pytest.approx(sl, abs=1e-6)
    assert erlang.asa(n, a, aht) == pytest.approx(asa, abs=1e-2)
    assert erlang.occupancy(n, a) == pytest.approx(occ, abs=1e-4)


def test_erlang_b_spot_check():
    # Mathematica docs: 30 lines, 25 Erlangs → ≈ 0.05; recursion 0.052603 (metrics.md §9.6).
    assert erlang.erlang_b(30, 25) == pytest.approx(0.052603, abs=1e-6)
    assert erlang.erlang_b(0, 5) == 1.0


def test_sl_at_19_8_seconds_matches_pyworkforce():
    assert erlang.service_level(15, 10, 180, 19.8) == pytest.approx(0.941127, abs=1e-6)


# calls/hour, AHT, target, T → agents (metrics.md §9.4 "Agents needed", published by pyErlang's README).
AGENTS_NEEDED = [
    (200, 180, 0.80, 20, 14),
    (720, 240, 0.70, 15, 53),
    (1200, 180, 0.95, 45, 67),
    (650, 150, 0.50, 30, 29),
    (20, 1800, 0.80, 3600, 11),
]


@pytest.mark.parametrize(("calls", "aht", "target", "t", "agents"), AGENTS_NEEDED)
def test_agents_needed_matches_published(calls, aht, target, t, agents):
    result = erlang.staffing(calls, aht, target, t)
    assert result.agents == agents
    assert result.service_level >= target
    assert erlang.service_level(agents - 1, result.traffic_erlangs, aht, t) < target


def test_shrinkage_and_max_occupancy_follow_pyworkforce():
    # pyworkforce tests: 100 per 30 min, AHT 3 min, T 19.8 s → 14 positions, 20 after 30 % shrinkage;
    # max occupancy 0.7 → 15 positions, SL 0.941, P(wait) 0.102.
    base = erlang.staffing(200, 180, 0.8, 19.8, shrinkage=0.3)
    assert (base.agents, base.scheduled) == (14, 20)
    assert base.occupancy == pytest.approx(0.714, abs=1e-3)
    assert base.p_wait == pytest.approx(0.174, abs=1e-3)
    capped = erlang.staffing(200, 180, 0.8, 19.8, max_occupancy=0.7)
    assert capped.agents == 15
    assert capped.service_level == pytest.approx(0.941, abs=1e-3)
    assert capped.p_wait == pytest.approx(0.102, abs=1e-3)


def _erlang_c_exact(n: int, a: int) -> float:
    # Exact rational arithmetic: independent of the float recursion under test.
    from fractions import Fraction

    terms = [Fraction(a) ** k / math.factorial(k) for k in range(n)]
    top = Fraction(a) ** n / math.factorial(n) * Fraction(n, n - a)
    return float(top / (sum(terms) + top))


def test_large_centres_are_exact_and_do_not_overflow():
    assert erlang.erlang_c(2100, 2000) == pytest.approx(_erlang_c_exact(2100, 2000), rel=1e-9)
    result = erlang.staffing(2000 * 3600 / 300, 300, 0.8, 20)
    assert 2000 < result.agents < 2100
    assert result.service_level >= 0.8
    assert erlang.service_level(result.agents - 1, 2000, 300, 20) < 0.8


def test_unstable_when_agents_do_not_exceed_load():
    assert erlang.erlang_c(10, 10) == 1.0
    assert erlang.erlang_c(5, 10.5) == 1.0
    assert erlang.service_level(10, 10, 180, 20) == 0.0
    assert erlang.asa(9, 10, 180) == math.inf
    assert erlang.wait_percentile(9, 10, 180, 0.5) == math.inf


def test_wait_percentiles():
    # A = 10, N = 14: mean 7.8 s, p50 = 0, p95 = 56 s (metrics.md §10).
    assert erlang.wait_percentile(14, 10, 180, 0.5) == 0.0
    assert erlang.wait_percentile(14, 10, 180, 0.95) == pytest.approx(56, abs=0.5)
    # The percentile inverts the service level.
    w = erlang.wait_percentile(14, 10, 180, 0.9)
    assert erlang.service_level(14, 10, 180, w) == pytest.approx(0.9, abs=1e-12)


def test_no_traffic_needs_no_agents():
    assert erlang.staffing(0, 180).agents == 0
    assert erlang.erlang_c(3, 0) == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"calls_per_hour": -1, "aht_s": 180},
        {"calls_per_hour": 10, "aht_s": 0},
        {"calls_per_hour": 10, "aht_s": 180, "target": 1.0},
        {"calls_per_hour": 10, "aht_s": 180, "shrinkage": 1.0},
        {"calls_per_hour": 10, "aht_s": 180, "max_occupancy": 0},
        {"calls_per_hour": math.nan, "aht_s": 180},
    ],
)
def test_bad_input_is_refused(kwargs):
    with pytest.raises(ValueError):
        erlang.staffing(**kwargs)
