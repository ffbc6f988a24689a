"""The rows behind figures, on a small hand-made cache (tests/tui/seed.py; expectations worked out by hand)."""

from __future__ import annotations

import pytest

from shiftboard import drilldown
from shiftboard.config import SlaTarget
from shiftboard.model import Batch, Case, Contact
from tests.tui.seed import NOW, base_batch, write

SINCE = NOW - 10 * 3600  # 00:00 UTC


@pytest.fixture
def seeded(store):
    write(store, base_batch())
    return store


def ids(rows):
    return [r["id"] for r in rows]


def test_waiting_longest_first_with_waits(seeded):
    rows = drilldown.waiting_contacts(seeded, None, SINCE, NOW)
    assert ids(rows) == ["b-w1", "b-w2", "s-w1"]
    assert [r["wait_s"] for r in rows] == [90, 30, 5]
    assert ids(drilldown.waiting_contacts(seeded, "Sales", SINCE, NOW)) == ["s-w1"]
    assert ids(drilldown.waiting_contacts(seeded, None, SINCE, NOW, limit=1)) == ["b-w1"]


def test_a_contact_answered_after_at_was_waiting_at_at(seeded):
    # b-a1 was offered at NOW-3600 and answered at NOW-3590: at NOW-3595 it was waiting, 5 s long.
    rows = drilldown.waiting_contacts(seeded, "Billing", SINCE, NOW - 3595)
    assert ids(rows) == ["b-a1"] and rows[0]["wait_s"] == 5


def test_answered_by_wait_abandoned_and_blocked(seeded):
    answered = drilldown.answered_contacts(seeded, None, SINCE, NOW)
    assert ids(answered) == ["b-a3", "b-a2", "b-a1", "s-a1"]
    assert [r["wait_s"] for r in answered] == [40, 20, 10, 5]
    abandoned = drilldown.abandoned_contacts(seeded, None, SINCE, NOW)
    assert ids(abandoned) == ["b-ab"] and abandoned[0]["wait_s"] == 60
    assert ids(drilldown.blocked_contacts(seeded, None, SINCE, NOW)) == ["b-bl"]
    # Outside the window nothing counts.
    assert drilldown.answered_contacts(seeded, None, NOW - 60, NOW) == []


def test_open_cases_oldest_first_and_agents_in_a_state(seeded):
    cases = drilldown.open_cases(seeded, None, SINCE, NOW)
    assert ids(cases) == ["C-1", "C-2", "C-3", "C-4"]
    assert cases[0]["age_s"] == 3 * 3600 and cases[0]["subject"] == "Invoice wrong"
    assert ids(drilldown.open_cases(seeded, "Sales", SINCE, NOW)) == ["C-4"]
    busy = drilldown.agents_in_state(seeded, None, SINCE, NOW, state="busy")
    assert [r["agent"] for r in busy] == ["ag1"] and busy[0]["in_state_s"] == 300
    away_in_sales = drilldown.agents_in_state(seeded, "Sales", SINCE, NOW, state="away")
    assert [r["agent"] for r in away_in_sales] == ["ag4"] and away_in_sales[0]["queues"] == "Billing, Sales"
    assert drilldown.agents_in_state(seeded, "Sales", SINCE, NOW, state="busy") == []


def test_sla_breached_and_at_risk(seeded):
    targets = {"urgent": SlaTarget(first_reply_min=20), "high": SlaTarget(first_reply_min=240)}
    rows = drilldown.sla_cases(seeded, None, SINCE, NOW, targets=targets)
    # C-4 urgent, 30 min old, no reply: 10 min past a 20 min target. C-1 high, 3 h old: 1 h of 4 h left (25 %).
    expected = [("C-4", "breached", 600.0), ("C-1", "at risk", -3600.0)]
    assert [(r["id"], r["sla"], r["overdue_s"]) for r in rows] == expected


def test_ratings_and_record(seeded):
    assert ids(drilldown.recent_ratings(seeded, "Billing", SINCE, NOW)) == ["R-1"]
    assert drilldown.recent_ratings(seeded, "Sales", SINCE, NOW) == []
    assert drilldown.record(seeded, "case", "seed", "C-2")["assignee"] == "ag1"
    assert drilldown.record(seeded, "agent", "seed", "ag3")["state"] == "wrap_up"
    assert drilldown.record(seeded, "contact", "seed", "nope") is None


def test_limit_caps_at_max_rows(store):
    batch = Batch(contacts=[Contact("s", f"c{i}", "Q", NOW - 1 - i * 0.001) for i in range(drilldown.MAX_ROWS + 5)])
    batch.cases = [Case("s", "x", "Q", "open", "low", NOW - 5)]
    write(store, batch)
    assert len(drilldown.waiting_contacts(store, None, SINCE, NOW, limit=10**9)) == drilldown.MAX_ROWS


def test_sla_at_risk_within_a_fixed_time(seeded):
    targets = {"high": SlaTarget(first_reply_min=240)}
    # C-1 has 1 h left: at risk within 60 min (inclusive), not within 59 min.
    assert ids(drilldown.sla_cases(seeded, None, SINCE, NOW, targets=targets, at_risk_s=3600)) == ["C-1"]
    assert drilldown.sla_cases(seeded, None, SINCE, NOW, targets=targets, at_risk_s=3540) == []


def test_the_first_open_cases_of_every_queue_are_the_oldest_across_queues(store):
    # Queues alternate while age falls, so queue order and age order disagree: Z-0 (queue Zeta) is the oldest.
    batch = Batch()
    batch.cases = [
        Case("seed", f"Z-{n}", "Zeta" if n % 2 == 0 else "Alpha", "open", "normal", NOW - 3600 + n * 60)
        for n in range(12)
    ]
    batch.cases.append(Case("seed", "solved", "Alpha", "solved", "normal", NOW - 7200, solved_at=NOW - 60))
    write(store, batch)
    assert ids(drilldown.open_cases(store, None, SINCE, NOW, limit=3)) == ["Z-0", "Z-1", "Z-2"]
    assert ids(drilldown.open_cases(store, None, SINCE, NOW)) == [f"Z-{n}" for n in range(12)]
    assert ids(drilldown.open_cases(store, "Alpha", SINCE, NOW, limit=2)) == ["Z-1", "Z-3"]
    # A case created after ``at`` is not open yet at ``at``.
    assert ids(drilldown.open_cases(store, None, SINCE, NOW - 3600 + 90, limit=5)) == ["Z-0", "Z-1"]
