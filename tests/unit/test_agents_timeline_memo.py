"""A board keeps its agents' timeline between reads and, when the states written since are all after the moment it
was read up to, extends it with them (``metrics._agents``, ``Store.written_since``) rather than reading the day
again; any other write reads it again. Each read is checked against a fresh ``compute``."""

from __future__ import annotations

import math

from shiftboard.metrics import LATE_STATES_S, ReadMemo, compute
from shiftboard.model import AgentState, Batch
from shiftboard.store import WRITES_KEPT, Store
from tests.unit.test_read_memo import AT, METRICS, h, m


def states(*changes: tuple[str, str, float]) -> Batch:
    return Batch(
        agent_states=[AgentState("src", agent, state, since, queues=("Mail",)) for agent, state, since in changes]
    )


def read(reader: Store, at: float, memo: ReadMemo) -> dict:
    kept = compute(reader, METRICS, at, memo=memo)
    assert kept == compute(reader, METRICS, at), at
    return kept


def test_states_stored_after_the_moment_read_extend_the_timeline(store: Store):
    store.write_batch("src", "test", states(("a1", "available", AT - 2 * h), ("a2", "busy", AT - h)), None, 0)
    reader = Store(store.path, readonly=True)
    memo = ReadMemo()
    read(reader, AT, memo)

    store.write_batch("src", "test", states(("a1", "busy", AT + 10), ("a3", "available", AT + 20)), None, 1)
    figures = read(reader, AT + m, memo)
    assert memo.extended["agents"] == 1
    assert figures["queues"]["all"]["agents"]["busy"] == 2
    assert figures["queues"]["all"]["agents"]["available"] == 1

    # A second extension, from where the first one read up to.
    store.write_batch("src", "test", states(("a2", "wrap_up", AT + m + 5)), None, 2)
    read(reader, AT + 2 * m, memo)
    assert memo.extended["agents"] == 2
    reader.close()


def test_a_state_stored_late_after_its_agents_latest_extends_the_timeline(store: Store):
    store.write_batch("src", "test", states(("a1", "available", AT - 2 * h)), None, 0)
    reader = Store(store.path, readonly=True)
    memo = ReadMemo()
    read(reader, AT, memo)
    # A source that reports late (a helpdesk polled every 30 s, the simulator's events since its last poll): a change
    # 5 minutes before the moment read ends the agent's latest state there, as a fresh read does (``read`` compares).
    store.write_batch("src", "test", states(("a1", "busy", AT - 5 * m), ("a1", "available", AT + 10)), None, 1)
    figures = read(reader, AT + m, memo)
    assert memo.extended["agents"] == 1
    assert 0 < figures["queues"]["all"]["contacts"]["occupancy_pct"] < 100
    # The same states sent again change nothing: they are in the timeline already.
    store.write_batch("src", "test", states(("a1", "busy", AT - 5 * m), ("a1", "available", AT + 10)), None, 2)
    read(reader, AT + 2 * m, memo)
    assert memo.extended["agents"] == 2
    reader.close()


def test_a_state_stored_before_its_agents_latest_or_rewritten_reads_the_timeline_again(store: Store):
    store.write_batch("src", "test", states(("a1", "available", AT - 2 * h), ("a1", "busy", AT - 9 * m)), None, 0)
    reader = Store(store.path, readonly=True)
    memo = ReadMemo()
    read(reader, AT, memo)
    # A change inside a segment the timeline has closed splits it: the day is read again.
    store.write_batch("src", "test", states(("a1", "away", AT - 10 * m)), None, 1)
    read(reader, AT + m, memo)
    assert memo.extended["agents"] == 0
    # A state the timeline holds, written again with another state.
    store.write_batch("src", "test", states(("a1", "wrap_up", AT - 9 * m)), None, 2)
    figures = read(reader, AT + 2 * m, memo)
    assert memo.extended["agents"] == 0
    assert figures["queues"]["all"]["agents"]["wrap_up"] == 1
    # A change from longer before the moment read than a late source is waited for (LATE_STATES_S), after the
    # agent's latest state: read again too, not looked for among the states the timeline keeps.
    store.write_batch("src", "test", states(("a2", "busy", AT + 2 * m - LATE_STATES_S - 1)), None, 3)
    read(reader, AT + 3 * m, memo)
    assert memo.extended["agents"] == 0
    reader.close()


def test_a_prune_or_a_long_gap_reads_the_timeline_again(store: Store):
    store.write_batch("src", "test", states(("a1", "available", AT - 50 * h), ("a1", "busy", AT - 49 * h)), None, 0)
    reader = Store(store.path, readonly=True)
    memo = ReadMemo()
    read(reader, AT, memo)
    store.write_batch("src", "test", states(("a1", "available", AT + 10)), None, 1)
    assert store.prune(AT - 49.5 * h)["agent_states"] == 1  # not logged: no reader can know what it removed
    read(reader, AT + m, memo)
    assert memo.extended["agents"] == 0

    # More writes than the log keeps, all after the moment read: not all known, so read again.
    for i in range(WRITES_KEPT + 1):
        store.write_batch("src", "test", states(("a1", "busy" if i % 2 else "available", AT + m + 1 + i)), None, 2)
    read(reader, AT + 3 * m, memo)
    assert memo.extended["agents"] == 0
    store.write_batch("src", "test", states(("a1", "away", AT + 4 * m)), None, 3)
    read(reader, AT + 5 * m, memo)
    assert memo.extended["agents"] == 1
    reader.close()


def test_written_since_is_the_earliest_time_stored_by_the_writes_in_between(store: Store):
    def changes() -> int:
        with store.read() as conn:
            return Store.changes(conn)["agent_states"]

    def written(before: int) -> float | None:
        now = changes()
        with store.read() as conn:
            return Store.written_since(conn, "agent_states", before, now)

    assert written(0) == math.inf
    store.write_batch("src", "test", states(("a1", "busy", AT), ("a2", "busy", AT - 30)), None, 0)
    store.write_batch("src", "test", Batch(), None, 1)  # writes no state: not a change of the table
    first = changes()
    store.write_batch("src", "test", states(("a1", "away", AT + 60)), None, 2)
    store.write_batch("src", "test", states(("a2", "away", AT + 40)), None, 3)
    assert (first, changes()) == (1, 3)
    assert written(0) == AT - 30
    assert written(first) == AT + 40
    assert written(changes()) == math.inf
