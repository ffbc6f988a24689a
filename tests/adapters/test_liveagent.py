"""The LiveAgent adapter against the LiveAgent emulator: full syncs under faults, every reading of what the reference
leaves open, the 180-requests-a-minute limit, agents' states, the board's figures, auth failures, malformed rows."""

from __future__ import annotations

from typing import Any

import pytest

from shiftboard import metrics
from shiftboard.adapters.liveagent import LiveAgentSettings
from shiftboard.config import MetricsSettings
from shiftboard.store import Store
from tests.adapters.support import FakeTime, approx, rows, run_synced, source_health, spread, sync
from tests.emulators.liveagent import DAY, LiveAgentEmulator
from tests.emulators.server import EmulatorServer, Fault

ENV = "LIVEAGENT_TEST_KEY"
# The test's own reading of LiveAgent's codes (reference §4 "Mapping").
EXPECTED_STATUS = dict(
    I="new",
    N="new",
    C="open",
    T="open",
    P="open",
    A="pending",
    W="on_hold",
    R="solved",
    L="closed",
    X="deleted",
    B="deleted",
)
EXPECTED_CHANNEL = dict(E="email", M="web", B="web", I="web", S="web", Q="web", C="voice", W="voice", F="social")
EXPECTED_CHANNEL.update(A="social", T="social")


def settings(url: str, **extra: Any) -> LiveAgentSettings:
    values: dict[str, Any] = {"name": "la", "kind": "liveagent", "url": url, "token_env": ENV, "per_page": 10}
    values.update(extra)
    return LiveAgentSettings(**values)


def run(emulator: LiveAgentEmulator, store: Store, plan: dict[int, list[Any]] | None = None, **extra: Any):
    return run_synced(emulator, store, settings, {ENV: emulator.api_key}, plan, **extra)


def assert_equal_to_emulator(store: Store, emulator: LiveAgentEmulator) -> None:
    cases = rows(store, "cases", "la")
    tickets = [t for t in emulator.tickets if "raw" not in t]
    assert sorted(cases) == sorted(t["id"] for t in tickets)
    for t in tickets:
        case = cases[t["id"]]
        assert case["status"] == EXPECTED_STATUS[t["status"]]
        assert case["channel"] == EXPECTED_CHANNEL[t["channel_type"]]
        assert case["queue"] == t["departmentid"]
        assert case["priority"] == "normal"
        assert case["created_at"] == t["created"] and case["updated_at"] == t["changed"]
        assert case["solved_at"] == t["resolved"]
    contacts = rows(store, "contacts", "la")
    incoming = [c for c in emulator.calls if "raw" not in c and c["type"] == "I"]
    assert sorted(contacts) == sorted(c["id"] for c in incoming)
    for c in incoming:
        contact = contacts[c["id"]]
        assert (contact["offered_at"], contact["answered_at"], contact["ended_at"]) == (
            c["created"],
            c["answered"],
            c["finished"],
        )
        assert contact["abandoned_at"] == (c["finished"] if c["answered"] is None else None)


def test_full_sync_equals_the_emulator_under_429s_and_5xx(store: Store) -> None:
    emulator = LiveAgentEmulator().seed()
    plan = {2: [Fault("429", retry_after=9)], 6: [Fault("500"), Fault("502")], 11: [Fault("429", retry_after=4)]}
    outcome, time, _server, config = run(emulator, store, plan)
    assert outcome.error is None and outcome.skipped == 0
    assert_equal_to_emulator(store, emulator)
    states = {r["agent"]: r["state"] for r in store.query("SELECT * FROM agent_states WHERE source = 'la'")}
    assert states == {"ag1": "available", "ag2": "busy", "ag3": "away", "ag4": "offline"}
    assert 9 in time.sleeps and 4 in time.sleeps
    assert source_health(store, config, time.now).status == "ok"


@pytest.mark.parametrize(
    ("filters", "dates", "zone", "call_cursor"),
    [
        ("honoured", "naive", "UTC", True),
        ("ignored", "naive", "America/Los_Angeles", False),
        ("rejected", "offset", "Europe/Berlin", True),
        ("honoured", "epoch", "UTC", False),
    ],
)
def test_readings_of_filters_dates_and_call_cursors(
    store: Store, filters: str, dates: str, zone: str, call_cursor: bool
) -> None:
    emulator = LiveAgentEmulator(filters=filters, dates=dates, zone=zone, call_cursor=call_cursor).seed()
    outcome, *_ = run(emulator, store, timezone=zone)
    assert outcome.error is None and outcome.skipped == 0
    assert_equal_to_emulator(store, emulator)


def test_the_pace_keeps_within_180_a_minute_and_429s_are_waited_out(store: Store) -> None:
    emulator = LiveAgentEmulator().seed(count=1500, calls=300)
    outcome, time, server, _config = run(emulator, store)
    assert outcome.error is None
    assert emulator.rate_limited == 0 and len(server.requests) > 180
    # At 170 a minute after a burst of 10, the sync took at least this long in (fake) time.
    assert time.now - emulator.now >= (len(server.requests) - 10) * 60 / 170 - 1e-6
    assert_equal_to_emulator(store, emulator)
    # Without the pace (a burst as large as the sync), the emulator refuses and Retry-After carries the sync through.
    again = LiveAgentEmulator().seed(count=1500, calls=300)
    with Store(store.path.with_name("other.sqlite")) as other:
        outcome, _time, _server, _config = run(again, other, burst=10_000)
        assert outcome.error is None
        assert again.rate_limited > 0
        assert_equal_to_emulator(other, again)


def test_agent_states_are_recorded_when_they_change(store: Store) -> None:
    emulator = LiveAgentEmulator().seed(count=5, calls=0)
    _outcome, time, _server, _config = run(emulator, store)
    emulator.agents[0]["online_status"] = "P"
    time.now += 60
    with EmulatorServer(emulator) as server:
        sync(store, settings(server.url), time.context({ENV: emulator.api_key}), time.now)
    history = store.query("SELECT agent, state, since FROM agent_states WHERE source = 'la' ORDER BY agent, since")
    assert [(r["agent"], r["state"]) for r in history] == [
        ("ag1", "available"),
        ("ag1", "away"),
        ("ag2", "busy"),
        ("ag3", "away"),
        ("ag4", "offline"),
    ]


def test_board_figures_equal_ground_truth(store: Store) -> None:
    emulator = LiveAgentEmulator().seed(count=150, calls=120, seed=9)
    outcome, *_ = run(emulator, store)
    assert outcome.error is None
    at, since = emulator.now, emulator.now - 3 * DAY
    figures = metrics.compute(store, MetricsSettings(), at, since=since)["queues"]
    open_tickets = [
        t for t in emulator.tickets if EXPECTED_STATUS[t["status"]] in ("new", "open", "pending", "on_hold")
    ]
    backlog = figures["all"]["cases"]["backlog"]
    assert backlog["open"] == len(open_tickets)
    assert backlog["by_status"] == {
        s: sum(1 for t in open_tickets if EXPECTED_STATUS[t["status"]] == s)
        for s in ("new", "open", "pending", "on_hold")
    }
    assert backlog["by_priority"]["normal"] == len(open_tickets)
    assert figures["sales"]["cases"]["backlog"]["open"] == sum(1 for t in open_tickets if t["departmentid"] == "sales")
    solved = [t["resolved"] - t["created"] for t in emulator.tickets if t["resolved"] and since <= t["resolved"] < at]
    assert approx(figures["all"]["cases"]["resolution_s"], spread(solved))
    calls = [c for c in emulator.calls if c["type"] == "I" and since <= c["created"] < at]
    answered = [c for c in calls if c["answered"] is not None]
    abandoned = [c for c in calls if c["answered"] is None and c["finished"] is not None]
    phone = figures["phone"]["contacts"]
    assert phone["offered"] == len(calls)
    assert phone["answered"] == len(answered)
    assert phone["abandoned"] == len(abandoned)
    assert phone["asa_s"] == pytest.approx(sum(c["answered"] - c["created"] for c in answered) / len(answered))
    # Agents' states are stamped with the moment the sync noticed them (LiveAgent gives no "since"): look just after.
    agents = metrics.compute(store, MetricsSettings(), at + 1, since=since)["queues"]["all"]["agents"]
    assert (agents["available"], agents["busy"], agents["away"], agents["offline"]) == (1, 1, 1, 1)


def test_wrong_key_fails_with_a_clear_reason_and_no_secret(store: Store) -> None:
    emulator = LiveAgentEmulator().seed(count=5)
    time = FakeTime(emulator.now)
    wrong = "la-WRONG-key-123"
    with EmulatorServer(emulator) as server:
        config = settings(server.url)
        outcome = sync(store, config, time.context({ENV: wrong}), emulator.now)
    status = source_health(store, config, time.now)
    assert outcome.error is not None
    assert status.status == "failing" and "401" in (status.reason or "")
    assert wrong not in (status.reason or "") and emulator.api_key not in (status.reason or "")


def test_malformed_rows_are_skipped_and_counted(store: Store) -> None:
    emulator = LiveAgentEmulator().seed(count=30, calls=20)
    stamp = emulator.now - DAY
    emulator.tickets += [
        {"id": "bad1", "changed": stamp, "raw": {"id": "bad1", "status": "Z", "date_created": "2026-05-01 10:00:00"}},
        {"id": "bad2", "changed": stamp, "raw": {"id": "bad2", "status": "C", "date_created": "31/05/2026"}},
        {"id": "bad3", "changed": stamp, "raw": {"status": "C"}},
    ]
    emulator.calls.append({"id": "cbad", "created": stamp, "raw": {"id": "cbad", "type": "I", "date_created": None}})
    outcome, *_ = run(emulator, store)
    assert outcome.error is None and outcome.skipped == 4
    assert_equal_to_emulator(store, emulator)
