"""The Groove adapter against the Groove GraphQL emulator: full syncs under faults, both readings of ordering and
of where ratings sit, incremental passes, the board's figures, auth and GraphQL errors, malformed conversations."""

from __future__ import annotations

from typing import Any

import pytest

from shiftboard import metrics
from shiftboard.adapters.groove import GrooveSettings
from shiftboard.config import MetricsSettings
from shiftboard.store import Store
from tests.adapters.support import FakeTime, approx, rows, run_synced, source_health, spread, sync
from tests.emulators.groove import DAY, GrooveEmulator
from tests.emulators.server import EmulatorServer, Fault

ENV = "GROOVE_TEST_TOKEN"
EXPECTED_STATUS = {
    "UNREAD": "new",
    "OPENED": "open",
    "SNOOZED": "on_hold",
    "CLOSED": "closed",
    "SPAM": "deleted",
    "DELETED": "deleted",
}
EXPECTED_CHANNEL = {
    "EmailConversation": "email",
    "WidgetConversation": "chat",
    "FacebookConversation": "social",
    "TwitterConversation": "social",
}
EXPECTED_SCORE = {"AWESOME": 3, "OK": 2, "BAD": 1}


def settings(url: str, **extra: Any) -> GrooveSettings:
    values: dict[str, Any] = {"name": "gv", "kind": "groove", "url": url, "token_env": ENV, "page_size": 10}
    values.update(extra)
    return GrooveSettings(**values)


def run(emulator: GrooveEmulator, store: Store, plan: dict[int, list[Any]] | None = None, **extra: Any):
    return run_synced(emulator, store, settings, {ENV: emulator.token}, plan, **extra)


def assert_equal_to_emulator(store: Store, emulator: GrooveEmulator) -> None:
    cases = rows(store, "cases", "gv")
    good = [c for c in emulator.conversations if "raw" not in c]
    assert sorted(cases) == sorted(c["id"] for c in good)
    for c in good:
        case = cases[c["id"]]
        assert case["status"] == EXPECTED_STATUS[c["state"]]
        assert case["channel"] == EXPECTED_CHANNEL[c["__typename"]]
        assert case["queue"] == c["channel"][1]
        assert case["assignee"] == (f"{c['agent']}@example.com" if c["agent"] else None)
        assert case["created_at"] == c["created"] and case["updated_at"] == c["updated"]
        assert case["solved_at"] == (c["state_updated"] if c["state"] == "CLOSED" else None)
    ratings = rows(store, "ratings", "gv")
    assert {k: (r["score"], r["scale_min"], r["scale_max"], r["case_id"]) for k, r in ratings.items()} == {
        f"rat_{c['number']}": (EXPECTED_SCORE[c["grade"]], 1, 3, c["id"]) for c in good if c["grade"]
    }


def test_full_sync_equals_the_emulator_under_429s_and_5xx(store: Store) -> None:
    emulator = GrooveEmulator().seed()
    plan = {1: [Fault("429", retry_after=6)], 4: [Fault("503"), Fault("500")], 7: [Fault("429", retry_after=2)]}
    outcome, time, _server, config = run(emulator, store, plan)
    assert outcome.error is None and outcome.skipped == 0
    assert_equal_to_emulator(store, emulator)
    assert 6 in time.sleeps and 2 in time.sleeps
    assert source_health(store, config, time.now).status == "ok"


@pytest.mark.parametrize(
    ("order", "shape"), [(True, "changes"), (False, "changes"), (True, "rating"), (False, "rating")]
)
def test_readings_of_ordering_and_rating_shape(store: Store, order: bool, shape: str) -> None:
    emulator = GrooveEmulator(order=order, rating_shape=shape).seed()
    outcome, *_ = run(emulator, store)
    assert outcome.error is None
    assert_equal_to_emulator(store, emulator)


@pytest.mark.parametrize("order", [True, False])
def test_second_pass_reads_what_changed(store: Store, order: bool) -> None:
    emulator = GrooveEmulator(order=order).seed(count=60)
    _outcome, time, _server, _config = run(emulator, store)
    target = emulator.conversations[10]
    target.update(state="CLOSED", updated=emulator.now + 30, state_updated=emulator.now + 30, grade="BAD")
    emulator.now += 60
    with EmulatorServer(emulator) as server:
        outcome = sync(store, settings(server.url), time.context({ENV: emulator.token}), emulator.now)
        requests = len(server.requests)
    assert outcome.error is None
    assert_equal_to_emulator(store, emulator)
    # Newest-first answers let the pass stop at the first page; unordered ones are read to the end.
    assert requests == (1 if order else 6)


def test_board_figures_equal_ground_truth(store: Store) -> None:
    emulator = GrooveEmulator().seed(count=200, seed=12)
    outcome, *_ = run(emulator, store)
    assert outcome.error is None
    at, since = emulator.now, emulator.now - 10 * DAY
    figures = metrics.compute(store, MetricsSettings(), at, since=since)["queues"]
    open_states = [c for c in emulator.conversations if EXPECTED_STATUS[c["state"]] in ("new", "open", "on_hold")]
    backlog = figures["all"]["cases"]["backlog"]
    assert backlog["open"] == len(open_states)
    assert backlog["by_status"] == {
        s: sum(1 for c in open_states if EXPECTED_STATUS[c["state"]] == s)
        for s in ("new", "open", "pending", "on_hold")
    }
    assert figures["Sales"]["cases"]["backlog"]["open"] == sum(1 for c in open_states if c["channel"][1] == "Sales")
    solved = [
        c["state_updated"] - c["created"]
        for c in emulator.conversations
        if c["state"] == "CLOSED" and since <= c["state_updated"] < at
    ]
    assert solved and approx(figures["all"]["cases"]["resolution_s"], spread(solved))
    assert figures["all"]["cases"]["solved"] == len(solved)


def test_bad_token_fails_with_a_clear_reason_and_no_secret(store: Store) -> None:
    emulator = GrooveEmulator().seed(count=3)
    time = FakeTime(emulator.now)
    wrong = "groove-WRONG-token"
    with EmulatorServer(emulator) as server:
        config = settings(server.url)
        outcome = sync(store, config, time.context({ENV: wrong}), emulator.now)
    status = source_health(store, config, time.now)
    assert outcome.error is not None
    assert status.status == "failing" and "401" in (status.reason or "")
    assert wrong not in (status.reason or "") and emulator.token not in (status.reason or "")


def test_graphql_errors_fail_the_sync_with_their_message(store: Store) -> None:
    emulator = GrooveEmulator(max_first=5).seed(count=3)
    outcome, time, _server, config = run(emulator, store)
    assert outcome.error == "GraphQL error: first must be at most 5"
    assert source_health(store, config, time.now).reason == outcome.error


def test_malformed_conversations_are_skipped_and_counted(store: Store) -> None:
    emulator = GrooveEmulator().seed(count=30)
    stamp = emulator.now - DAY
    emulator.conversations += [
        {"id": "bad_1", "number": 901, "updated": stamp, "raw": {"id": "bad_1", "state": "WEIRD"}},
        {"id": "bad_2", "number": 902, "updated": stamp, "raw": {"id": "bad_2", "state": "OPENED", "createdAt": "x"}},
        {"id": "bad_3", "number": 903, "updated": stamp, "raw": {"state": "OPENED"}},
    ]
    outcome, *_ = run(emulator, store)
    assert outcome.error is None and outcome.skipped == 3
    assert_equal_to_emulator(store, emulator)
