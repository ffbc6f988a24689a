"""The backlog (open cases at ``at``): counts, ages and SLA states on a hand-computed scenario, and the creation-time
cutoffs that the SQL ranges use, checked case by case against the definitions."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shiftboard import metrics
from shiftboard.business_hours import BusinessCalendar
from shiftboard.config import BusinessHours, MetricsSettings
from shiftboard.metrics import _Cutoffs, compute
from shiftboard.model import OPEN_STATUSES, Batch, Case

m, h, d = 60.0, 3600.0, 86400.0
#: Monday 2026-03-23 08:20 UTC: business hours (Mon–Fri 08–18 UTC) opened 20 minutes ago.
AT = datetime(2026, 3, 23, 8, 20, tzinfo=UTC).timestamp()
FRIDAY = datetime(2026, 3, 20, tzinfo=UTC).timestamp()  # 00:00
SUNDAY = datetime(2026, 3, 22, tzinfo=UTC).timestamp()
SETTINGS = MetricsSettings(
    timezone="UTC",
    sla={
        "urgent": {"first_reply_min": 30, "resolution_min": 240},  # calendar time
        "high": {"first_reply_min": 60, "business_hours": True},  # business time, no resolution target
        "normal": {"resolution_min": 1440},
    },  # "low" and "whatever" have no target
)

# (id, priority, created, first reply, channel, assignee, status while open); hand-computed figures in comments.
SCENARIO = [
    # due exactly at at (first reply 30 min): breached; age 30 min: under_1h
    ("1", "urgent", AT - 30 * m, None, None, None, "new"),
    # first reply due in 60 s: at risk; the soonest due (next_breach 60)
    ("2", "urgent", AT - 29 * m, None, "chat", "ann", "open"),
    # replied: resolution due in 3 h (not at risk); age exactly 1 h: 1h_to_4h; empty channel/assignee are unknown
    ("3", "urgent", AT - 1 * h, AT - 50 * m, "", "", "pending"),
    # replied, resolution due exactly at at: breached; age exactly 4 h: 4h_to_24h
    ("4", "urgent", AT - 4 * h, AT - 3 * h, "email", "ann", "on_hold"),
    # business time: Friday 17:30–18:00 (30 min) + Monday 08:00–08:20 (20 min) used, due 08:30: at risk (600 s);
    # in calendar time it would be two days late. Over 24 h.
    ("5", "high", FRIDAY + 17.5 * h, None, "email", "bob", "open"),
    # business time: Friday 16:00 + 60 min = Friday 17:00: breached. Over 24 h.
    ("6", "high", FRIDAY + 16 * h, None, "email", "ann", "open"),
    # replied before at and no resolution target: no SLA. Over 24 h.
    ("7", "high", FRIDAY + 17.5 * h, AT - 20 * m, "email", "ann", "open"),
    # Sunday 20:00 (closed): due Monday 09:00, in 40 min: neither; age 12 h 20 min: 4h_to_24h
    ("8", "high", SUNDAY + 20 * h, None, "email", "ann", "new"),
    # no target; the oldest (10 days)
    ("9", "whatever", AT - 10 * d, None, "email", "ann", "pending"),
    # half a second under 24 h: 4h_to_24h; no target for low
    ("10", "low", AT - 24 * h + 0.5, None, "email", "ann", "open"),
    # exactly 24 h: over_24h
    ("15", "low", AT - 24 * h, None, "email", "ann", "open"),
]


def scenario_cases(solved_later: bool) -> list[Case]:
    out = []
    for ident, priority, created, replied, channel, assignee, status in SCENARIO:
        out.append(
            Case(
                "src",
                ident,
                "Mail",
                "solved" if solved_later else status,
                priority,
                created,
                channel=channel,
                assignee=assignee,
                first_reply_at=replied,
                solved_at=AT + h if solved_later else None,
            )
        )
    return out


def not_in_the_backlog() -> list[Case]:
    return [
        Case("src", "11", "Mail", "deleted", "urgent", AT - 2 * h),  # deleted: never counts
        Case("src", "12", "Mail", "open", "urgent", AT + 1),  # created after at
        Case("src", "13", "Mail", "solved", "urgent", AT - 2 * h, solved_at=AT - 0.5),  # solved before at
    ]


@pytest.mark.parametrize("solved_later", [False, True], ids=["open now", "solved since"])
def test_backlog_figures_by_hand(store, solved_later):
    cases = [*scenario_cases(solved_later), *not_in_the_backlog()]
    # Solved exactly at at, so not before it: open ("open" by status); resolution due in 1 h; age 3 h: 1h_to_4h.
    exact = Case("src", "14", "Mail", "solved", "urgent", AT - 3 * h, "email", assignee="ann")
    exact.first_reply_at, exact.solved_at = AT - 2 * h, AT
    cases.append(exact)
    # A second queue: one urgent case breached on its resolution target (created 5 h ago, replied).
    cases.append(Case("src", "20", "Phone", "open", "urgent", AT - 5 * h, "voice", first_reply_at=AT - 4 * h))
    store.write_batch("src", "test", Batch(cases=cases), None, 0)

    queues = compute(store, SETTINGS, AT, AT - h)["queues"]
    backlog, sla = queues["Mail"]["cases"]["backlog"], queues["Mail"]["cases"]["sla"]
    assert backlog["open"] == 12
    if solved_later:
        assert backlog["by_status"] == {"new": 0, "open": 12, "pending": 0, "on_hold": 0}
    else:
        assert backlog["by_status"] == {"new": 2, "open": 7, "pending": 2, "on_hold": 1}  # 6 + case 14
    assert backlog["by_priority"] == {"low": 2, "normal": 0, "high": 4, "urgent": 5, "whatever": 1}
    assert backlog["by_channel"] == {"(unknown)": 2, "chat": 1, "email": 9}
    assert backlog["by_assignee"] == {"(unassigned)": 2, "ann": 9, "bob": 1}
    assert backlog["by_age"] == {"under_1h": 2, "1h_to_4h": 2, "4h_to_24h": 3, "over_24h": 5}
    assert (backlog["oldest_age_s"], backlog["oldest_created_at"]) == (10 * d, AT - 10 * d)
    assert sla == {"breached": 3, "at_risk": 2, "next_breach_s": 60.0}

    phone = queues["Phone"]["cases"]
    assert phone["sla"] == {"breached": 1, "at_risk": 0, "next_breach_s": None}
    assert phone["backlog"]["by_age"] == {"under_1h": 0, "1h_to_4h": 0, "4h_to_24h": 1, "over_24h": 0}
    everything = queues["all"]["cases"]
    assert everything["backlog"]["open"] == 13
    assert everything["sla"] == {"breached": 4, "at_risk": 2, "next_breach_s": 60.0}
    assert everything["backlog"]["by_age"] == {"under_1h": 2, "1h_to_4h": 2, "4h_to_24h": 4, "over_24h": 5}
    assert everything["backlog"]["by_channel"] == {"(unknown)": 2, "chat": 1, "email": 9, "voice": 1}


def test_backlog_sla_with_only_business_hours_cases_due_later(store):
    # Nothing breached: next_breach comes from the business-hours case alone (case 8 above: due in 40 min).
    store.write_batch("src", "test", Batch(cases=[Case("src", "8", "Mail", "new", "high", SUNDAY + 20 * h)]), None, 0)
    sla = compute(store, SETTINGS, AT, AT - h)["queues"]["Mail"]["cases"]["sla"]
    assert sla == {"breached": 0, "at_risk": 0, "next_breach_s": 40 * m}


# -- the cutoffs, case by case -------------------------------------------------------------------------------------

ZONES = ("UTC", "Europe/Berlin", "America/New_York")
# Around the 2026 DST changes in Europe (29 March) and the US (8 March), on fractional seconds.
moments = st.floats(1_772_500_000, 1_775_500_000, allow_nan=False, allow_infinity=False)
minutes = st.one_of(st.integers(1, 3000).map(float), st.floats(0.01, 3000, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    days=st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), min_size=1, unique=True),
    opening=st.sampled_from([(0, 24), (8, 18), (9, 17), (22, 23)]),
    business=st.booleans(),
    first=st.one_of(st.none(), minutes),
    resolution=st.one_of(st.none(), minutes),
    risk=st.sampled_from([0.0, 0.5, 30.0, 240.0]),
    at=moments,
    ages=st.lists(
        st.one_of(st.floats(0, 20 * 86400, allow_nan=False), st.sampled_from([0.0, 3600.0, 14400.0])), max_size=40
    ),
)
def test_cutoffs_sort_each_case_as_its_definition_does(
    zone, days, opening, business, first, resolution, risk, at, ages
):
    start, end = opening
    hours = BusinessHours(days=days, start=f"{start:02d}:00", end="23:59:59" if end == 24 else f"{end:02d}:00")
    target = {"first_reply_min": first, "resolution_min": resolution, "business_hours": business}
    metrics = MetricsSettings(timezone=zone, sla_at_risk_min=risk, business_hours=hours, sla={"urgent": target})
    calendar = BusinessCalendar(hours, ZoneInfo(zone))
    # Creation times before at, including some exactly on a target or an age edge.
    created = [at - a for a in ages if a > 0]
    for minutes_ in (first, resolution):
        if minutes_ is not None:
            created.append(at - minutes_ * 60)
    created = [c for c in created if c < at]
    if not created:
        return
    cut = _Cutoffs(metrics, calendar, at, min(created))
    sla = cut.sla("urgent")

    def due(c: float, target_min: float | None) -> float | None:
        if target_min is None:
            return None
        return calendar.add(c, target_min * 60) if business else c + target_min * 60

    for c in created:
        age = at - c
        expected = (
            "under_1h" if age < 3600 else "1h_to_4h" if age < 14400 else "4h_to_24h" if age < 86400 else "over_24h"
        )
        assert cut.age_bucket(c) == expected
        for name, target_min in (("first", first), ("res", resolution)):
            when = due(c, target_min)
            assert (c <= sla[f"breached_{name}"]) == (when is not None and when - at <= 0), (name, c)
            assert (c <= sla[f"near_{name}"]) == (when is not None and when - at <= risk * 60), (name, c)


def test_cutoffs_without_a_case_that_qualifies_are_minus_infinity():
    calendar = BusinessCalendar(BusinessHours(), ZoneInfo("UTC"))
    cut = _Cutoffs(SETTINGS, calendar, AT, AT - 10 * m)  # the oldest case is 10 minutes old
    assert cut.under_1h == -math.inf and cut.under_4h == -math.inf
    assert cut.sla("urgent")["breached_res"] == -math.inf
    assert cut.sla("low") == {
        "breached_first": -math.inf,
        "near_first": -math.inf,
        "breached_res": -math.inf,
        "near_res": -math.inf,
        "unbreached_res_after": cut.last,
        "unbreached_first_after": cut.last,
    }


def test_the_open_test_of_the_backlog_indexes_names_every_open_status():
    spelt = "(" + " OR ".join(f"status = '{status}'" for status in OPEN_STATUSES) + ")"
    assert spelt == metrics._OPEN
