"""A board keeps its backlog between reads (``metrics.ReadMemo``) and counts it again only when it can have
changed: checked against a fresh count at moments up to and just before the kept backlog's horizon."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shiftboard.config import MetricsSettings
from shiftboard.metrics import HORIZON_MARGIN_S, ReadMemo, compute
from shiftboard.model import Batch, Case, Contact
from shiftboard.store import WRITES_KEPT, Store
from tests.unit.test_metrics_backlog import AT, SETTINGS, h, m

PRIORITIES = ("urgent", "high", "normal", "low")


def backlogs(figures: dict) -> dict:
    """Every queue's case figures: the backlog and SLA parts are what a kept backlog supplies."""
    return {queue: f["cases"] for queue, f in figures["queues"].items()}


@st.composite
def case_lists(draw):
    count = draw(st.integers(0, 25))
    cases = []
    for i in range(count):
        # Mostly open before AT; some created later, replied later or solved later, to move the horizon.
        created = AT - draw(st.one_of(st.floats(-2 * h, 3 * 86400), st.sampled_from([0.0, h, 4 * h, 86400.0])))
        replied = draw(st.one_of(st.none(), st.floats(created, AT + 6 * h)))
        solved = draw(st.one_of(st.none(), st.floats(max(created, AT - h), AT + 6 * h)))
        status = "solved" if solved is not None else draw(st.sampled_from(["new", "open", "pending", "on_hold"]))
        cases.append(
            Case(
                "src",
                str(i),
                draw(st.sampled_from(["Mail", "Phone"])),
                status,
                draw(st.sampled_from(PRIORITIES)),
                created,
                first_reply_at=replied,
                solved_at=solved,
            )
        )
    return cases


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cases=case_lists(),
    risk=st.sampled_from([0.0, 10.0, 30.0]),
    later=st.lists(st.floats(0, 2 * 86400), max_size=6),
)
def test_a_kept_backlog_equals_a_fresh_count_until_its_horizon(cases, risk, later):
    metrics = SETTINGS.model_copy(update={"sla_at_risk_min": risk})
    with tempfile.TemporaryDirectory() as folder:
        writer = Store(Path(folder) / "cache.sqlite")
        writer.write_batch("src", "test", Batch(cases=cases), None, 0)
        reader = Store(writer.path, readonly=True)
        memo = ReadMemo()
        moments = sorted(AT + offset for offset in later)
        at = AT
        for step in range(8 + len(moments)):
            kept = compute(reader, metrics, at, AT - h, memo=memo)
            assert backlogs(kept) == backlogs(compute(reader, metrics, at, AT - h)), (step, at, memo.until("backlog"))
            # Next: a drawn moment, or just before the horizon (the last moment a kept backlog is used), or past it.
            if moments:
                at = max(at, moments.pop(0))
            elif memo.until("backlog") == float("inf"):
                break
            elif at < memo.until("backlog") - HORIZON_MARGIN_S / 2:
                at = memo.until("backlog") - HORIZON_MARGIN_S / 2
            else:
                at = memo.until("backlog") + 2 * HORIZON_MARGIN_S
        reader.close()
        writer.close()


def test_the_backlog_is_counted_again_only_when_it_can_change(store):
    # normal: resolution in 1440 min; the case turns 1 h old first, 50 minutes after AT.
    store.write_batch("src", "test", Batch(cases=[Case("src", "1", "Mail", "open", "normal", AT - 10 * m)]), None, 0)
    reader = Store(store.path, readonly=True)
    memo = ReadMemo()
    first = compute(reader, SETTINGS, AT, AT - h, memo=memo)
    assert memo.until("backlog") == AT + 50 * m - HORIZON_MARGIN_S
    assert first["queues"]["Mail"]["cases"]["backlog"]["by_age"]["under_1h"] == 1

    # Later, before the horizon: kept, with the oldest age and the next breach worked out from the new moment.
    kept = compute(reader, SETTINGS, AT + 40 * m, AT - h, memo=memo)
    assert memo.hits["backlog"] == 1
    backlog = kept["queues"]["Mail"]["cases"]["backlog"]
    assert backlog["oldest_age_s"] == 50 * m
    sla = kept["queues"]["Mail"]["cases"]["sla"]
    assert sla["next_breach_s"] == (AT - 10 * m + 1440 * m) - (AT + 40 * m)

    # A sync that writes no case (a source's heartbeat) or only contacts keeps it.
    store.write_batch("src", "test", Batch(), None, 1)
    store.write_batch("src", "test", Batch(contacts=[Contact("src", "c1", "Mail", AT - m)]), None, 2)
    compute(reader, SETTINGS, AT + 41 * m, AT - h, memo=memo)
    assert memo.hits["backlog"] == 2

    # A written case is counted at once.
    store.write_batch("src", "test", Batch(cases=[Case("src", "2", "Mail", "new", "low", AT + 30 * m)]), None, 3)
    fresh = compute(reader, SETTINGS, AT + 42 * m, AT - h, memo=memo)
    assert memo.hits["backlog"] == 2
    assert fresh["queues"]["Mail"]["cases"]["backlog"]["open"] == 2

    # Past the horizon the first case is in 1h_to_4h; an earlier moment (rewound) is counted again too.
    later = compute(reader, SETTINGS, AT + 50 * m, AT - h, memo=memo)
    assert later["queues"]["Mail"]["cases"]["backlog"]["by_age"]["1h_to_4h"] == 1
    assert later["queues"]["Mail"]["cases"]["backlog"]["open"] == 2
    # Only the ages and SLA states were counted again: the counts by status, priority, … are kept.
    assert (memo.hits["open_cases"], memo.hits["backlog"]) == (3, 2)
    compute(reader, SETTINGS, AT, AT - h, memo=memo)
    assert memo.hits["backlog"] == 2
    reader.close()


def test_each_write_to_a_table_is_counted(store):
    def changes(table: str) -> int:
        with store.read() as conn:
            return Store.changes(conn)[table]

    assert changes("cases") == 0
    store.write_batch("src", "test", Batch(cases=[Case("src", "1", "Mail", "solved", "low", AT - 9 * h)]), None, 0)
    store.write_batch("src", "test", Batch(), None, 1)
    assert (changes("cases"), changes("contacts")) == (1, 0)
    store.write_batch("src", "test", Batch(cases=[Case("src", "1", "Mail", "closed", "low", AT - 9 * h)]), None, 2)
    assert changes("cases") == 2
    store.prune(AT)  # deletes the closed case
    assert changes("cases") == 3
    store.prune(AT)  # nothing left to delete
    assert changes("cases") == 3


def test_other_settings_count_again(store):
    store.write_batch("src", "test", Batch(cases=[Case("src", "1", "Mail", "open", "urgent", AT - 10 * m)]), None, 0)
    memo = ReadMemo()
    compute(store, SETTINGS, AT, AT - h, memo=memo)
    other = MetricsSettings(timezone="UTC", sla={"urgent": {"first_reply_min": 5}})  # breached 5 minutes ago
    figures = compute(store, other, AT + m, AT - h, memo=memo)
    assert memo.hits["backlog"] == 0
    assert figures["queues"]["Mail"]["cases"]["sla"]["breached"] == 1


def test_a_case_crossing_an_edge_counts_again_only_its_queue_and_priority(store):
    # Mail/normal turns 1 h old 50 minutes after AT; Phone/low not for hours: past the first, only Mail/normal is
    # counted again, and the figures still equal a fresh count.
    cases = [
        Case("src", "1", "Mail", "open", "normal", AT - 10 * m),
        Case("src", "2", "Phone", "open", "low", AT - 5 * m),
        Case("src", "3", "Phone", "new", "low", AT - 2 * h),
    ]
    store.write_batch("src", "test", Batch(cases=cases), None, 0)
    reader = Store(store.path, readonly=True)
    memo = ReadMemo()
    compute(reader, SETTINGS, AT, AT - h, memo=memo)
    assert memo.until("backlog") == AT + 50 * m - HORIZON_MARGIN_S
    later = compute(reader, SETTINGS, AT + 51 * m, AT - h, memo=memo)
    assert memo.extended["backlog"] == 1
    assert backlogs(later) == backlogs(compute(reader, SETTINGS, AT + 51 * m, AT - h))
    assert later["queues"]["Mail"]["cases"]["backlog"]["by_age"]["1h_to_4h"] == 1
    assert later["queues"]["Phone"]["cases"]["backlog"]["by_age"] == {
        "under_1h": 1,
        "1h_to_4h": 1,
        "4h_to_24h": 0,
        "over_24h": 0,
    }
    # Phone/low's own edge (its younger case turns 1 h old) is next.
    assert memo.until("backlog") == AT + 55 * m - HORIZON_MARGIN_S
    reader.close()


def test_a_write_counts_again_only_the_queues_it_touched(store):
    """After a write to the cases, a kept backlog that still held but for it is counted again only in the queues the
    write touched: the queues of the cases written and those they left."""
    cases = [
        Case("src", "1", "Mail", "open", "normal", AT - 10 * m),
        Case("src", "2", "Mail", "pending", "urgent", AT - 3 * h),
        Case("src", "3", "Phone", "open", "low", AT - 5 * m),
        Case("src", "4", "Chat", "new", "high", AT - 2 * h),
        Case("src", "5", "Chat", "solved", "low", AT - 30 * h, solved_at=AT - 29 * h),
    ]
    store.write_batch("src", "test", Batch(cases=cases), None, 0)
    reader = Store(store.path, readonly=True)
    memo = ReadMemo()

    def read(at: float) -> dict:
        kept = compute(reader, SETTINGS, at, AT - h, memo=memo)
        assert backlogs(kept) == backlogs(compute(reader, SETTINGS, at, AT - h))
        return {queue: c["backlog"]["open"] for queue, c in backlogs(kept).items()}

    assert read(AT) == {"all": 4, "Mail": 2, "Phone": 1, "Chat": 1}
    reused = memo.extended["backlog"]
    store.write_batch("src", "test", Batch(cases=[Case("src", "6", "Phone", "new", "normal", AT + m)]), None, 1)
    assert read(AT + 2 * m) == {"all": 5, "Mail": 2, "Phone": 2, "Chat": 1}
    assert memo.extended["open_cases"] == 1
    assert memo.extended["backlog"] == reused + 1  # Mail's and Chat's ages and SLA states were kept
    # A case moved from Mail to Chat: both queues are counted again.
    store.write_batch("src", "test", Batch(cases=[Case("src", "2", "Chat", "pending", "urgent", AT - 3 * h)]), None, 2)
    assert read(AT + 3 * m) == {"all": 5, "Mail": 1, "Phone": 2, "Chat": 2}
    assert memo.extended["open_cases"] == 2
    # Mail's last open case solved: Mail leaves the backlog as in a fresh count.
    solved = Case("src", "1", "Mail", "solved", "normal", AT - 10 * m, solved_at=AT + 3 * m)
    store.write_batch("src", "test", Batch(cases=[solved]), None, 3)
    assert read(AT + 4 * m)["Mail"] == 0
    assert memo.extended["open_cases"] == 3
    # A prune deletes cases without saying which: everything is counted again.
    store.prune(AT)
    assert read(AT + 5 * m)["all"] == 4
    assert memo.extended["open_cases"] == 3
    reader.close()


def test_keys_written_since_are_the_queues_each_write_touched(store):
    def changes() -> int:
        with store.read() as conn:
            return Store.changes(conn)["cases"]

    def touched(before: int) -> set[str] | None:
        now = changes()
        with store.read() as conn:
            return Store.keys_written_since(conn, "cases", before, now)

    assert touched(0) == set()
    store.write_batch("src", "test", Batch(cases=[Case("src", "1", "Mail", "open", "low", AT)]), None, 0)
    store.write_batch("src", "test", Batch(contacts=[Contact("src", "c1", "Phone", AT)]), None, 1)  # no case
    first = changes()
    store.write_batch("src", "test", Batch(cases=[Case("src", "1", "Chat", "open", "low", AT)]), None, 2)  # moved
    assert first == 1
    assert touched(0) == {"Mail", "Chat"}
    assert touched(first) == {"Mail", "Chat"}
    store.write_batch("src", "test", Batch(cases=[Case("src", "2", "Phone", "solved", "low", AT)]), None, 3)
    assert touched(first + 1) == {"Phone"}
    store.write_batch("src", "test", Batch(cases=[Case("src", "2", "Phone", "closed", "low", AT - 9 * h)]), None, 4)
    store.prune(AT)  # a write that does not say which queues it touched
    assert touched(first) is None
    for n in range(WRITES_KEPT + 1):
        store.write_batch("src", "test", Batch(cases=[Case("src", "3", "Mail", "open", "low", AT + n)]), None, 5 + n)
    assert touched(changes() - WRITES_KEPT) == {"Mail"}
    assert touched(changes() - WRITES_KEPT - 1) is None  # older than the log keeps


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=case_lists(),
    then=case_lists(),
    queues=st.lists(st.sampled_from(["Mail", "Phone", "Chat"]), min_size=1, max_size=3),
    later=st.lists(st.floats(0, 6 * h), max_size=4),
)
def test_a_backlog_counted_again_after_writes_equals_a_fresh_count(first, then, queues, later):
    """Writes between reads, each moving some of the cases (same ids) to other queues, priorities and states."""
    with tempfile.TemporaryDirectory() as folder:
        writer = Store(Path(folder) / "cache.sqlite")
        writer.write_batch("src", "test", Batch(cases=first), None, 0)
        reader = Store(writer.path, readonly=True)
        memo = ReadMemo()
        writes = [then[i :: len(later)] for i in range(len(later))]  # one part of ``then`` before each later read
        at = AT
        for step, offset in enumerate([0.0, *sorted(later)]):
            at = max(at, AT + offset)
            if step:
                moved = [replace(case, queue=queues[i % len(queues)]) for i, case in enumerate(writes[step - 1])]
                writer.write_batch("src", "test", Batch(cases=moved), None, step)
            kept = compute(reader, SETTINGS, at, AT - h, memo=memo)
            assert backlogs(kept) == backlogs(compute(reader, SETTINGS, at, AT - h)), (step, at)
        reader.close()
        writer.close()
