"""Large batches through Store.write_batch: several multi-row statements in one transaction, as an import writes."""

from __future__ import annotations

import json

import pytest

from shiftboard.model import AgentState, Batch, Case
from shiftboard.store import MULTI_ROWS, Store, StoreError


def _cases(first: int, count: int, status: str = "open") -> list[Case]:
    return [Case("src", f"c{n}", "Billing", status, "normal", 1000.0 + n) for n in range(first, first + count)]


def test_a_record_failing_inside_a_later_statement_leaves_nothing_of_its_batch(store: Store) -> None:
    store.write_batch("src", "files", Batch(cases=_cases(0, 3)), {"offset": 3}, at=1.0)
    # Two whole multi-row statements succeed, then a NOT NULL failure halfway through the third.
    records = _cases(3, 3 * MULTI_ROWS)
    records[2 * MULTI_ROWS + MULTI_ROWS // 2].created_at = None  # type: ignore[assignment]
    with pytest.raises(StoreError, match="NOT NULL"):
        store.write_batch("src", "files", Batch(cases=records), {"offset": 999}, at=2.0)
    assert [r["id"] for r in store.query("SELECT id FROM cases ORDER BY created_at")] == ["c0", "c1", "c2"]
    assert store.sync_state("src").cursor == {"offset": 3}
    # The cache is whole and the next batch is written as usual.
    assert store.query("PRAGMA integrity_check")[0][0] == "ok"
    store.write_batch("src", "files", Batch(cases=_cases(3, 2 * MULTI_ROWS + 7)), {"offset": 1000}, at=3.0)
    assert store.counts()["cases"] == 3 + 2 * MULTI_ROWS + 7
    assert store.sync_state("src").cursor == {"offset": 1000}


def test_a_later_record_in_the_same_batch_replaces_an_earlier_one(store: Store) -> None:
    # c5 is written first in the first multi-row statement and again in the second one; c7 twice in the rest.
    records = _cases(0, MULTI_ROWS) + _cases(5, 1, status="solved") + _cases(MULTI_ROWS, MULTI_ROWS - 1)
    records += _cases(7, 1, status="pending") + _cases(7, 1, status="closed")
    store.write_batch("src", "files", Batch(cases=records), None, at=1.0)
    statuses = {r["id"]: r["status"] for r in store.query("SELECT id, status FROM cases")}
    assert len(statuses) == 2 * MULTI_ROWS - 1
    assert (statuses["c5"], statuses["c7"], statuses["c6"]) == ("solved", "closed", "open")


def test_agent_queues_are_stored_as_json_lists_whatever_sequence_holds_them(store: Store) -> None:
    states = [
        AgentState("src", "a", "busy", 1.0, queues=("Billing", "Tech")),
        AgentState("src", "b", "busy", 1.0, queues=["Billing", "Tech"]),  # type: ignore[arg-type]
        AgentState("src", "c", "busy", 1.0, queues=("Billing",)),
        AgentState("src", "d", "busy", 1.0),
    ]
    store.write_batch("src", "files", Batch(agent_states=states), None, at=1.0)
    stored = {r["agent"]: json.loads(r["queues"]) for r in store.query("SELECT agent, queues FROM agent_states")}
    assert stored == {"a": ["Billing", "Tech"], "b": ["Billing", "Tech"], "c": ["Billing"], "d": []}
