"""The wall's trend series, on a small day whose buckets are worked out by hand in the comments."""

from __future__ import annotations

import pytest

from shiftboard.config import MetricsSettings
from shiftboard.model import Batch, Contact
from shiftboard.trends import ABANDONED_SQL, ANSWERED_SQL, OFFERED_SQL, trends

AT = 1_774_267_200.0  # 2026-03-23 12:00:00 UTC; buckets of 15 min over the hour before it
M = 60.0
SETTINGS = MetricsSettings(
    timezone="UTC",
    service_level_threshold_s=20,
    short_abandon_s=5,
    abandon_policy="exclude_short",
    queues={"B": {"service_level_threshold_s": 3}},
)


def c(i: str, queue: str, offered: float, **kw) -> Contact:
    return Contact("src", i, queue, offered, **kw)


@pytest.fixture
def day(store):
    b0 = AT - 60 * M  # bucket 0 = [11:00, 11:15), 1 = [11:15, 11:30), 2 = [11:30, 11:45), 3 = [11:45, 12:00)
    batch = Batch(
        contacts=[
            c("a1", "A", b0 + 1 * M, answered_at=b0 + 1 * M + 10),  # bucket 0, wait 10 (within 20)
            c("a2", "A", b0 + 5 * M, answered_at=b0 + 5 * M + 30),  # bucket 0, wait 30
            c("a3", "A", b0 + 20 * M, abandoned_at=b0 + 20 * M + 3),  # bucket 1, abandoned after 3 s (short)
            c("a4", "A", b0 + 25 * M, abandoned_at=b0 + 25 * M + 50),  # bucket 1, abandoned after 50 s
            c("a5", "A", b0 + 29 * M, answered_at=b0 + 31 * M),  # bucket 2, wait 120; waiting at 11:30
            c("a6", "A", b0 + 50 * M),  # still waiting at 12:00
            c("a7", "A", b0 - 10 * M, answered_at=b0 + 16 * M),  # bucket 1, wait 1560; waiting at 11:15
            c("a8", "A", AT - 24 * 3600 - 20 * M),  # never answered: within 24 h of 11:15 and 11:30, not later
            c("x1", "A", b0 + 40 * M, blocked=True),  # blocked: never counted
            c("b1", "B", b0 + 10 * M, answered_at=b0 + 10 * M + 5),  # bucket 0, wait 5: over B's own 3 s
            c("old", "A", b0 - 3 * 3600, answered_at=b0 - 3 * 3600 + 5),  # before the period
        ]
    )
    store.write_batch("src", "test", batch, None, 0)
    return store


def test_queue_buckets_by_hand(day):
    with day.read() as conn:
        t = trends(conn, SETTINGS, AT, hours=1, bucket_s=900, queue="A")
    assert t.start == AT - 3600
    assert t.ends() == [AT - 2700, AT - 1800, AT - 900, AT]
    # 0: a1 within, a2 not → 1/2. 1: a7 answered late, a3 (short, excluded) and a4 abandoned → 0/(1+2−1).
    # 2: a5 late → 0/1. 3: no wait ended.
    assert t.service_level_pct == [50.0, 0.0, 0.0, None]
    assert t.asa_s == [20.0, 1560.0, 120.0, None]
    # 11:15: a7 and a8. 11:30: a5 and a8. 11:45: a8 is past 24 h. 12:00: a6.
    assert t.waiting == [2, 2, 0, 1]


def test_all_queues_judge_each_contact_by_its_queue(day):
    with day.read() as conn:
        t = trends(conn, SETTINGS, AT, hours=1, bucket_s=900, queue=None)
    # Bucket 0 adds b1: wait 5 is over B's 3 s → within 1 of 3; ASA (10 + 30 + 5) / 3.
    assert t.service_level_pct[0] == pytest.approx(100 / 3)
    assert t.asa_s[0] == 15.0
    assert t.service_level_pct[1:] == [0.0, 0.0, None]
    assert t.waiting == [2, 2, 0, 1]


def test_empty_cache_gives_no_values(store):
    with store.read() as conn:
        t = trends(conn, SETTINGS, AT, hours=2, bucket_s=1800, queue="A")
    assert t.service_level_pct == [None] * 4
    assert t.asa_s == [None] * 4
    assert t.waiting == [0] * 4


@pytest.mark.parametrize("sql", [ANSWERED_SQL, ABANDONED_SQL, OFFERED_SQL])
@pytest.mark.parametrize("where_queue", ["", " AND queue = :queue"])
def test_queries_search_a_time_index(day, sql, where_queue):
    """Each query is a range search on an index of its time column, never a scan of the whole table."""
    params = {"start": 0, "at": 1, "horizon": 0, "queue": "A"}
    with day.read() as conn:
        plan = " | ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql + where_queue, params))
    assert "SEARCH contacts USING" in plan and "INDEX" in plan, plan
