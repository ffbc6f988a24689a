"""The SQLite cache: schema, upserts, one-transaction batches, failure bookkeeping, pruning, damaged files."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from shiftboard import store as store_module
from shiftboard.model import AgentState, Batch, Case, Contact, Rating
from shiftboard.store import SCHEMA_VERSION, Store, StoreError


def _case(case_id: str, status: str = "open", created: float = 1000.0, **extra) -> Case:
    return Case("src", case_id, "Billing", status, "normal", created, **extra)


def test_new_cache_is_private_and_at_current_schema(tmp_path: Path):
    path = tmp_path / "deep" / "cache.sqlite"
    with Store(path) as store:
        assert store.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION
        assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_batch_and_cursor_commit_together_and_later_records_replace(store: Store):
    store.write_batch("src", "files", Batch(cases=[_case("1"), _case("2")]), {"offset": 10}, at=5.0)
    store.write_batch("src", "files", Batch(cases=[_case("1", status="solved", solved_at=2000.0)]), {"offset": 20}, 6.0)
    rows = {r["id"]: r for r in store.query("SELECT id, status, solved_at FROM cases")}
    assert {k: (v["status"], v["solved_at"]) for k, v in rows.items()} == {"1": ("solved", 2000.0), "2": ("open", None)}
    state = store.sync_state("src")
    assert state.cursor == {"offset": 20}
    assert state.records_total == 3
    assert state.last_success_at == 6.0


def test_a_failing_batch_leaves_neither_records_nor_cursor(store: Store):
    store.write_batch("src", "files", Batch(cases=[_case("1")]), {"offset": 1}, at=1.0)
    bad = Batch(cases=[_case("2"), Case("src", "3", "Billing", "open", "normal", None)])  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        store.write_batch("src", "files", bad, {"offset": 99}, at=2.0)
    assert [r["id"] for r in store.query("SELECT id FROM cases")] == ["1"]
    assert store.sync_state("src").cursor == {"offset": 1}


def test_failures_count_up_and_success_clears_them(store: Store):
    store.record_failure("src", "zendesk", "401 Unauthorized", at=10.0)
    store.record_failure("src", "zendesk", "401 Unauthorized", at=20.0)
    state = store.sync_state("src")
    assert (state.consecutive_failures, state.failing_since, state.last_error) == (2, 10.0, "401 Unauthorized")
    store.write_batch("src", "zendesk", Batch(), None, at=30.0)
    state = store.sync_state("src")
    assert (state.consecutive_failures, state.failing_since) == (0, None)


def test_agent_states_keep_history_and_queues(store: Store):
    batch = Batch(
        agent_states=[
            AgentState("src", "a1", "available", 100.0, name="Ana", queues=("Billing", "Sales")),
            AgentState("src", "a1", "busy", 160.0, name="Ana", queues=("Billing",)),
        ]
    )
    store.write_batch("src", "sim", batch, None, at=200.0)
    rows = store.query("SELECT state, queues FROM agent_states ORDER BY since")
    assert [(r["state"], r["queues"]) for r in rows] == [
        ("available", '["Billing", "Sales"]'),
        ("busy", '["Billing"]'),
    ]


def test_prune_keeps_open_work_and_latest_agent_state(store: Store):
    old, new = 1_000.0, 100_000.0
    batch = Batch(
        cases=[_case("old-solved", "solved", old, solved_at=old, updated_at=old), _case("old-open", "open", old)],
        contacts=[
            Contact("src", "c-old", "Billing", old, answered_at=old + 5, ended_at=old + 60),
            Contact("src", "c-waiting", "Billing", old),
            Contact("src", "c-new", "Billing", new, answered_at=new + 5),
        ],
        agent_states=[AgentState("src", "a1", "busy", old), AgentState("src", "a1", "offline", old + 10)],
        ratings=[Rating("src", "r1", "csat", 5, 5, old)],
    )
    store.write_batch("src", "sim", batch, None, at=new)
    removed = store.prune(before=50_000.0)
    assert removed["cases"] == 1 and removed["contacts"] == 1 and removed["ratings"] == 1
    assert {r["id"] for r in store.query("SELECT id FROM cases")} == {"old-open"}
    assert {r["id"] for r in store.query("SELECT id FROM contacts")} == {"c-waiting", "c-new"}
    assert [r["state"] for r in store.query("SELECT state FROM agent_states")] == ["offline"]


def test_cache_from_a_newer_shiftboard_is_refused_untouched(tmp_path: Path):
    path = tmp_path / "cache.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="newer shiftboard"):
        Store(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is a spreadsheet, not a cache" * 200)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a shiftboard cache"):
        Store(path)
    assert path.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_cache_gives_a_clear_error(tmp_path: Path):
    path = tmp_path / "cache.sqlite"
    Store(path).close()
    path.chmod(0o400)
    with pytest.raises(StoreError, match="read-only"):
        Store(path).write_batch("src", "sim", Batch(cases=[_case("1")]), None, 1.0)


def test_full_disk_is_reported_and_the_cache_keeps_its_last_good_state(store: Store):
    store.write_batch("src", "sim", Batch(cases=[_case("kept")]), {"n": 1}, at=1.0)
    pages = store.query("PRAGMA page_count")[0][0]
    store.query(f"PRAGMA max_page_count = {pages + 2}")  # what SQLite does when the disk fills up
    big = Batch(cases=[_case(f"x{i}", subject="y" * 2000) for i in range(500)])
    with pytest.raises(StoreError, match="disk is full"):
        store.write_batch("src", "sim", big, {"n": 2}, at=2.0)
    assert [r["id"] for r in store.query("SELECT id FROM cases")] == ["kept"]
    assert store.sync_state("src").cursor == {"n": 1}
    assert store.query("PRAGMA integrity_check")[0][0] == "ok"


def test_readers_open_read_only_and_cannot_write(tmp_path: Path):
    path = tmp_path / "cache.sqlite"
    with Store(path) as writer:
        writer.write_batch("src", "sim", Batch(cases=[_case("1")]), None, 1.0)
        with Store(path, readonly=True) as reader:
            assert reader.counts()["cases"] == 1
            with pytest.raises(StoreError, match="read-only"):
                reader.write_batch("src", "sim", Batch(), None, 2.0)


def test_reader_of_a_missing_cache_says_to_start_the_collector(tmp_path: Path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "nope.sqlite", readonly=True)


def test_a_large_batch_lands_whole_and_in_order_across_multi_row_statements(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    # 1,234 contacts: two whole statements of 500 and 234 left over, one by one. Contact "7" comes again in the
    # second statement and "1230" again among the leftovers: the later one wins, as in the file.
    monkeypatch.setattr(store_module, "MULTI_ROWS", 500)
    contacts = [Contact("src", str(n), "Billing", 1000.0 + n) for n in range(1234)]
    contacts[600] = Contact("src", "7", "Tech", 5.0, agent="bo")
    contacts[1233] = Contact("src", "1230", "Sales", 6.0, blocked=True)
    agents = [AgentState("src", "bo", "busy", float(n), None, ("a", "b")) for n in range(1100)]
    store.write_batch("src", "files", Batch(contacts=contacts, agent_states=agents), {"offset": 1}, at=1.0)

    assert store.counts()["contacts"] == 1232  # 1,234 records, two of them repeat a key
    by_id = {r["id"]: dict(r) for r in store.query("SELECT id, queue, offered_at, agent, blocked FROM contacts")}
    assert by_id["7"] == {"id": "7", "queue": "Tech", "offered_at": 5.0, "agent": "bo", "blocked": 0}
    assert by_id["1230"] == {"id": "1230", "queue": "Sales", "offered_at": 6.0, "agent": None, "blocked": 1}
    assert by_id["599"]["offered_at"] == 1599.0
    assert "600" not in by_id
    assert by_id["1232"]["offered_at"] == 2232.0
    # The indexes agree with the table: the 1,232 offered times through the covering index.
    offered = [r[0] for r in store.query("SELECT offered_at FROM contacts INDEXED BY contacts_offered ORDER BY 1")]
    assert offered[:2] == [5.0, 6.0] and len(offered) == 1232
    assert store.query("PRAGMA integrity_check")[0][0] == "ok"
    assert store.query("SELECT COUNT(*), MIN(since), MAX(since) FROM agent_states")[0][:] == (1100, 0.0, 1099.0)
    assert {r[0] for r in store.query("SELECT DISTINCT queues FROM agent_states")} == {'["a", "b"]'}
    assert store.sync_state("src").records_total == 1234 + 1100
