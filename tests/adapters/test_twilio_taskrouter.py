"""The Twilio TaskRouter source against the local TaskRouter emulator: a real Collector writing a real SQLite cache.

Expected figures are computed here from the emulator's seeded tasks and workers (metrics.md §1.3 mapping), never
from the adapter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from shiftboard.adapters.twilio_taskrouter import TwilioTaskRouterAdapter, TwilioTaskRouterSettings
from shiftboard.collector import Collector
from shiftboard.config import MetricsSettings
from shiftboard.health import health
from shiftboard.metrics import compute
from shiftboard.store import Store
from tests.emulators.clock import FakeClock
from tests.emulators.server import EmulatorServer, Fault
from tests.emulators.twilio_taskrouter import ACCOUNT_SID, AUTH_TOKEN, WORKSPACE_SID, TaskRouterEmulator, generate

NOW = 1795359600.0  # 2026-11-22T15:00:00Z
MIDNIGHT = 1795305600.0  # 2026-11-22T00:00:00Z
ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
STATES = {"Available": "available", "Busy": "busy", "Wrap Up": "wrap_up", "Lunch Break": "away", "Offline": "offline"}


class Rig:
    def __init__(self, emulator: TaskRouterEmulator, server: EmulatorServer, clock: FakeClock) -> None:
        self.emulator = emulator
        self.server = server
        self.clock = clock
        self.context = clock.context(ENV)
        self.waits: list[float] = self.context.waits  # type: ignore[attr-defined]

    def settings(self, **overrides: object) -> TwilioTaskRouterSettings:
        values: dict[str, object] = {
            "name": "tr",
            "kind": "twilio_taskrouter",
            "url": self.server.url,
            "workspace_sid": WORKSPACE_SID,
        }
        values.update(overrides)
        return TwilioTaskRouterSettings(**values)

    def sync(self, store: Store, settings: TwilioTaskRouterSettings | None = None):
        collector = Collector(store, [settings or self.settings()], context=self.context)
        try:
            return collector.sync_once(at=NOW)[0]
        finally:
            for runner in collector.runners:
                runner.close()


@pytest.fixture
def rig() -> Iterator[Rig]:
    clock = FakeClock(NOW)
    emulator = TaskRouterEmulator(generate(seed=11, now=NOW), clock=clock)
    with EmulatorServer(emulator) as server:
        yield Rig(emulator, server, clock)


def expected_snapshots(data, sl: int = 20, short: int = 5) -> dict[str, tuple]:
    """Per queue name: real-time fields at NOW and cumulative fields over [UTC midnight, NOW)."""
    result = {}
    for queue_sid, name in data.queues.items():
        tasks = [t for t in data.tasks if t.queue_sid == queue_sid]
        waiting = [t for t in tasks if t.status in ("pending", "reserved")]
        eligible = [w for w in data.workers if queue_sid in w["_queues"]]
        accepted = [t.accepted_at - t.entered for t in tasks if t.accepted_at and MIDNIGHT <= t.accepted_at < NOW]
        canceled = [t.canceled_at - t.entered for t in tasks if t.canceled_at and MIDNIGHT <= t.canceled_at < NOW]
        result[name] = (
            len(waiting),
            NOW - min(t.entered for t in waiting) if waiting else None,
            sum(w["activity_name"] != "Offline" for w in eligible),
            sum(w["available"] for w in eligible),
            MIDNIGHT,
            sum(MIDNIGHT <= t.entered < NOW for t in tasks),
            len(accepted),
            len(canceled),
            sum(w <= short for w in canceled),
            sum(w <= sl for w in accepted),
            sum(w <= sl for w in canceled),
            float(sl),
            float(sum(accepted)),
        )
    return result


def stored_snapshots(store: Store) -> dict[str, tuple]:
    rows = store.query(
        "SELECT queue, waiting, longest_wait_s, agents_online, agents_available, window_start, offered, answered,"
        " abandoned, short_abandoned, answered_within_sl, abandoned_within_sl, sl_threshold_s, wait_total_s"
        " FROM queue_snapshots WHERE source = 'tr' AND at = ?",
        (NOW,),
    )
    return {r["queue"]: tuple(r)[1:] for r in rows}


def expected_agents(data) -> dict[str, tuple]:
    return {w["sid"]: (STATES[w["activity_name"]], w["_changed"], w["friendly_name"]) for w in data.workers}


def stored_agents(store: Store) -> dict[str, tuple]:
    rows = store.query("SELECT agent, state, since, name FROM agent_states WHERE source = 'tr'")
    return {r["agent"]: (r["state"], r["since"], r["name"]) for r in rows}


def test_full_sync_equals_the_emulator_data_under_429s_and_5xx(rig: Rig, store: Store) -> None:
    rig.server.inject(
        Fault("429", retry_after=2, path="/TaskQueues"),
        Fault("500", path="/RealTimeStatistics"),
        Fault("503", path="/CumulativeStatistics"),
        Fault("429", retry_after=4, path="/Workers"),
        Fault("502", path="/Tasks/"),
    )
    outcome = rig.sync(store, rig.settings(page_size=2))

    assert outcome.error is None
    data = rig.emulator.data
    assert stored_snapshots(store) == expected_snapshots(data)
    assert stored_agents(store) == expected_agents(data)
    assert 2 in rig.waits and 4 in rig.waits
    # Queues and workers came in pages of 2 by meta.next_page_url (+ one 429 each); each worker once.
    worker_pages = [r for r in rig.server.requests if r.path.endswith("/Workers")]
    assert len(worker_pages) == -(-len(data.workers) // 2) + 1
    queue_pages = [r for r in rig.server.requests if r.path.endswith("/TaskQueues")]
    assert len(queue_pages) == -(-len(data.queues) // 2) + 1
    assert store.counts()["agent_states"] == len(data.workers)
    cumulative = [r for r in rig.server.requests if r.path.endswith("/CumulativeStatistics")]
    assert {(r.arg("StartDate"), r.arg("EndDate"), r.arg("SplitByWaitTime")) for r in cumulative} == {
        ("2026-11-22T00:00:00Z", "2026-11-22T15:00:00Z", "5,20")
    }


def test_board_figures_equal_the_ground_truth(rig: Rig, store: Store) -> None:
    assert rig.sync(store).error is None
    data = rig.emulator.data
    figures = compute(store, MetricsSettings(timezone="UTC"), at=NOW, since=MIDNIGHT)["queues"]
    assert figures["all"]["agents"] == {
        s: Counter(STATES[w["activity_name"]] for w in data.workers).get(s, 0)
        for s in ("available", "busy", "wrap_up", "away", "offline")
    }
    # TaskRouter gives aggregates only: queue figures come from the stored snapshots (asserted above and here),
    # not from contact rows.
    assert store.counts()["contacts"] == 0
    assert stored_snapshots(store) == expected_snapshots(data)


def test_snapshot_queue_figures_equal_the_ground_truth(rig: Rig, store: Store) -> None:
    """Per-queue contact figures come from the queue snapshots (the source gives aggregates, not contacts)."""
    assert rig.sync(store).error is None
    settings = MetricsSettings(timezone="UTC", service_level_threshold_s=20, short_abandon_s=5)
    figures = compute(store, settings, at=NOW, since=MIDNIGHT)["queues"]
    data = rig.emulator.data
    assert set(data.queues.values()) <= set(figures)
    for name, row in expected_snapshots(data).items():
        waiting, longest, _, _, _, offered, answered, abandoned, _, within, _, _, wait_total = row
        contacts = figures[name]["contacts"]
        assert (contacts["offered"], contacts["answered"], contacts["abandoned"]) == (offered, answered, abandoned)
        assert (contacts["waiting_now"], contacts["longest_wait_s"]) == (waiting, longest)
        assert contacts["asa_s"] == pytest.approx(wait_total / answered)
        assert contacts["service_level_pct_by_policy"]["all_abandons"] == pytest.approx(
            100 * within / (answered + abandoned)
        )


@pytest.mark.parametrize(("unit", "named"), [("s", True), ("ms", True), ("s", False)])
def test_longest_wait_whichever_unit_the_age_is_in(rig: Rig, store: Store, unit: str, named: bool) -> None:
    rig.emulator.age_unit = unit
    rig.emulator.name_longest_task = named
    assert rig.sync(store).error is None
    expected = {q: row[1] for q, row in expected_snapshots(rig.emulator.data).items()}
    assert {q: row[1] for q, row in stored_snapshots(store).items()} == expected


def test_workspace_snapshot_and_activity_overrides(rig: Rig, store: Store) -> None:
    settings = rig.settings(workspace_queue="Workspace", activity_states={"lunch break": "offline"})
    assert rig.sync(store, settings).error is None
    data = rig.emulator.data
    row = stored_snapshots(store)["Workspace"]
    waiting = [t for t in data.tasks if t.status in ("pending", "reserved")]
    assert row[0] == len(waiting)
    assert row[5] == sum(MIDNIGHT <= t.created < NOW for t in data.tasks)  # tasks_created, workspace-wide
    lunch = {w["sid"] for w in data.workers if w["activity_name"] == "Lunch Break"}
    assert lunch and {a: s[0] for a, s in stored_agents(store).items() if a in lunch} == dict.fromkeys(lunch, "offline")


def test_expired_credentials_fail_the_health_line_and_keep_the_last_good_data(rig: Rig, store: Store) -> None:
    settings = rig.settings()
    assert rig.sync(store, settings).error is None
    before = store.counts()
    rig.emulator.expire_credentials()

    assert rig.sync(store, settings).error is not None
    line = health(settings, store.sync_state("tr"), NOW)
    assert line.status == "failing"
    assert "401" in line.reason and "Authentication Error" in line.reason
    assert AUTH_TOKEN not in line.reason and ACCOUNT_SID not in line.reason
    assert store.counts() == before


def test_wrong_workspace_and_missing_account_sid_say_what_to_fix(rig: Rig, store: Store) -> None:
    outcome = rig.sync(store, rig.settings(workspace_sid="WS" + "b" * 32))
    assert outcome.error is not None and outcome.error.startswith("404") and "was not found" in outcome.error

    rig.context.environ = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    outcome = rig.sync(store, rig.settings())
    assert outcome.error == "account SID: environment variable TWILIO_ACCOUNT_SID is not set"


@pytest.mark.parametrize("retry_after", [True, False])
def test_rate_limited_requests_are_retried(rig: Rig, store: Store, retry_after: bool) -> None:
    rig.emulator.rate_limit = 3
    rig.emulator.retry_after_header = retry_after
    rig.emulator.rate_headers = False
    assert rig.sync(store, rig.settings(rate_limit_reserve=0, max_retries=8)).error is None
    assert stored_snapshots(store) == expected_snapshots(rig.emulator.data)
    assert stored_agents(store) == expected_agents(rig.emulator.data)
    if retry_after:
        assert rig.emulator.retry_after_served and rig.waits.count(1) >= len(rig.emulator.retry_after_served)


def test_paced_by_remaining_header(rig: Rig, store: Store) -> None:
    rig.emulator.rate_limit = 3
    assert rig.sync(store, rig.settings(rate_limit_reserve=1)).error is None
    assert rig.emulator.retry_after_served == []  # pacing kept it under the limit
    assert 1.0 in rig.waits
    assert stored_snapshots(store) == expected_snapshots(rig.emulator.data)


def test_slow_answers_time_out(rig: Rig, store: Store) -> None:
    rig.server.inject(Fault("slow", delay_s=1.0, path="/Workers"))
    assert rig.sync(store, rig.settings(timeout_s=0.2)).error is None
    assert stored_agents(store) == expected_agents(rig.emulator.data)

    rig.server.inject(Fault("slow", delay_s=1.0))
    outcome = rig.sync(store, rig.settings(timeout_s=0.2, max_retries=0))
    assert outcome.error == "timed out after 0.2 s"


def test_settings_validate_the_workspace_sid() -> None:
    with pytest.raises(ValueError, match="WS followed by 32 hex digits"):
        TwilioTaskRouterSettings(name="t", kind="twilio_taskrouter", workspace_sid="not-a-sid")
    settings = TwilioTaskRouterSettings(name="t", kind="twilio_taskrouter", workspace_sid=WORKSPACE_SID)
    assert settings.url == "https://taskrouter.twilio.com"
    assert settings.token_env == "TWILIO_AUTH_TOKEN"


def test_one_truncated_answer_is_retried_transparently(rig: Rig, store: Store) -> None:
    rig.server.inject(Fault("truncated", path="/Workers"))
    assert rig.sync(store).error is None
    assert stored_agents(store) == expected_agents(rig.emulator.data)


def test_truncated_json_fails_one_sync_and_the_next_recovers(rig: Rig, store: Store) -> None:
    rig.server.inject(*[Fault("truncated", path="/Workers")] * 20)  # more than any retry budget
    outcome = rig.sync(store)
    assert outcome.error is not None and outcome.error.startswith("answer is not JSON")
    rig.server.faults.clear()
    # The statistics step was committed before the workers page failed.
    assert stored_snapshots(store) == expected_snapshots(rig.emulator.data)
    assert rig.sync(store).error is None
    assert stored_agents(store) == expected_agents(rig.emulator.data)


def test_check_names_the_workspace(rig: Rig) -> None:
    adapter = TwilioTaskRouterAdapter(rig.settings(), rig.context)
    try:
        assert adapter.check() == f"reachable, workspace {WORKSPACE_SID}: 3 task queues"
    finally:
        adapter.close()
