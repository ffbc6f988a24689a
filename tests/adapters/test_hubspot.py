"""The HubSpot adapter against the HubSpot emulator: full syncs under faults, the 10,000-result cap and identical
modification times, both readings of the reply/close properties, stage mapping, the board's figures, auth failures
and malformed records."""

from __future__ import annotations

from typing import Any

import pytest

from shiftboard import metrics
from shiftboard.adapters.hubspot import HubSpotSettings
from shiftboard.config import MetricsSettings
from shiftboard.store import Store
from tests.adapters.support import FakeTime, approx, rows, run_synced, source_health, spread, sync
from tests.emulators.hubspot import DAY, HubSpotEmulator
from tests.emulators.server import EmulatorServer, Fault

ENV = "HUBSPOT_TEST_TOKEN"
# The test's own reading of the emulator's stages (first open stage → new, "waiting on contact" → pending,
# CLOSED → closed), independent of the adapter.
EXPECTED_STATUS = {
    "1": "new",
    "2": "pending",
    "3": "open",
    "4": "closed",
    "101": "new",
    "102": "open",
    "103": "closed",
}
EXPECTED_PRIORITY = {"LOW": "low", "MEDIUM": "normal", "HIGH": "high", "URGENT": "urgent", None: "normal"}
EXPECTED_CHANNEL = {"EMAIL": "email", "CHAT": "chat", "PHONE": "voice", "FORM": "web", None: None}
QUEUES = {"0": "Support Pipeline", "77": "Billing"}


def settings(url: str, **extra: Any) -> HubSpotSettings:
    values: dict[str, Any] = {
        "name": "hs",
        "kind": "hubspot",
        "url": url,
        "token_env": ENV,
        "page_size": 20,
        "initial_days": 60,
    }
    values.update(extra)
    return HubSpotSettings(**values)


def run(emulator: HubSpotEmulator, store: Store, plan: dict[int, list[Any]] | None = None, **extra: Any):
    return run_synced(emulator, store, settings, {ENV: emulator.token}, plan, **extra)


def assert_equal_to_emulator(store: Store, emulator: HubSpotEmulator) -> None:
    cases = rows(store, "cases", "hs")
    good = [t for t in emulator.tickets if "raw" not in t]
    assert sorted(cases) == sorted(t["id"] for t in good)
    for ticket in good:
        case = cases[ticket["id"]]
        assert case["status"] == EXPECTED_STATUS[ticket["hs_pipeline_stage"]]
        assert case["priority"] == EXPECTED_PRIORITY[ticket["hs_ticket_priority"]]
        assert case["channel"] == EXPECTED_CHANNEL[ticket["source_type"]]
        assert case["queue"] == QUEUES[ticket["hs_pipeline"]]
        assert case["created_at"] == pytest.approx(ticket["created"], abs=1e-3)
        assert case["updated_at"] == pytest.approx(ticket["modified"], abs=1e-3)
        for column, key in (("first_reply_at", "first_reply"), ("solved_at", "closed")):
            if ticket[key] is None:
                assert case[column] is None
            else:
                assert case[column] == pytest.approx(ticket[key], abs=2e-3)


def test_full_sync_equals_the_emulator_under_429s_and_5xx(store: Store) -> None:
    emulator = HubSpotEmulator().seed(count=150)
    plan = {1: [Fault("429", retry_after=2)], 3: [Fault("500"), Fault("503")], 6: [Fault("429", retry_after=5)]}
    outcome, time, _server, config = run(emulator, store, plan)
    assert outcome.error is None and outcome.skipped == 0
    assert_equal_to_emulator(store, emulator)
    assert 2 in time.sleeps and 5 in time.sleeps  # Retry-After honoured
    assert source_health(store, config, time.now).status == "ok"


@pytest.mark.parametrize(
    ("emulator_cap", "adapter_cap", "same_time"),
    [
        (50, 50, 0),  # the cap is known: the query restarts before it
        (50, 50, 70),  # more tickets share one hs_lastmodifieddate than one query may page through
        (50, 10_000, 70),  # the API's cap is lower than configured: its 400 restarts the query
        (60, 60, 25),  # ties fewer than the cap but straddling a restart
    ],
)
def test_search_cap_and_identical_timestamps_neither_loop_nor_skip(
    store: Store, emulator_cap: int, adapter_cap: int, same_time: int
) -> None:
    emulator = HubSpotEmulator(search_cap=emulator_cap).seed(count=160, same_time=same_time)
    outcome, _time, _server, _config = run(emulator, store, search_cap=adapter_cap, page_size=10)
    assert outcome.error is None
    assert_equal_to_emulator(store, emulator)
    assert (emulator.refusals == 0) == (adapter_cap <= emulator_cap)
    # Every ticket was read a bounded number of times: no loop (each search page holds at most 10).
    assert emulator.searches < 3 * 160 // 10 + 10


def test_ten_thousand_tickets_sharing_one_timestamp(store: Store) -> None:
    emulator = HubSpotEmulator().seed(count=10_250, same_time=10_100)
    outcome, _time, _server, _config = run(emulator, store, page_size=200)
    assert outcome.error is None
    assert store.counts()["cases"] == 10_250
    assert emulator.searches <= 2 * 10_250 // 200 + 5


def test_second_sync_reads_only_what_changed(store: Store) -> None:
    emulator = HubSpotEmulator().seed(count=60)
    _outcome, time, _server, _config = run(emulator, store)
    before = emulator.searches
    emulator.tickets[5].update(hs_pipeline_stage="4", modified=emulator.now - 10, closed=emulator.now - 10)
    emulator.tickets[5]["hs_pipeline"] = "0"
    with EmulatorServer(emulator) as server:
        outcome = sync(store, settings(server.url), time.context({ENV: emulator.token}), emulator.now)
    assert outcome.error is None
    assert rows(store, "cases", "hs")[emulator.tickets[5]["id"]]["status"] == "closed"
    assert emulator.searches - before == 1


def test_reply_and_close_read_from_durations_when_the_dates_are_absent(store: Store) -> None:
    emulator = HubSpotEmulator(reply_fields="durations").seed(count=80)
    outcome, *_ = run(emulator, store)
    assert outcome.error is None
    assert_equal_to_emulator(store, emulator)


def test_stage_map_overrides_the_defaults(store: Store) -> None:
    emulator = HubSpotEmulator().seed(count=80)
    run(emulator, store, stage_map={"0": {"3": "on_hold"}})
    cases = rows(store, "cases", "hs")
    on_stage_3 = [t["id"] for t in emulator.tickets if t["hs_pipeline_stage"] == "3"]
    assert on_stage_3 and all(cases[i]["status"] == "on_hold" for i in on_stage_3)


def test_searches_are_paced_below_the_per_second_limit(store: Store) -> None:
    emulator = HubSpotEmulator().seed(count=200)
    _outcome, time, _server, _config = run(emulator, store, page_size=10, searches_per_second=4)
    # 20 searches at 4 a second with a burst of 4: at least (20 - 4) / 4 seconds of (fake) waiting.
    assert emulator.searches >= 20
    assert sum(time.sleeps) >= (emulator.searches - 4) / 4 - 1e-9


def test_board_figures_equal_ground_truth(store: Store) -> None:
    emulator = HubSpotEmulator().seed(count=200, seed=3)
    outcome, *_ = run(emulator, store)
    assert outcome.error is None
    at, since = emulator.now, emulator.now - 30 * DAY
    figures = metrics.compute(store, MetricsSettings(), at, since=since)["queues"]
    open_tickets = [t for t in emulator.tickets if EXPECTED_STATUS[t["hs_pipeline_stage"]] != "closed"]
    backlog = figures["all"]["cases"]["backlog"]
    assert backlog["open"] == len(open_tickets)
    assert backlog["by_status"] == {
        s: sum(1 for t in open_tickets if EXPECTED_STATUS[t["hs_pipeline_stage"]] == s)
        for s in ("new", "open", "pending", "on_hold")
    }
    assert backlog["by_priority"] == {
        p: sum(1 for t in open_tickets if EXPECTED_PRIORITY[t["hs_ticket_priority"]] == p)
        for p in ("low", "normal", "high", "urgent")
    }
    assert figures["Billing"]["cases"]["backlog"]["open"] == sum(1 for t in open_tickets if t["hs_pipeline"] == "77")
    first = [t["first_reply"] - t["created"] for t in emulator.tickets if t["first_reply"]]
    solved = [t["closed"] - t["created"] for t in emulator.tickets if t["closed"]]
    assert first and solved
    # Times are stored to the millisecond, as HubSpot sends them.
    got_first, got_solved = figures["all"]["cases"]["first_reply_s"], figures["all"]["cases"]["resolution_s"]
    assert all(abs(got_first[k] - v) < 2e-3 for k, v in spread(first).items())
    assert all(abs(got_solved[k] - v) < 2e-3 for k, v in spread(solved).items())
    assert approx({"n": float(len(solved))}, {"n": float(figures["all"]["cases"]["solved"])})


def test_bad_token_fails_with_a_clear_reason_and_no_secret(store: Store) -> None:
    emulator = HubSpotEmulator().seed(count=5)
    time = FakeTime(emulator.now)
    wrong = "pat-na1-WRONG-secret"
    with EmulatorServer(emulator) as server:
        config = settings(server.url)
        outcome = sync(store, config, time.context({ENV: wrong}), emulator.now)
    status = source_health(store, config, time.now)
    assert outcome.error is not None
    assert status.status == "failing" and "401" in (status.reason or "")
    assert wrong not in (status.reason or "") and emulator.token not in (status.reason or "")


def test_malformed_records_are_skipped_and_counted(store: Store) -> None:
    emulator = HubSpotEmulator().seed(count=30)
    modified = emulator.now - 3 * DAY
    emulator.tickets += [
        {"id": "9991", "modified": modified, "raw": {"id": None, "properties": {}}},
        {"id": "9992", "modified": modified, "raw": {"id": "9992", "properties": {"createdate": "not a date"}}},
        {"id": "9993", "modified": modified, "raw": {"id": "9993", "properties": {"hs_pipeline": "0"}}},
    ]
    outcome, *_ = run(emulator, store)
    assert outcome.error is None and outcome.skipped == 3
    assert_equal_to_emulator(store, emulator)
