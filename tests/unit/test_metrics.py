"""Each metric on small scenarios whose answers are computed by hand (in the comments), boundaries included."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from shiftboard.config import CostSettings, MetricsSettings
from shiftboard.metrics import compute, percentile
from shiftboard.model import AgentState, Batch, Case, Contact, QueueSnapshot, Rating

UTC_SETTINGS = MetricsSettings(timezone="UTC")
T0 = 1_774_267_200.0  # 2026-03-23 12:00:00 UTC, a Monday
BERLIN = ZoneInfo("Europe/Berlin")


def ingest(store, **records) -> None:
    store.write_batch("src", "test", Batch(**records), None, 0)


def berlin(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


def contact(i, offered, queue="Billing", **kw) -> Contact:
    return Contact("src", str(i), queue, offered, **kw)


# -- contacts ------------------------------------------------------------------------------------------------------


def test_empty_cache_gives_nulls_not_zeros(store):
    data = compute(store, UTC_SETTINGS, T0, T0 - 3600)
    assert list(data["queues"]) == ["all"]
    q = data["queues"]["all"]
    c = q["contacts"]
    assert (c["offered"], c["answered"], c["abandoned"], c["blocked"], c["waiting_now"]) == (0, 0, 0, 0, 0)
    for key in ("longest_wait_s", "service_level_pct", "asa_s", "wait_p50_s", "wait_p90_s", "wait_max_s"):
        assert c[key] is None, key
    assert set(c["service_level_pct_by_policy"].values()) == {None}
    assert c["abandon_rate_pct"] is None and c["aht_s"] is None and c["occupancy_pct"] is None
    cases = q["cases"]
    assert cases["backlog"]["open"] == 0 and cases["backlog"]["oldest_age_s"] is None
    assert cases["first_reply_s"] == {"avg": None, "p50": None, "p90": None, "max": None}
    assert cases["fcr_pct"] is None and cases["reopen_rate_pct"] is None and cases["resolution_rate_pct"] is None
    assert cases["sla"] == {"breached": 0, "at_risk": 0, "next_breach_s": None}
    s = q["satisfaction"]
    assert s["csat_pct"] is None and s["nps"] is None and s["ces_avg"] is None and s["iqs_avg"] is None
    assert s["comments"] == []
    assert q["staffing"] == {"arrivals_per_hour": 0, "aht_s": None, "agents_needed": None, "agents_logged_in": 0}
    assert q["cost_per_contact"] is None
    # Monday 11:00–12:00 UTC is inside opening hours and nobody was available: 0 %, a measurement.
    assert q["availability_pct"] == 0.0


def test_service_level_under_each_policy_with_a_wait_of_exactly_t(store):
    # Answered waits 10, 20, 21 (20 = T is within); abandoned waits 5 (short), 20 (within T), 30.
    ingest(
        store,
        contacts=[
            contact(1, T0 - 600, answered_at=T0 - 590),
            contact(2, T0 - 600, answered_at=T0 - 580),
            contact(3, T0 - 600, answered_at=T0 - 579),
            contact(4, T0 - 500, abandoned_at=T0 - 495),
            contact(5, T0 - 500, abandoned_at=T0 - 480),
            contact(6, T0 - 500, abandoned_at=T0 - 470),
        ],
    )
    c = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]["Billing"]["contacts"]
    assert (c["offered"], c["answered"], c["abandoned"], c["short_abandoned"]) == (6, 3, 3, 1)
    assert c["service_level_pct_by_policy"] == pytest.approx(
        {
            "answered_only": 100 * 2 / 3,
            "all_abandons": 100 * 2 / 6,
            "exclude_short": 100 * 2 / 5,
            "abandoned_after_threshold": 100 * 2 / 4,
            "abandons_within_threshold_met": 100 * 4 / 6,
        }
    )
    assert c["service_level_pct"] == pytest.approx(40.0)  # exclude_short is the default policy
    assert c["asa_s"] == pytest.approx(17.0)
    assert (c["wait_p50_s"], c["wait_p90_s"], c["wait_max_s"]) == (20.0, 21.0, 21.0)
    assert c["abandon_rate_pct"] == pytest.approx(50.0)


def test_waiting_now_counts_a_contact_answered_after_at_and_ignores_later_events(store):
    ingest(
        store,
        contacts=[
            contact(1, T0 - 100, answered_at=T0 + 5, ended_at=T0 + 200),  # answered after at: waiting at at
            contact(2, T0 - 40),  # still waiting
            contact(3, T0 - 30, blocked=True),  # refused entry: never waits, not offered
            contact(4, T0, answered_at=T0 + 1),  # offered at at: ignored
            contact(5, T0 - 50, ended_at=T0 - 45, channel="chat"),  # left without answer/abandon (flow-out)
        ],
    )
    c = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]["Billing"]["contacts"]
    assert c["waiting_now"] == 2
    assert c["longest_wait_s"] == 100.0
    assert c["oldest_waiting_since"] == T0 - 100
    assert (c["offered"], c["answered"], c["blocked"]) == (3, 0, 1)
    assert c["by_channel"] == {"chat": 1, "voice": 2}
    assert c["asa_s"] is None and c["service_level_pct"] is None


def test_aht_counts_contacts_ended_in_the_window(store):
    ingest(
        store,
        contacts=[
            # ended in window: handle (300 − 100) + 30 wrap-up = 230
            contact(1, T0 - 3700, answered_at=T0 - 3650, ended_at=T0 - 3000, wrap_up_s=30),
            # ended in window: 100, no wrap-up
            contact(2, T0 - 600, answered_at=T0 - 500, ended_at=T0 - 400),
            # ended before the window: not counted
            contact(3, T0 - 9000, answered_at=T0 - 8990, ended_at=T0 - 8000),
            # ends after at: not counted
            contact(4, T0 - 300, answered_at=T0 - 290, ended_at=T0 + 10),
        ],
    )
    c = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]["Billing"]["contacts"]
    assert c["aht_s"] == pytest.approx((680 + 100) / 2)


def test_repeat_contacts_within_the_window_inclusive(store):
    day = 24 * 3600
    ingest(
        store,
        contacts=[
            contact(1, T0 - 2 * day, customer="ann"),
            contact(2, T0 - day, customer="ann"),  # exactly 24 h after #1: repeat (but before the window)
            contact(3, T0 - 100, customer="ann", queue="Sales"),  # 24 h − 100 s after #2: repeat
            contact(4, T0 - 90, customer="bob"),  # first of bob: not a repeat
            contact(5, T0 - 80, customer="cy", blocked=True),  # a blocked try is a contact
            contact(6, T0 - 70, customer="cy"),  # repeat of the blocked try
        ],
    )
    queues = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]
    assert queues["Sales"]["contacts"]["repeat_contacts"] == 1
    assert queues["Billing"]["contacts"]["repeat_contacts"] == 1
    assert queues["all"]["contacts"]["repeat_contacts"] == 2


def test_blocked_contacts_are_counted_apart_and_give_no_channel(store):
    ingest(
        store,
        contacts=[
            contact(1, T0 - 60, channel="voice", answered_at=T0 - 50),
            contact(2, T0 - 50, channel="chat", blocked=True),  # chat only ever blocked: no "chat" entry
            contact(3, T0 - 40, channel="chat", blocked=True),
            contact(4, T0 - 30, queue="Sales", channel="chat", blocked=True),  # a queue with blocked tries only
        ],
    )
    queues = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]
    billing, sales = queues["Billing"]["contacts"], queues["Sales"]["contacts"]
    assert (billing["offered"], billing["blocked"], billing["by_channel"]) == (1, 2, {"voice": 1})
    assert (sales["offered"], sales["blocked"], sales["by_channel"]) == (0, 1, {})
    assert queues["all"]["contacts"]["by_channel"] == {"voice": 1}


def test_queue_override_applies_to_its_queue_only(store):
    settings = MetricsSettings(timezone="UTC", queues={"Billing": {"service_level_threshold_s": 30}})
    ingest(store, contacts=[contact(1, T0 - 100, answered_at=T0 - 75), contact(2, T0 - 100, queue="Sales")])
    queues = compute(store, settings, T0, T0 - 3600)["queues"]
    assert queues["Billing"]["contacts"]["service_level_pct"] == 100.0  # 25 s ≤ 30 s
    assert queues["all"]["contacts"]["service_level_pct"] == 0.0  # 25 s > 20 s


def test_nearest_rank_percentile():
    values = list(range(1, 71))  # 0.9 × 70 = 63 exactly: rank 63, not 64
    assert percentile(values, 90) == 63
    assert percentile([5.0], 50) == 5.0
    assert percentile([1, 2], 50) == 1
    assert percentile([], 90) is None


# -- cases ----------------------------------------------------------------------------------------------------------


def case(i, created, status="open", priority="normal", queue="Mail", **kw) -> Case:
    return Case("src", str(i), queue, status, priority, created, **kw)


def test_backlog_as_of_at(store):
    h = 3600
    ingest(
        store,
        cases=[
            case(1, T0 - h + 1, status="new", assignee="ann", channel="email"),  # under 1 h
            case(2, T0 - h, status="pending"),  # exactly 1 h: 1–4 h
            case(3, T0 - 5 * h, status="solved", solved_at=T0 + 10),  # solved after at: open at at
            case(4, T0 - 30 * h, status="on_hold", priority="urgent"),  # over 24 h, oldest
            case(5, T0 - 2 * h, status="solved", solved_at=T0 - 10),  # solved: not open
            case(6, T0 - 2 * h, status="deleted"),  # deleted: never counts
            case(7, T0 + 5),  # created after at: ignored
        ],
    )
    backlog = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]["Mail"]["cases"]["backlog"]
    assert backlog["open"] == 4
    assert backlog["by_status"] == {"new": 1, "open": 1, "pending": 1, "on_hold": 1}
    assert backlog["by_priority"] == {"low": 0, "normal": 3, "high": 0, "urgent": 1}
    assert backlog["by_age"] == {"under_1h": 1, "1h_to_4h": 1, "4h_to_24h": 1, "over_24h": 1}
    assert backlog["by_assignee"] == {"(unassigned)": 3, "ann": 1}
    assert backlog["by_channel"] == {"(unknown)": 3, "email": 1}
    assert backlog["oldest_age_s"] == 30 * h


def test_case_flow_figures(store):
    since = T0 - 10_000
    ingest(
        store,
        cases=[
            # created and solved in the window, 1 reply, never reopened: FCR; first reply 100 s, resolution 1000 s
            case(
                1,
                since + 0,
                status="solved",
                first_reply_at=since + 100,
                solved_at=since + 1000,
                agent_replies=1,
                reopens=0,
            ),
            # created in the window, solved after 3000 s with 3 replies
            case(
                2,
                since + 0,
                status="closed",
                first_reply_at=since + 300,
                solved_at=since + 3000,
                agent_replies=3,
                reopens=0,
            ),
            # created before the window, solved in it after a reopen; replies unknown (not in FCR)
            case(3, since - 5000, status="solved", solved_at=since + 5000, reopens=1),
            # created in the window, still open
            case(4, since + 50),
        ],
    )
    c = compute(store, UTC_SETTINGS, T0, since)["queues"]["Mail"]["cases"]
    assert (c["created"], c["solved"]) == (3, 3)
    assert c["first_reply_s"] == {"avg": 200.0, "p50": 100.0, "p90": 300.0, "max": 300.0}
    assert c["resolution_s"]["avg"] == pytest.approx((1000 + 3000 + 10_000) / 3)
    assert (c["resolution_s"]["p50"], c["resolution_s"]["max"]) == (3000.0, 10_000.0)
    assert c["fcr_pct"] == pytest.approx(50.0)  # 1 of the 2 with a known reply count
    assert c["reopen_rate_pct"] == pytest.approx(100 / 3)
    assert c["resolution_rate_pct"] == pytest.approx(200 / 3)  # 2 of the 3 created in the window are solved


def test_first_reply_in_business_hours_across_a_weekend_and_dst(store):
    # Europe/Berlin moves to summer time on Sunday 2026-03-29. Created Friday 17:00 CET, replied Monday 09:00 CEST:
    # open time Friday 17–18 + Monday 08–09 = 2 h; calendar time Fri 16:00Z → Mon 07:00Z = 63 h.
    settings = MetricsSettings(timezone="Europe/Berlin")
    created, replied = berlin("2026-03-27T17:00"), berlin("2026-03-30T09:00")
    ingest(store, cases=[case(1, created, first_reply_at=replied)])
    c = compute(store, settings, berlin("2026-03-30T10:00"), berlin("2026-03-30T00:00"))["queues"]["Mail"]["cases"]
    assert c["first_reply_s"]["avg"] == 63 * 3600
    assert c["first_reply_business_s"]["avg"] == 2 * 3600


def test_business_hours_skip_holidays_and_ignore_nights(store):
    settings = MetricsSettings(timezone="Europe/Berlin", business_hours={"holidays": ["2026-03-24"]})
    # Monday 17:30 → Wednesday 08:15: Monday 30 min + Tuesday (holiday) 0 + Wednesday 15 min = 45 min.
    created, replied = berlin("2026-03-23T17:30"), berlin("2026-03-25T08:15")
    ingest(store, cases=[case(1, created, first_reply_at=replied)])
    c = compute(store, settings, berlin("2026-03-25T09:00"), berlin("2026-03-25T00:00"))["queues"]["Mail"]["cases"]
    assert c["first_reply_business_s"]["avg"] == 45 * 60


def test_sla_calendar_targets_breached_and_at_risk(store):
    # Defaults: urgent first reply 30 min, resolution 240 min; normal 240 / 1440 min; at risk within 30 min.
    m = 60
    ingest(
        store,
        cases=[
            case(1, T0 - 30 * m, priority="urgent"),  # first reply due exactly at at: breached
            case(2, T0 - 29 * m, priority="urgent"),  # due in 1 min: at risk
            case(3, T0 - 40 * m, priority="urgent", first_reply_at=T0 - 35 * m),  # replied; resolution in 200 min
            case(4, T0 - 210 * m, priority="normal"),  # first reply due in exactly 30 min: at risk (inclusive)
            case(5, T0 - 100 * m, priority="urgent", first_reply_at=T0 + 60),  # reply after at: breached at at
            case(6, T0 - 10 * m, priority="whatever"),  # no target for this priority
        ],
    )
    sla = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]["Mail"]["cases"]["sla"]
    assert sla == {"breached": 2, "at_risk": 2, "next_breach_s": 60.0}


def test_sla_business_hours_targets(store):
    # Urgent first reply within 30 business minutes, Mon–Fri 08–18 Berlin. At Monday 08:10 (after the DST weekend):
    # case 1 created Friday 17:50 has used 10 + 10 = 20 min → due in 10 min (at risk);
    # case 2 created Friday 17:00 has used 60 min → breached.
    settings = MetricsSettings(
        timezone="Europe/Berlin",
        sla={"urgent": {"first_reply_min": 30, "business_hours": True}},
    )
    ingest(
        store,
        cases=[
            case(1, berlin("2026-03-27T17:50"), priority="urgent"),
            case(2, berlin("2026-03-27T17:00"), priority="urgent"),
        ],
    )
    at = berlin("2026-03-30T08:10")
    sla = compute(store, settings, at, at - 3600)["queues"]["Mail"]["cases"]["sla"]
    assert sla == {"breached": 1, "at_risk": 1, "next_breach_s": 600.0}


# -- satisfaction ---------------------------------------------------------------------------------------------------


def rating(i, kind, score, lo, hi, at, comment=None, queue="Mail", case_id=None) -> Rating:
    return Rating("src", str(i), kind, score, hi, at, scale_min=lo, queue=queue, comment=comment, case_id=case_id)


def test_satisfaction_scores(store):
    t = T0 - 100
    ingest(
        store,
        cases=[case("c1", T0 - 5000, queue="Chat")],
        ratings=[
            # CSAT: 1–5 → 5, 4 satisfied, 3 not; 0–1 (good/bad) → 1 yes, 0 no; 1–3 → 3 yes, 2 no: 4 of 7
            rating(1, "csat", 5, 1, 5, t, comment="great"),
            rating(2, "csat", 4, 1, 5, t + 1),
            rating(3, "csat", 3, 1, 5, t + 2, comment="slow \x1b[31mred\x1b[0m [b]x[/b]"),
            rating(4, "csat", 1, 0, 1, t + 3),
            rating(5, "csat", 0, 0, 1, t + 4, comment="bad", case_id="c1", queue=None),  # queue from its case
            rating(6, "csat", 3, 1, 3, t + 5),
            rating(7, "csat", 2, 1, 3, t + 6),
            # NPS 10, 9 promoters; 8 passive; 6, 0 detractors: (2 − 2) / 5 = 0
            *(rating(10 + i, "nps", s, 0, 10, t) for i, s in enumerate([10, 9, 8, 6, 0])),
            rating(20, "ces", 7, 1, 7, t),
            rating(21, "ces", 5, 1, 7, t),
            rating(22, "iqs", 3, 1, 5, t),  # 50 %
            rating(23, "iqs", 5, 1, 5, t),  # 100 %
            rating(24, "csat", 5, 1, 5, T0 + 1, comment="after at"),  # ignored
        ],
    )
    queues = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]
    s = queues["all"]["satisfaction"]
    assert (s["csat_pct"], s["csat_responses"]) == (pytest.approx(400 / 7), 7)
    assert (s["nps"], s["nps_responses"]) == (0.0, 5)
    assert (s["ces_avg"], s["ces_responses"]) == (6.0, 2)
    assert (s["iqs_avg"], s["iqs_responses"]) == (75.0, 2)
    # Worst first by score relative to its scale: bad (0/1 → 0.0), slow (3 on 1–5 → 0.5), great (1.0).
    assert [c["comment"] for c in s["comments"]] == ["bad", "slow \x1b[31mred\x1b[0m [b]x[/b]", "great"]
    assert queues["Chat"]["satisfaction"]["csat_responses"] == 1
    assert queues["Mail"]["satisfaction"]["csat_responses"] == 6


# -- agents, occupancy, availability, staffing, cost ------------------------------------------------------------


def test_agents_occupancy_and_availability(store):
    # Window Monday 10:00–12:00 UTC, opening hours 08–18 UTC: 2 h open.
    since = T0 - 7200
    ingest(
        store,
        agent_states=[
            AgentState("src", "a", "available", since - 500, queues=("Billing",)),  # state at window start
            AgentState("src", "a", "busy", since + 1800, queues=("Billing",)),
            AgentState("src", "a", "wrap_up", since + 3600, queues=("Billing",)),
            AgentState("src", "a", "offline", since + 4500, queues=("Billing",)),
            AgentState("src", "b", "away", since + 100, queues=("Sales",)),
            AgentState("src", "b", "available", T0 + 10, queues=("Sales",)),  # after at: ignored
            AgentState("src", "c", "available", since + 6600),  # no queues: serves every queue
        ],
    )
    queues = compute(store, UTC_SETTINGS, T0, since)["queues"]
    billing = queues["Billing"]
    # a: available 1800, busy 1800, wrap-up 900, offline 2700; c: available 600 → (2700) / (2700 + 2400)
    assert billing["contacts"]["occupancy_pct"] == pytest.approx(100 * 2700 / 5100)
    assert billing["agents"] == {"available": 1, "busy": 0, "wrap_up": 0, "away": 0, "offline": 1}
    # available during [since, since+1800) by a and [since+6600, at) by c: 2400 of 7200 s
    assert billing["availability_pct"] == pytest.approx(100 * 2400 / 7200)
    assert billing["staffing"]["agents_logged_in"] == 1
    assert queues["Sales"]["agents"] == {"available": 1, "busy": 0, "wrap_up": 0, "away": 1, "offline": 0}
    assert queues["Sales"]["staffing"]["agents_logged_in"] == 2
    assert queues["all"]["agents"] == {"available": 1, "busy": 0, "wrap_up": 0, "away": 1, "offline": 1}


def test_an_agent_counts_once_in_each_queue_it_lists(store):
    since = T0 - 7200
    ingest(
        store,
        agent_states=[
            AgentState("src", "a", "busy", since + 10, queues=("Billing", "Billing", "Sales")),
            AgentState("src", "b", "away", since + 20, queues=("Sales",)),
            AgentState("src", "c", "available", since + 30),  # no queues: serves every queue
        ],
    )
    queues = compute(store, UTC_SETTINGS, T0, since)["queues"]
    assert queues["Billing"]["agents"] == {"available": 1, "busy": 1, "wrap_up": 0, "away": 0, "offline": 0}
    assert queues["Sales"]["agents"] == {"available": 1, "busy": 1, "wrap_up": 0, "away": 1, "offline": 0}
    assert queues["all"]["agents"] == {"available": 1, "busy": 1, "wrap_up": 0, "away": 1, "offline": 0}


def test_availability_is_null_outside_opening_hours(store):
    saturday = T0 + 5 * 86400
    assert compute(store, UTC_SETTINGS, saturday, saturday - 3600)["queues"]["all"]["availability_pct"] is None


def test_staffing_from_the_last_hour(store):
    # 200 offers in the last hour, each handled 170 s + 10 s wrap-up: AHT 180 s, 10 Erlangs → 14 agents at 80/20
    # (metrics.md §9.4). One earlier offer is outside the hour; those ending after at are not in the AHT.
    start = T0 - 3600
    contacts = [
        contact(i, start + 18 * i, answered_at=start + 18 * i, ended_at=start + 18 * i + 170, wrap_up_s=10)
        for i in range(200)
    ]
    contacts.append(contact(999, start - 1, answered_at=start - 1, ended_at=start - 1 + 400))
    ingest(store, contacts=contacts)
    queues = compute(store, UTC_SETTINGS, T0, T0 - 7200)["queues"]
    staffing = queues["Billing"]["staffing"]
    assert staffing["arrivals_per_hour"] == 200
    # The one earlier contact ended inside the hour and counts in AHT: (190 × 180 + 400) / 191.
    ended = [c for c in contacts if start <= c.ended_at < T0]
    assert staffing["aht_s"] == pytest.approx((180 * (len(ended) - 1) + 400) / len(ended))
    assert staffing["agents_needed"] == 14
    assert queues["all"]["staffing"]["agents_needed"] == 14


def test_cost_per_contact(store):
    # 4 h window of a 1200-per-day budget = 200; 3 answered contacts + 1 solved case = 4 handled → 50 each.
    since = T0 - 4 * 3600
    ingest(
        store,
        contacts=[contact(i, since + 10 * i, answered_at=since + 10 * i + 1) for i in range(3)],
        cases=[case(1, since, status="solved", solved_at=since + 100)],
    )
    costs = CostSettings(period_cost=1200, period="day")
    queues = compute(store, UTC_SETTINGS, T0, since, costs=costs)["queues"]
    assert queues["all"]["cost_per_contact"] == pytest.approx(50.0)
    assert queues["Billing"]["cost_per_contact"] is None
    assert compute(store, UTC_SETTINGS, T0, since)["queues"]["all"]["cost_per_contact"] is None


# -- queue snapshots (aggregate-only sources) --------------------------------------------------------------------


def snap(queue, at, **kw) -> QueueSnapshot:
    return QueueSnapshot("twilio", queue, at, **kw)


def test_queue_known_only_from_snapshots(store):
    ingest(
        store,
        contacts=[contact(1, T0 - 100, answered_at=T0 - 90)],
        queue_snapshots=[
            snap("Phones", T0 - 900, waiting=9, longest_wait_s=99),
            snap(
                "Phones",
                T0 - 120,
                waiting=3,
                longest_wait_s=40,
                agents_online=5,
                agents_available=2,
                window_start=T0 - 3600,
                offered=12,
                answered=8,
                abandoned=2,
                short_abandoned=1,
                answered_within_sl=6,
                abandoned_within_sl=1,
                sl_threshold_s=20,
                wait_total_s=80,
            ),
            snap("Phones", T0 + 30, waiting=50),  # after at: ignored
        ],
    )
    queues = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]
    c = queues["Phones"]["contacts"]
    # Longest wait 40 s when the snapshot was taken 120 s ago: that caller has now waited 160 s.
    assert (c["waiting_now"], c["longest_wait_s"], c["oldest_waiting_since"]) == (3, 160.0, T0 - 160)
    assert (c["offered"], c["answered"], c["abandoned"], c["short_abandoned"]) == (12, 8, 2, 1)
    assert c["service_level_pct_by_policy"] == pytest.approx(
        {
            "answered_only": 75.0,
            "all_abandons": 60.0,
            "exclude_short": 100 * 6 / 9,
            "abandoned_after_threshold": 100 * 6 / 9,
            "abandons_within_threshold_met": 70.0,
        }
    )
    assert c["asa_s"] == 10.0 and c["abandon_rate_pct"] == 20.0
    assert c["basis"] == "queue_snapshot"
    assert queues["Phones"]["agents"]["available"] == 2 and queues["Phones"]["agents"]["busy"] == 3
    assert queues["Phones"]["staffing"]["agents_logged_in"] == 5
    # "all" adds the snapshot queue's counts to the contact rows'.
    everything = queues["all"]["contacts"]
    assert (everything["offered"], everything["answered"], everything["waiting_now"]) == (13, 9, 3)
    assert everything["asa_s"] == pytest.approx((80 + 10) / 9)


def test_stale_snapshot_gives_no_current_state(store):
    ingest(store, queue_snapshots=[snap("Phones", T0 - 601, waiting=3, longest_wait_s=40)])
    c = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]["Phones"]["contacts"]
    assert c["waiting_now"] == 0 and c["longest_wait_s"] is None


def test_live_snapshot_says_who_waits_when_contact_rows_hold_only_finished_calls(store):
    # Zendesk Talk: per-call history holds finished calls only; the queue activity snapshot knows who waits now.
    ingest(
        store,
        contacts=[contact(1, T0 - 300, queue="Phones", answered_at=T0 - 290, ended_at=T0 - 100)],
        queue_snapshots=[snap("Phones", T0 - 30, waiting=3, longest_wait_s=40, offered=99, answered=98)],
    )
    c = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]["Phones"]["contacts"]
    assert (c["waiting_now"], c["longest_wait_s"]) == (3, 40 + 30)
    assert (c["offered"], c["answered"]) == (1, 1)  # counts come from the contact rows, not the snapshot too
    everything = compute(store, UTC_SETTINGS, T0, T0 - 3600)["queues"]["all"]["contacts"]
    assert everything["waiting_now"] == 3 and everything["offered"] == 1
