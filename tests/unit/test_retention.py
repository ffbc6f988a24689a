"""Retention: the collector prunes history past ``[cache] retention_days`` on a schedule, the file stays bounded, and
every figure of a window inside the retention period is the same before and after pruning."""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path

from shiftboard import collector as collector_module
from shiftboard import metrics
from shiftboard.adapters.base import AdapterContext
from shiftboard.collector import Collector
from shiftboard.config import MetricsSettings
from shiftboard.model import AgentState, Batch, Case, Contact, Rating
from shiftboard.store import PRUNE_CACHE_SIZE, Store

DAY = 86400.0
NOW = 1_795_428_000.0  # 2026-11-23T10:00:00Z
QUEUES = ("Billing", "Sales", "Tech")


def _day_of_history(day_start: float, rng: random.Random, n: int = 400, tag: str = "") -> Batch:
    """One day of contacts, cases, ratings and agent state changes, all finished by the end of the day."""
    batch = Batch()
    for i in range(n):
        offered = day_start + rng.uniform(0, DAY - 3600)
        queue = rng.choice(QUEUES)
        cid = f"{tag}{day_start:.0f}-{i}"
        if rng.random() < 0.15:
            batch.contacts.append(Contact("s", cid, queue, offered, abandoned_at=offered + rng.uniform(1, 300)))
        else:
            answered = offered + rng.uniform(0, 120)
            batch.contacts.append(
                Contact("s", cid, queue, offered, answered_at=answered, ended_at=answered + rng.uniform(60, 900))
            )
        if i % 4 == 0:
            created = offered - rng.uniform(0, 3600)
            solved = created + rng.uniform(600, 7200)
            batch.cases.append(
                Case("s", f"C{cid}", queue, "solved", rng.choice(("low", "normal", "high")), created,
                     first_reply_at=created + 300, solved_at=solved, updated_at=solved)
            )  # fmt: skip
        if i % 10 == 0:
            batch.ratings.append(Rating("s", f"R{cid}", "csat", rng.randint(1, 5), 5, offered + 1000, scale_min=1,
                                        queue=queue))  # fmt: skip
    for agent in range(6):
        batch.agent_states.append(
            AgentState("s", f"ag{agent}", rng.choice(("available", "busy", "away")), day_start + rng.uniform(0, DAY),
                       queues=(rng.choice(QUEUES),))
        )  # fmt: skip
    return batch


def test_pruning_leaves_every_figure_inside_the_retention_window_unchanged(tmp_path: Path):
    rng = random.Random(7)
    settings = MetricsSettings(timezone="UTC")
    with Store(tmp_path / "cache.sqlite") as store:
        for day in range(40, 0, -1):
            store.write_batch("s", "files", _day_of_history(NOW - day * DAY, rng), None, NOW)
        # Open work older than the retention period is kept, and so is each agent's latest state.
        store.write_batch("s", "files", Batch(cases=[Case("s", "OLD-OPEN", "Tech", "open", "high", NOW - 35 * DAY)]),
                          None, NOW)  # fmt: skip
        windows = [(NOW, NOW - 7 * DAY), (NOW, NOW - 29 * DAY), (NOW - 10 * DAY, NOW - 12 * DAY), (NOW, None)]
        before = [json.dumps(metrics.compute(store, settings, at, since), sort_keys=True) for at, since in windows]
        counts = store.counts()
        collector = Collector(store, [], context=AdapterContext(clock=lambda: NOW), retention_days=30)
        removed = collector.prune()
        assert removed is not None and removed["contacts"] > 0 and removed["cases"] > 0 and removed["ratings"] > 0
        after = [json.dumps(metrics.compute(store, settings, at, since), sort_keys=True) for at, since in windows]
        assert after == before
        assert store.counts()["contacts"] == counts["contacts"] - removed["contacts"]
        # Counted independently: nothing finished before the cut-off is left, except open work.
        cut = NOW - 30 * DAY
        assert store.query("SELECT COUNT(*) FROM contacts WHERE offered_at < ?", (cut,))[0][0] == 0
        assert store.query("SELECT COUNT(*) FROM ratings WHERE rated_at < ?", (cut,))[0][0] == 0
        assert [r[0] for r in store.query("SELECT id FROM cases WHERE created_at < ? - 86400", (cut,))] == ["OLD-OPEN"]
        latest = store.query("SELECT COUNT(DISTINCT agent) FROM agent_states")[0][0]
        assert latest == 6


def test_the_run_loop_prunes_on_a_schedule(tmp_path: Path, monkeypatch):
    """Old records written while the collector runs are pruned by a later round, without a restart."""
    monkeypatch.setattr(collector_module, "PRUNE_EVERY_S", 0.2)  # the loop checks at most once a second
    rng = random.Random(1)
    with Store(tmp_path / "cache.sqlite") as store:
        store.write_batch("s", "files", _day_of_history(NOW - 40 * DAY, rng, 50), None, NOW)
        stop = threading.Event()
        collector = Collector(store, [], context=AdapterContext(clock=lambda: NOW), retention_days=30)
        thread = threading.Thread(target=collector.run, args=(stop,))
        thread.start()
        try:
            _until(lambda: store.counts()["contacts"] == 0)
            store.write_batch("s", "files", _day_of_history(NOW - 50 * DAY, rng, 50, tag="late"), None, NOW)
            assert store.counts()["contacts"] == 50
            _until(lambda: store.counts()["contacts"] == 0)
        finally:
            stop.set()
            thread.join(timeout=30)
        assert collector.fatal is None


def _until(condition, timeout: float = 30.0) -> None:
    deadline = threading.Event()
    timer = threading.Timer(timeout, deadline.set)
    timer.start()
    try:
        while not condition():
            assert not deadline.wait(0.05), "condition never became true"
    finally:
        timer.cancel()


def test_months_of_writing_and_pruning_keep_the_file_bounded(tmp_path: Path):
    """Pages freed by a prune are reused by later writes, so after the retention period fills the file stops
    growing. (Measured: without pruning the file grows by about one day's size every day.)"""
    rng = random.Random(3)
    path = tmp_path / "cache.sqlite"
    retention_days = 5
    sizes = []
    with Store(path) as store:
        for day in range(30):
            moment = NOW + day * DAY
            store.write_batch("s", "files", _day_of_history(moment - DAY, rng), None, moment)
            store.prune(moment - retention_days * DAY)
            store.query("PRAGMA wal_checkpoint(TRUNCATE)")
            sizes.append(path.stat().st_size)
    full = sizes[retention_days + 2]
    assert max(sizes[retention_days + 2 :]) <= full * 1.2, sizes
    assert sizes[-1] < sizes[retention_days + 2] * 30 / (retention_days + 3) / 2, "the file kept growing"


def test_a_prune_runs_under_a_small_page_cache_and_gives_the_writer_its_own_back(store: Store):
    """The prune's table scans go through a small page cache (they would leave tens of MB resident in a board that
    collects in-process); the writes after it keep the writer's larger cache."""
    statements: list[str] = []
    before = store._conn.execute("PRAGMA cache_size").fetchone()[0]
    store._conn.set_trace_callback(statements.append)
    try:
        store.prune(NOW)
    finally:
        store._conn.set_trace_callback(None)
    deletes = [i for i, sql in enumerate(statements) if sql.lstrip().startswith("DELETE")]
    small = statements.index(f"PRAGMA cache_size = {PRUNE_CACHE_SIZE}")
    assert len(deletes) == 5 and small < deletes[0]
    assert statements[deletes[-1] + 1 :].count(f"PRAGMA cache_size = {before}") == 1
    assert before < PRUNE_CACHE_SIZE < 0  # the writer's own is larger (both in KiB, negative)
    assert store._conn.execute("PRAGMA cache_size").fetchone()[0] == before
