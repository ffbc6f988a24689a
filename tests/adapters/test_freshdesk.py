"""The Freshdesk adapter against the Freshdesk emulator: full syncs under faults, the page cap, both readings of
what the reference leaves open, the board's figures against ground truth, auth failures and malformed records."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from shiftboard import metrics
from shiftboard.adapters.freshdesk import FreshdeskSettings
from shiftboard.config import MetricsSettings
from shiftboard.model import parse_time
from shiftboard.store import Store
from tests.adapters.support import FakeTime, FaultPlan, approx, rows, source_health, spread, sync
from tests.emulators.freshdesk import DAY, FreshdeskEmulator
from tests.emulators.server import EmulatorServer, Fault

ENV = "FRESHDESK_TEST_KEY"

# The test's own reading of Freshdesk's codes (reference §3), independent of the adapter's tables.
EXPECTED_STATUS = {2: "open", 3: "pending", 4: "solved", 5: "closed", 6: "on_hold", 7: "on_hold"}
EXPECTED_PRIORITY = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
EXPECTED_CHANNEL = {1: "email", 2: "web", 3: "voice", 7: "chat", 9: "web", 10: "email", 15: "chat", 99: "other"}
EXPECTED_SCORE = {103: 7, 102: 6, 101: 5, 100: 4, -101: 3, -102: 2, -103: 1}
GROUPS = {11: "Billing", 12: "Tech", None: "unassigned"}


def settings(url: str, **extra: Any) -> FreshdeskSettings:
    values: dict[str, Any] = {
        "name": "fd",
        "kind": "freshdesk",
        "url": url,
        "token_env": ENV,
        "per_page": 10,
        "initial_days": 90,
    }
    values.update(extra)
    return FreshdeskSettings(**values)


def expected_status(ticket: dict[str, Any], stats: bool = True) -> str:
    status = EXPECTED_STATUS[ticket["status"]]
    if status == "open" and stats and ticket["stats"]["first_responded_at"] is None:
        return "new"
    return status


def run(emulator: FreshdeskEmulator, store: Store, plan: dict[int, list[Any]] | None = None, **extra: Any):
    time = FakeTime(emulator.now)
    handler = FaultPlan(emulator, plan or {})
    with EmulatorServer(handler) as server:
        handler.server = server
        config = settings(server.url, **extra)
        outcome = sync(store, config, time.context({ENV: emulator.api_key}), emulator.now)
    return outcome, time, server, config


def test_full_sync_equals_the_emulator_under_429s_and_5xx(store: Store) -> None:
    emulator = FreshdeskEmulator().seed(count=120)
    plan = {
        2: [Fault("429", retry_after=7)],
        5: [Fault("500"), Fault("503")],
        9: [Fault("429", retry_after=3), Fault("502")],
    }
    outcome, time, server, config = run(emulator, store, plan)
    assert outcome.error is None and outcome.skipped == 0
    cases = rows(store, "cases", "fd")
    assert sorted(cases) == sorted(str(t["id"]) for t in emulator.tickets)
    for ticket in emulator.tickets:
        case = cases[str(ticket["id"])]
        assert case["status"] == expected_status(ticket)
        assert case["priority"] == EXPECTED_PRIORITY[ticket["priority"]]
        assert case["channel"] == EXPECTED_CHANNEL[ticket["source"]]
        assert case["queue"] == GROUPS[ticket["group_id"]]
        assert case["created_at"] == parse_time(ticket["created_at"])
        assert case["first_reply_at"] == parse_time(ticket["stats"]["first_responded_at"])
        solved = ticket["stats"]["resolved_at"] or ticket["stats"]["closed_at"]
        assert case["solved_at"] == parse_time(solved)
    ratings = rows(store, "ratings", "fd")
    assert {k: v["score"] for k, v in ratings.items()} == {
        str(r["id"]): EXPECTED_SCORE[r["ratings"]["default_question"]] for r in emulator.ratings
    }
    assert all(r["scale_min"] == 1 and r["scale_max"] == 7 and r["kind"] == "csat" for r in ratings.values())
    states = {r["agent"]: r["state"] for r in store.query("SELECT * FROM agent_states WHERE source = 'fd'")}
    assert states == {str(a["id"]): "available" if a["available"] else "offline" for a in emulator.agents}
    # Retry-After was honoured: the retries waited exactly what the 429s asked for.
    assert 7 in time.sleeps and 3 in time.sleeps
    assert source_health(store, config, time.now).status == "ok"
    # Every ticket request carried updated_since, so the 30-day default window never applied.
    ticket_requests = [r for r in server.requests if r.path == "/api/v2/tickets"]
    assert ticket_requests and all(r.arg("updated_since") for r in ticket_requests)
    assert any(parse_time(t["created_at"]) < emulator.now - 30 * DAY for t in emulator.tickets)


@pytest.mark.parametrize(
    ("emulator_cap", "adapter_pages", "inclusive", "stats"),
    [
        (3, 300, True, True),  # the API enforces a cap the adapter did not expect: its 400 restarts the window
        (None, 3, True, True),  # no cap at all (Airbyte saw page 800 work): the adapter restarts by itself
        (3, 3, False, True),  # updated_since read as exclusive of its own second
        (3, 300, False, False),  # include=stats ignored (UNCONFIRMED): no first-reply times, open stays open
    ],
)
def test_page_cap_and_window_readings(
    store: Store, emulator_cap: int | None, adapter_pages: int, inclusive: bool, stats: bool
) -> None:
    emulator = FreshdeskEmulator(page_cap=emulator_cap, since_inclusive=inclusive, stats=stats).seed(count=90)
    outcome, _time, server, _config = run(emulator, store, max_pages=adapter_pages, per_page=5)
    assert outcome.error is None
    cases = rows(store, "cases", "fd")
    assert sorted(cases) == sorted(str(t["id"]) for t in emulator.tickets)
    assert {k: c["status"] for k, c in cases.items()} == {
        str(t["id"]): expected_status(t, stats) for t in emulator.tickets
    }
    # Ratings come in id order, not time order, over more pages than max_pages: still all of them.
    assert len(emulator.ratings) > 15
    assert sorted(rows(store, "ratings", "fd")) == sorted(str(r["id"]) for r in emulator.ratings)
    pages = [int(r.arg("page") or 1) for r in server.requests if r.path == "/api/v2/tickets"]
    assert max(pages) <= (emulator_cap or adapter_pages) + 1
    assert len(pages) > 90 // 5  # it had to restart: more requests than pages of one window


def test_second_sync_reads_only_what_changed(store: Store) -> None:
    emulator = FreshdeskEmulator().seed(count=40)
    outcome, time, _server, _config = run(emulator, store)
    assert outcome.error is None
    changed = emulator.tickets[3]
    changed.update(status=5, updated_at="2026-05-28T21:00:00Z", _updated=parse_time("2026-05-28T21:00:00Z"))
    changed["stats"]["closed_at"] = "2026-05-28T21:00:00Z"
    emulator.now += 3600
    with EmulatorServer(emulator) as server:
        outcome = sync(store, settings(server.url), time.context({ENV: emulator.api_key}), emulator.now)
        ticket_requests = [r for r in server.requests if r.path == "/api/v2/tickets"]
    assert outcome.error is None
    assert rows(store, "cases", "fd")[str(changed["id"])]["status"] == "closed"
    assert len(ticket_requests) == 1  # one page: the window moved past everything already read


def test_board_figures_equal_ground_truth(store: Store) -> None:
    emulator = FreshdeskEmulator().seed(count=150, seed=11)
    outcome, *_ = run(emulator, store)
    assert outcome.error is None
    at, since = emulator.now, emulator.now - 7 * DAY
    figures = metrics.compute(store, MetricsSettings(), at, since=since)["queues"]

    open_tickets = [t for t in emulator.tickets if expected_status(t) in ("new", "open", "pending", "on_hold")]
    backlog = figures["all"]["cases"]["backlog"]
    assert backlog["open"] == len(open_tickets)
    assert backlog["by_status"] == {
        s: sum(1 for t in open_tickets if expected_status(t) == s) for s in ("new", "open", "pending", "on_hold")
    }
    assert backlog["by_priority"] == {
        p: sum(1 for t in open_tickets if EXPECTED_PRIORITY[t["priority"]] == p)
        for p in ("low", "normal", "high", "urgent")
    }
    billing = [t for t in open_tickets if t["group_id"] == 11]
    assert figures["Billing"]["cases"]["backlog"]["open"] == len(billing)

    def seconds(value: str | None) -> float | None:
        return parse_time(value)

    first = [
        seconds(t["stats"]["first_responded_at"]) - seconds(t["created_at"])
        for t in emulator.tickets
        if t["stats"]["first_responded_at"] and since <= seconds(t["stats"]["first_responded_at"]) < at
    ]
    solved = [
        seconds(t["stats"]["resolved_at"] or t["stats"]["closed_at"]) - seconds(t["created_at"])
        for t in emulator.tickets
        if (t["stats"]["resolved_at"] or t["stats"]["closed_at"])
        and since <= seconds(t["stats"]["resolved_at"] or t["stats"]["closed_at"]) < at
    ]
    assert first and solved
    assert approx(figures["all"]["cases"]["first_reply_s"], spread(first))
    assert approx(figures["all"]["cases"]["resolution_s"], spread(solved))
    assert figures["all"]["agents"]["available"] == sum(1 for a in emulator.agents if a["available"])


def test_wrong_key_fails_with_a_clear_reason_and_no_secret(store: Store) -> None:
    emulator = FreshdeskEmulator().seed(count=5)
    time = FakeTime(emulator.now)
    wrong = "fd-wrong-key-ZZZZ"
    with EmulatorServer(emulator) as server:
        config = settings(server.url)
        outcome = sync(store, config, time.context({ENV: wrong}), emulator.now)
    assert outcome.error is not None and "401" in outcome.error
    status = source_health(store, config, time.now)
    assert status.status == "failing" and "401" in (status.reason or "")
    assert wrong not in (status.reason or "") and emulator.api_key not in (status.reason or "")
    assert store.counts()["cases"] == 0


def test_missing_key_names_the_variable(store: Store) -> None:
    time = FakeTime(0)
    config = settings("http://127.0.0.1:9")
    outcome = sync(store, config, time.context({}), 1_000.0)
    assert outcome.error is not None and ENV in outcome.error


def test_malformed_records_are_skipped_and_counted(store: Store) -> None:
    emulator = FreshdeskEmulator().seed(count=20)
    emulator.tickets.insert(
        2, {"id": "x-1", "status": 2, "created_at": "2026-05-28T10:00:00Z", "updated_at": "2026-05-28T10:00:00Z"}
    )
    emulator.tickets.insert(
        5, {"id": 9001, "status": "open", "created_at": "2026-05-28T10:00:00Z", "updated_at": "2026-05-28T10:00:01Z"}
    )
    emulator.tickets.insert(
        7, {"id": 9002, "status": 2, "created_at": "yesterday", "updated_at": "2026-05-28T10:00:02Z"}
    )
    emulator.ratings.append({"id": 7001, "ratings": {"default_question": 55}, "created_at": "2026-05-28T10:00:00Z"})
    outcome, _time, _server, _config = run(emulator, store)
    assert outcome.error is None
    assert outcome.skipped == 4
    good = [t for t in emulator.tickets if isinstance(t["id"], int) and t["id"] < 9000]
    assert sorted(rows(store, "cases", "fd")) == sorted(str(t["id"]) for t in good)
    state = store.sync_state("fd")
    assert state is not None and state.skipped_total == 4


def test_custom_status_map(store: Store) -> None:
    emulator = FreshdeskEmulator().seed(count=60)
    run(emulator, store, status_map={7: "pending"})
    cases = rows(store, "cases", "fd")
    by_code = Counter((t["status"], cases[str(t["id"])]["status"]) for t in emulator.tickets if t["status"] in (6, 7))
    assert set(by_code) == {(6, "on_hold"), (7, "pending")}


def test_rate_limit_reserve_ends_the_sync_early_and_the_next_one_resumes(store: Store) -> None:
    emulator = FreshdeskEmulator(rate_limit_remaining=6).seed(count=60)
    outcome, time, _server, _config = run(emulator, store, rate_limit_reserve=2)
    assert outcome.error is None and outcome.pages < 8
    assert 0 < len(rows(store, "cases", "fd")) < 60
    emulator.rate_limit_remaining = 200  # the next minute
    with EmulatorServer(emulator) as server:
        outcome = sync(
            store, settings(server.url, rate_limit_reserve=2), time.context({ENV: emulator.api_key}), emulator.now
        )
    assert outcome.error is None
    assert sorted(rows(store, "cases", "fd")) == sorted(str(t["id"]) for t in emulator.tickets)


def test_the_emulator_applies_the_30_day_default_without_updated_since() -> None:
    """The pitfall the adapter avoids is real in the emulator: no updated_since, no tickets older than 30 days."""
    emulator = FreshdeskEmulator().seed(count=60)
    with EmulatorServer(emulator) as server:
        answer = httpx.get(f"{server.url}/api/v2/tickets", params={"per_page": 100}, auth=(emulator.api_key, "X"))
    ids = {t["id"] for t in answer.json()}
    recent = {t["id"] for t in emulator.tickets if parse_time(t["created_at"]) >= emulator.now - 30 * DAY}
    assert ids == recent and len(recent) < len(emulator.tickets)
