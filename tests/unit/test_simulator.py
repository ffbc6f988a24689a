"""The simulator: reproducible, incremental without gaps or duplicates, and in line with queueing theory."""

from __future__ import annotations

import itertools
import random
import statistics
from dataclasses import astuple
from datetime import UTC, datetime
from typing import Any

import pytest

from shiftboard.adapters import _contact_centre as model
from shiftboard.adapters import simulator
from shiftboard.adapters._contact_centre import Params, QueueSpec, simulate
from shiftboard.adapters.base import AdapterContext
from shiftboard.adapters.simulator import SimulatorAdapter, SimulatorSettings, run_origin
from shiftboard.model import AGENT_STATES, CASE_STATUSES, OPEN_STATUSES, PRIORITIES, AgentState, Case, Contact

# 2026-11-22 02:00 UTC: the run's origin is 2026-11-21 12:00 UTC, 14 h before.
AT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC).timestamp()
ORIGIN = datetime(2026, 11, 21, 12, 0, tzinfo=UTC).timestamp()


def settings(**changes: Any) -> SimulatorSettings:
    return SimulatorSettings(**{"name": "sim", "kind": "simulator", "timezone": "UTC", **changes})


def key(record: Any) -> tuple:
    return (type(record).__name__, getattr(record, "id", None) or (record.agent, record.since))


def records(batch: Any) -> list[Any]:
    return [*batch.cases, *batch.contacts, *batch.agent_states, *batch.ratings, *batch.queue_snapshots]


def drain(adapter: SimulatorAdapter, cursor: dict | None, at: float, into: dict) -> dict | None:
    """Fetch every page up to ``at``, upserting records by key into ``into`` as the cache would."""
    for _ in range(1000):
        result = adapter.fetch(cursor, at)
        for record in records(result.batch):
            into[key(record)] = astuple(record)
        cursor = result.cursor
        if not result.more:
            return cursor
    raise AssertionError("the adapter never stopped paging")


def test_origin_is_utc_midnight_minus_12_hours():
    assert run_origin(AT) == ORIGIN
    assert run_origin(datetime(2026, 11, 22, 0, 0, tzinfo=UTC).timestamp()) == ORIGIN
    assert run_origin(datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC).timestamp()) == ORIGIN


@pytest.fixture(scope="module")
def first_fetch() -> dict:
    """Every record of a first fetch at AT, by key, as the cache holds them."""
    into: dict = {}
    drain(SimulatorAdapter(settings()), None, AT, into)
    return into


def test_same_seed_and_at_give_the_same_records_and_another_seed_does_not(first_fetch: dict):
    first, second, other = first_fetch, {}, {}
    drain(SimulatorAdapter(settings()), None, AT, second)
    drain(SimulatorAdapter(settings(seed=99)), None, AT, other)
    assert len(first) > 3000
    assert first == second
    assert {k[0] for k in first} == {"Case", "Contact", "AgentState", "Rating"}
    offered = sorted(v[3] for k, v in first.items() if k[0] == "Contact")
    offered_other = sorted(v[3] for k, v in other.items() if k[0] == "Contact")
    assert offered != offered_other


def test_the_adapter_emits_what_the_offline_model_gives_for_the_same_window(first_fetch: dict):
    from_adapter = first_fetch
    offline = simulate(SimulatorAdapter(settings()).params_for(ORIGIN), ORIGIN, AT, simulator.DEFAULT_SEED, "sim")
    assert {key(r): astuple(r) for r in records(offline)} == from_adapter


def test_records_sit_on_the_wall_axis_between_origin_and_at_with_dated_ids():
    batch = simulate(Params(), ORIGIN, AT, 5)
    assert batch.contacts and batch.cases and batch.agent_states and batch.ratings
    for contact in batch.contacts:
        assert contact.id.startswith("20261122-")
        assert ORIGIN <= contact.offered_at < AT
        for moment in (contact.answered_at, contact.ended_at, contact.abandoned_at):
            assert moment is None or contact.offered_at <= moment < AT
    assert all(ORIGIN <= s.since < AT for s in batch.agent_states)
    assert all(r.rated_at < AT for r in batch.ratings)
    # The initial backlog was created before the origin; everything else after it.
    assert min(c.created_at for c in batch.cases) < ORIGIN < max(c.created_at for c in batch.cases) < AT


def test_incremental_fetches_equal_one_fetch(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(simulator, "PAGE_SIZE", 997)  # many pages, so page boundaries are crossed too
    end = AT + 2 * 3600
    one_shot: dict = {}
    drain(SimulatorAdapter(settings()), None, end, one_shot)

    rng = random.Random(4)
    adapter, cursor, moment, steps = SimulatorAdapter(settings()), None, AT, 0
    small: dict = {}
    while moment < end:
        cursor = drain(adapter, cursor, moment, small)
        moment = min(end, moment + rng.choice((0.3, 1.0, 1.0, 7.0, 60.0, 600.0)))
        steps += 1
    cursor = drain(adapter, cursor, end, small)
    assert steps > 30
    assert small == one_shot


def test_the_first_fetch_comes_in_steps_of_model_time(first_fetch: dict):
    """14 h of history in 4 h steps: each page holds only what changed within its step (so the process never holds
    the whole history at once), and the pages together give what one fetch of it all gives (first_fetch)."""
    adapter, cursor, pages, into = SimulatorAdapter(settings()), None, [], {}
    while cursor is None or cursor["page"] is not None:
        start = 0.0 if cursor is None else cursor["done"]
        result = adapter.fetch(cursor, AT)
        cursor = result.cursor
        pages.append((start, cursor["done"], records(result.batch)))
        into.update({key(r): astuple(r) for r in records(result.batch)})
    assert [done for _, done, _ in pages] == [4 * 3600.0, 8 * 3600.0, 12 * 3600.0, AT - ORIGIN]
    for start, done, batch in pages[1:]:
        changed = [
            max(t for t in (c.offered_at, c.answered_at, c.abandoned_at, c.ended_at) if t is not None) - ORIGIN
            for c in batch
            if isinstance(c, Contact)
        ]
        assert changed and start <= min(changed) and max(changed) < done
    assert max(len(batch) for _, _, batch in pages) < len(first_fetch) / 2
    assert into == first_fetch


def test_a_restarted_process_continues_from_the_cursor_even_mid_page(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(simulator, "PAGE_SIZE", 1500)
    end = AT + 3600
    one_shot: dict = {}
    drain(SimulatorAdapter(settings()), None, end, one_shot)

    pieces: dict = {}
    first = SimulatorAdapter(settings()).fetch(None, AT)
    assert first.more, "the first fetch should need several pages"
    pieces.update({key(r): astuple(r) for r in records(first.batch)})
    cursor = drain(SimulatorAdapter(settings()), first.cursor, AT, pieces)  # a new process finishes the pages
    assert cursor is not None and cursor["page"] is None
    cursor = drain(SimulatorAdapter(settings()), cursor, AT + 1800, pieces)
    drain(SimulatorAdapter(settings()), cursor, end, pieces)
    assert pieces == one_shot


def test_a_fetch_at_or_before_the_cursor_emits_nothing():
    adapter = SimulatorAdapter(settings())
    cursor = drain(adapter, None, AT, {})
    again = adapter.fetch(cursor, AT)
    earlier = adapter.fetch(cursor, AT - 3600)
    assert len(again.batch) == 0 and again.cursor == cursor and not again.more
    assert len(earlier.batch) == 0 and earlier.cursor == cursor


def test_a_contact_answered_or_ended_later_is_sent_again_with_its_new_fields():
    adapter = SimulatorAdapter(settings())
    seen: dict = {}
    cursor = drain(adapter, None, AT, seen)
    active = {k for k, v in seen.items() if k[0] == "Contact" and v[8] is None and v[9] is None and not v[10]}
    assert active, "some contacts should be waiting or talking at AT"
    later: dict = {}
    drain(adapter, cursor, AT + 3 * 3600, later)
    assert active <= set(later)
    assert all(later[k][8] is not None or later[k][9] is not None for k in active)


def test_an_old_run_is_replaced_and_its_open_items_are_closed():
    old: dict = {}
    cursor = drain(SimulatorAdapter(settings()), None, AT, old)
    open_cases = {k for k, v in old.items() if k[0] == "Case" and v[3] in OPEN_STATUSES}
    active = {k for k, v in old.items() if k[0] == "Contact" and v[8] is None and v[9] is None and not v[10]}
    assert open_cases and active

    two_days_later = AT + 2 * 86400
    cache = dict(old)
    adapter = SimulatorAdapter(settings())
    closing = adapter.fetch(cursor, two_days_later)
    assert closing.more
    assert closing.cursor["clock"][0][1] == run_origin(two_days_later)
    closed = {key(r): r for r in records(closing.batch)}
    assert open_cases | active <= set(closed)
    assert all(r.status == "deleted" for k, r in closed.items() if k[0] == "Case")
    assert all(r.ended_at == AT for k, r in closed.items() if k[0] == "Contact")
    assert {r.state for r in closed.values() if isinstance(r, AgentState)} == {"offline"}
    for record in records(closing.batch):
        cache[key(record)] = astuple(record)
    drain(adapter, closing.cursor, two_days_later, cache)
    still_open = [k for k in open_cases if cache[k][3] in OPEN_STATUSES]
    assert still_open == []
    new_ids = {k[1] for k in cache if k[0] == "Contact" and k[1].startswith("20261124-")}
    assert new_ids


def test_the_new_run_after_a_short_gap_sends_only_what_is_open_or_changes_after_the_switch():
    # The run began 2026-11-21 12:00 and was emitted up to 2026-11-23 12:00 (48 h). At 13:00 it is replaced by the
    # run of origin 2026-11-22 12:00, which must not resend its history before the switch at 12:00.
    adapter = SimulatorAdapter(settings())
    switch = ORIGIN + 48 * 3600
    cursor = drain(adapter, None, AT, {})
    cursor = drain(adapter, cursor, switch, {})
    assert cursor["clock"][0][1] == ORIGIN
    after: dict = {}
    drain(adapter, cursor, switch + 3600, after)
    new = {k: v for k, v in after.items() if k[0] == "Contact" and k[1].startswith("20261123-")}
    assert len(new) > 100
    for v in new.values():
        if v[10]:
            assert v[3] >= switch
        else:
            assert (v[8] is None or v[8] >= switch) and (v[9] is None or v[9] >= switch)
    assert any(v[3] < switch for v in new.values()), "contacts open at the switch are carried over"
    assert all(k[1][1] >= switch for k in after if k[0] == "AgentState")
    old_run = [k for k in after if k[0] in ("Contact", "Case") and k[1].startswith("20261122-")]
    assert old_run, "the old run's open items are closed"


def test_speed_compresses_the_live_part_on_the_wall_axis():
    fast = SimulatorAdapter(settings(speed=10))
    cursor = drain(fast, None, AT, {})
    assert cursor["clock"][-1] == [AT - ORIGIN, AT, 10]
    live: dict = {}
    drain(fast, cursor, AT + 1200, live)  # 1200 wall seconds = 200 model minutes
    talks = [v[8] - v[7] for k, v in live.items() if k[0] == "Contact" and v[7] is not None and v[7] >= AT and v[8]]
    offered = [v[3] for k, v in live.items() if k[0] == "Contact" and v[3] >= AT]
    assert len(talks) > 40
    assert statistics.mean(talks) < 100  # mean talk 270–420 s at speed 1
    assert max(offered) < AT + 1200
    slow: dict = {}
    drain(SimulatorAdapter(settings()), drain(SimulatorAdapter(settings()), None, AT, {}), AT + 1200, slow)
    assert len(offered) > 5 * len([1 for k, v in slow.items() if k[0] == "Contact" and v[3] >= AT])


def test_a_future_at_does_not_make_the_realtime_model_sleep():
    future = datetime(2031, 6, 1, 8, 0, tzinfo=UTC).timestamp()
    adapter = SimulatorAdapter(settings())
    cursor = drain(adapter, None, future, {})
    assert cursor["done"] == future - run_origin(future)


@pytest.mark.parametrize("speed", [1.0, 10.0])
def test_polls_come_just_after_model_events_so_changes_are_fresh(speed: float):
    """Polled when ``next_poll_in`` says (as ``wait`` does), a new contact or agent state reaches the cursor within
    MIN_POLL_GAP_S of happening; a poll is never sooner than that after the last one, and nothing changes before a
    longer wait is over."""
    now = [AT + 10 * 3600]  # 12:00 local: a busy hour
    adapter = SimulatorAdapter(settings(speed=speed), AdapterContext(clock=lambda: now[0]))
    cursor = drain(adapter, None, now[0], {})
    lags: list[float] = []
    long_waits = 0
    for _ in range(300):
        wait = adapter.next_poll_in(60.0)
        assert simulator.MIN_POLL_GAP_S <= wait <= 60.0
        if wait > simulator.MIN_POLL_GAP_S + 0.01:  # held back by the model's next event: nothing changes before it
            long_waits += 1
            early = adapter.fetch(cursor, now[0] + wait - 0.005)
            assert len(early.batch) == 0
            cursor = early.cursor
        before, now[0] = now[0], now[0] + wait
        result = adapter.fetch(cursor, now[0])
        cursor = result.cursor
        lags += [now[0] - c.offered_at for c in result.batch.contacts if c.offered_at > before]
        lags += [now[0] - s.since for s in result.batch.agent_states if s.since > before]
    assert len(lags) > 50 and long_waits > 20
    assert max(lags) <= simulator.MIN_POLL_GAP_S + simulator.EVENT_MARGIN_S + 1e-6


def test_bad_cursors_start_a_new_run():
    early = ORIGIN + 12 * 3600 + 60
    for bad in ({"v": 0}, {"v": 1, "seed": 1, "params": {"queues": "x"}}, "junk"):
        adapter, into = SimulatorAdapter(settings()), {}
        result = adapter.fetch(bad, early)  # type: ignore[arg-type]
        assert result.cursor["v"] == 1 and result.cursor["clock"][0][1] == ORIGIN and len(result.batch) > 0
        assert drain(adapter, result.cursor, early, into)["done"] == early - ORIGIN and into


def test_settings_validate_queue_definitions():
    with pytest.raises(ValueError, match="unique"):
        settings(queues=[{"name": "A", "calls_per_hour": 1}, {"name": "A", "calls_per_hour": 2}])
    with pytest.raises(ValueError, match="time zone"):
        settings(timezone="Mars/Olympus")
    with pytest.raises(ValueError):
        settings(queues=[{"name": "A", "calls_per_hour": 1, "colour": "red"}])
    custom = settings(queues=[{"name": "Returns", "calls_per_hour": 40, "agents": 5}])
    assert SimulatorAdapter(custom).params_for(ORIGIN).queues[0].name == "Returns"


def test_default_records_use_the_normalized_vocabularies():
    batch = simulate(Params(), ORIGIN, AT, 11)
    assert {c.queue for c in batch.contacts} == {"Billing", "Tech support", "Sales"}
    assert {c.channel for c in batch.contacts} == {"voice", "chat"}
    assert {c.status for c in batch.cases} <= set(CASE_STATUSES)
    assert {c.priority for c in batch.cases} == set(PRIORITIES)
    assert {"new", "open", "pending", "solved"} <= {c.status for c in batch.cases}
    assert any((c.reopens or 0) > 0 for c in batch.cases)
    for case in batch.cases:
        assert case.first_reply_at is None or case.first_reply_at >= case.created_at
        assert (case.solved_at is not None) == (case.status in ("solved", "closed"))
    kinds = {r.kind: (r.scale_min, r.scale_max) for r in batch.ratings}
    assert kinds == {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
    assert all(r.scale_min <= r.score <= r.scale_max for r in batch.ratings)
    assert any(r.comment for r in batch.ratings)
    by_agent: dict[str, list[AgentState]] = {}
    for state in batch.agent_states:
        by_agent.setdefault(state.agent, []).append(state)
    assert {s.state for s in batch.agent_states} == set(AGENT_STATES)
    for history in by_agent.values():
        assert all(s.queues and s.queues[0] in {"Billing", "Tech support", "Sales"} for s in history)
        changes = sorted(history, key=lambda s: s.since)
        assert all(a.state != b.state for a, b in itertools.pairwise(changes)), "one record per change"


def _waits(contacts: list[Contact], after: float) -> list[float]:
    return [c.answered_at - c.offered_at for c in contacts if c.answered_at is not None and c.offered_at >= after]


def test_erlang_c_agrees_with_the_model_without_abandonment_or_blocking():
    """M/M/14 with A = 10 Erlangs, AHT 180 s, T = 20 s: published P(wait) 0.174132, SL 0.888350, ASA 7.8359 s."""
    queue = QueueSpec(
        name="Erlang", calls_per_hour=200, handle_s=180, wrap_up_s=0,
        patience_s=None, impatient_pct=0, capacity=None, agents=14,
    )  # fmt: skip
    params = Params(queues=(queue,), day_curve=False, day_factor=False, breaks=False, handle_distribution="exponential")
    batch = simulate(params, 0.0, 14 * 86400, seed=1)
    assert not any(c.abandoned_at or c.blocked for c in batch.contacts)
    waits = _waits(batch.contacts, after=3600)  # the first hour warms the empty system up
    assert len(waits) > 60_000
    service_level = sum(1 for w in waits if w <= 20) / len(waits)
    delayed = sum(1 for w in waits if w > 0) / len(waits)
    asa = statistics.mean(waits)
    assert service_level == pytest.approx(0.888350, abs=0.015)
    assert delayed == pytest.approx(0.174132, abs=0.015)
    assert asa == pytest.approx(7.8359, abs=1.0)


def test_patience_makes_callers_abandon_including_a_few_at_once():
    queue = QueueSpec(name="Busy", calls_per_hour=120, handle_s=300, patience_s=60, impatient_pct=5, agents=9)
    batch = simulate(Params(queues=(queue,), day_curve=False, breaks=False), 0.0, 86400.0, seed=3)
    abandoned = [c for c in batch.contacts if c.abandoned_at is not None]
    assert len(abandoned) > 20
    assert all(c.answered_at is None and c.abandoned_at > c.offered_at for c in abandoned)
    assert any(c.abandoned_at - c.offered_at <= 5 for c in abandoned)


def test_a_full_queue_blocks_the_next_caller():
    capacity = 3
    queue = QueueSpec(name="Tiny", calls_per_hour=150, handle_s=300, capacity=capacity, patience_s=None, agents=12)
    batch = simulate(Params(queues=(queue,), day_curve=False, breaks=False), 0.0, 86400.0, seed=8)
    blocked = [c for c in batch.contacts if c.blocked]
    assert len(blocked) > 10
    assert all(c.answered_at is None and c.abandoned_at is None and c.ended_at is None for c in blocked)
    entered = [c for c in batch.contacts if not c.blocked]

    def waiting_at(moment: float) -> int:
        def gone(t: float | None) -> bool:
            return t is not None and t <= moment

        return sum(1 for c in entered if c.offered_at < moment and not gone(c.answered_at) and not gone(c.abandoned_at))

    # Each blocked caller found the queue full at the moment of the attempt (its offered_at).
    assert all(waiting_at(c.offered_at) == capacity for c in blocked[:50])
    assert max(waiting_at(c.offered_at) for c in entered[::10]) <= capacity


def test_arrivals_follow_the_day_curve_and_never_stop_at_night():
    queue = QueueSpec(name="Q", calls_per_hour=400, handle_s=60, wrap_up_s=0, agents=40)
    batch = simulate(Params(queues=(queue,), day_factor=False), 0.0, 4 * 86400.0, seed=2)  # origin midnight UTC
    by_hour = [0] * 24
    for contact in batch.contacts:
        by_hour[int(contact.offered_at % 86400 // 3600)] += 1
    peak, night = by_hour[10], by_hour[3]
    assert night > 0
    expected_ratio = model.DAY_CURVE[3] / model.DAY_CURVE[10]
    assert night / peak == pytest.approx(expected_ratio, rel=0.25)


def test_cases_in_a_batch_are_case_records():
    batch = simulate(Params(), ORIGIN, ORIGIN + 3600, 1)
    assert all(isinstance(c, Case) for c in batch.cases)
