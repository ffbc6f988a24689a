"""The Request Tracker source against a real RT 5: tickets made through REST2, synced by the real collector into a
real cache, and the board's figures checked against what each test created.

Every test works in queues of its own, so the session's one RT serves them all without interference.
"""

from __future__ import annotations

import itertools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from shiftboard import metrics
from shiftboard.adapters.base import AdapterContext
from shiftboard.adapters.request_tracker import RequestTrackerSettings
from shiftboard.collector import Collector
from shiftboard.config import MetricsSettings
from shiftboard.store import Store
from tests.integration.rt_server import RTInstance

DAY = 86400.0
_numbers = itertools.count(1)


def batched(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def rt_time(seconds: float) -> str:
    """A moment as RT takes it at create/update (the instance runs in UTC)."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def new_queue(rt: RTInstance, label: str) -> str:
    name = f"{label}-{next(_numbers)}-{uuid.uuid4().hex[:6]}"
    rt.create_queue(name)
    return name


def settings(rt: RTInstance, *queues: str, **extra: Any) -> RequestTrackerSettings:
    return RequestTrackerSettings(
        name=extra.pop("name", "rt"), url=rt.url, token_env="RT_TOKEN", queues=list(queues), **extra
    )


def context(rt: RTInstance, **http_options: Any) -> AdapterContext:
    return AdapterContext(environ={"RT_TOKEN": rt.token or ""}, http_options=http_options)


def figures(store: Store, since: float) -> dict[str, Any]:
    return metrics.compute(store, MetricsSettings(), time.time() + 1, since)["queues"]


def cases(store: Store) -> dict[str, dict[str, Any]]:
    return {row["id"]: dict(row) for row in store.query("SELECT * FROM cases")}


def test_backlog_by_status_priority_and_queue_and_resolution(rt: RTInstance, store: Store) -> None:
    now = float(int(time.time()))
    main, other = new_queue(rt, "Support"), new_queue(rt, "Billing")
    a = rt.create_ticket(Queue=main, Subject="new low", Requestor="ann@example.com", Priority=0)
    b = rt.create_ticket(Queue=main, Subject="open normal", Requestor="bob@example.com", Priority=50, Owner="root")
    rt.update(b, Status="open")
    c = rt.create_ticket(Queue=main, Subject="stalled high", Requestor="cy@example.com", Priority=100)
    rt.update(c, Status="stalled")  # RT refuses "stalled" for a new ticket
    rt.create_ticket(Queue=main, Subject="open normal 2", Requestor="di@example.com", Priority=60, Status="open")
    # Solved in the window, back-dated: resolution 5,400 s and 7,200 s.
    rt.create_ticket(
        Queue=main, Subject="done", Status="resolved", Created=rt_time(now - 7200), Resolved=rt_time(now - 1800)
    )
    f = rt.create_ticket(Queue=main, Subject="refused", Created=rt_time(now - 10800))
    rt.update(f, Status="rejected")  # RT refuses "rejected" for a new ticket, and sets Resolved on the change
    rt.update(f, Resolved=rt_time(now - 3600))
    rt.create_ticket(Queue=other, Subject="other queue", Requestor="ed@example.com", Priority=50, Status="open")

    outcome = Collector(store, [settings(rt, main, other)], context=context(rt)).sync_once()[0]
    assert outcome.error is None and outcome.skipped == 0 and outcome.records == 7

    result = figures(store, since=now - DAY)
    backlog = result[main]["cases"]["backlog"]
    assert backlog["open"] == 4
    assert backlog["by_status"] == {"new": 1, "open": 2, "pending": 0, "on_hold": 1}
    assert backlog["by_priority"] == {"low": 1, "normal": 2, "high": 1, "urgent": 0}
    assert result[other]["cases"]["backlog"]["open"] == 1
    assert result["all"]["cases"]["backlog"]["open"] == 5
    assert result[main]["cases"]["solved"] == 2
    resolution = result[main]["cases"]["resolution_s"]
    assert resolution["max"] == 7200 and resolution["avg"] == 6300

    stored = cases(store)
    assert stored[b]["assignee"] == "root" and stored[b]["customer"] == "bob@example.com"
    assert stored[a]["assignee"] is None and stored[a]["subject"] == "new low"
    assert stored[a]["solved_at"] is None and stored[a]["first_reply_at"] is None


def test_first_reply_counts_correspondence_by_staff_not_comments(rt: RTInstance, store: Store) -> None:
    now = float(int(time.time()))
    queue = new_queue(rt, "Replies")
    replied = rt.create_ticket(Queue=queue, Subject="replied", Requestor="ann@example.com", Created=rt_time(now - 3600))
    rt.comment(replied, "internal note first")
    before = time.time()
    rt.correspond(replied, "We are on it.")
    after = time.time()
    commented = rt.create_ticket(Queue=queue, Subject="only a comment", Requestor="bob@example.com")
    rt.comment(commented, "a comment is not a reply")
    # root is this ticket's requestor, so root's correspondence is the customer writing, not a reply.
    own = rt.create_ticket(Queue=queue, Subject="customer writes", Requestor="root@localhost")
    rt.correspond(own, "any news?")
    reopened = rt.create_ticket(Queue=queue, Subject="reopened", Requestor="cy@example.com")
    rt.update(reopened, Status="resolved")
    rt.correspond(reopened, "one more thing")  # RT's "Open Inactive Tickets" scrip reopens it

    outcome = Collector(store, [settings(rt, queue)], context=context(rt)).sync_once()[0]
    assert outcome.error is None and outcome.records == 4

    stored = cases(store)
    first = stored[replied]["first_reply_at"]
    assert int(before) - 1 <= first <= after + 1
    assert stored[replied]["agent_replies"] == 1 and stored[replied]["reopens"] == 0
    assert stored[commented]["first_reply_at"] is None and stored[commented]["agent_replies"] == 0
    assert stored[own]["first_reply_at"] is None and stored[own]["agent_replies"] == 0
    assert stored[reopened]["reopens"] == 1 and stored[reopened]["status"] == "open"
    assert stored[reopened]["solved_at"] is None  # RT keeps Resolved on reopen; the case is open again

    spread = figures(store, since=now - DAY)[queue]["cases"]["first_reply_s"]
    assert int(before) - 1 - (now - 3600) <= spread["max"] <= after + 1 - (now - 3600)
    assert figures(store, since=now - DAY)[queue]["cases"]["backlog"]["open"] == 4


def test_without_history_first_reply_is_told(rt: RTInstance, store: Store) -> None:
    now = float(int(time.time()))
    queue = new_queue(rt, "Told")
    ticket = rt.create_ticket(Queue=queue, Subject="told", Requestor="ann@example.com", Created=rt_time(now - 7200))
    rt.update(ticket, Told=rt_time(now - 5400))

    Collector(store, [settings(rt, queue, history=False)], context=context(rt)).sync_once()

    assert cases(store)[ticket]["agent_replies"] is None
    assert figures(store, since=now - DAY)[queue]["cases"]["first_reply_s"]["max"] == 1800


def test_resolved_and_deleted_tickets_leave_the_backlog_on_the_next_sync(rt: RTInstance, store: Store) -> None:
    queue = new_queue(rt, "Leaving")
    stays, solved, deleted = (rt.create_ticket(Queue=queue, Subject=s, Status="open") for s in "abc")
    collector = Collector(store, [settings(rt, queue)], context=context(rt))
    collector.sync_once()
    since = time.time() - DAY
    assert figures(store, since)[queue]["cases"]["backlog"]["open"] == 3

    rt.update(solved, Status="resolved")
    rt.update(deleted, Status="deleted")
    outcome = collector.sync_once()[0]

    assert outcome.error is None
    assert figures(store, since)[queue]["cases"]["backlog"]["open"] == 1
    stored = cases(store)
    assert {stays: "open", solved: "solved", deleted: "deleted"} == {k: stored[k]["status"] for k in stored}


def test_a_ticket_updated_during_a_sync_is_picked_up_by_the_next(rt: RTInstance, store: Store) -> None:
    queue = new_queue(rt, "During")
    ids = [rt.create_ticket(Queue=queue, Subject=f"t{n}", Status="open") for n in range(5)]
    changed: list[str] = []

    def change_first_ticket_after_first_page(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/tickets") and not changed:
            rt.update(ids[0], Status="stalled")  # already read: it is on the page that just arrived
            changed.append(ids[0])

    hooks = {"response": [change_first_ticket_after_first_page]}
    collector = Collector(store, [settings(rt, queue, per_page=2)], context=context(rt, event_hooks=hooks))
    first = collector.sync_once()[0]
    assert first.error is None and first.pages >= 3 and changed == [ids[0]]
    assert cases(store)[ids[0]]["status"] == "open"

    collector.sync_once()
    assert cases(store)[ids[0]]["status"] == "on_hold"
    assert len(cases(store)) == 5


def test_a_restarted_collector_continues_from_its_cursor(rt: RTInstance, tmp_path: Path) -> None:
    queue = new_queue(rt, "Restart")
    ids = [rt.create_ticket(Queue=queue, Subject=f"r{n}", Status="open") for n in range(25)]
    rt.wait_until_quiet()  # no ticket changed in the second the first sync reads it: all 25 can be de-duplicated
    source = settings(rt, queue)
    with Store(tmp_path / "cache.sqlite") as store:
        first = Collector(store, [source], context=context(rt))
        assert first.sync_once()[0].records == 25

    rt.update(ids[7], Status="stalled")
    with Store(tmp_path / "cache.sqlite") as store:  # a new process: new store handle, collector and runner
        again = Collector(store, [source], context=context(rt))
        outcome = again.sync_once()[0]
        requests = again.runners[0].adapter.http.requests
        assert outcome.error is None
        assert outcome.records == 1  # only the changed ticket, not the 25 read before
        assert requests == 3  # one page of tickets, the changed ticket's history, the search for deletions
        assert cases(store)[ids[7]]["status"] == "on_hold"


def test_a_thousand_tickets(rt: RTInstance, store: Store, record_property: Any) -> None:
    queue = new_queue(rt, "Big")
    priorities = [0, 50, 100]
    started = time.monotonic()
    tickets = [
        {"Queue": queue, "Subject": f"bulk {n}", "Requestor": "many@example.com", "Priority": priorities[n % 3]}
        for n in range(1000)
    ]
    # As fast as RT allows: bulk creates of 50, three at a time (one per server worker).
    with ThreadPoolExecutor(3) as pool:
        answers = pool.map(lambda chunk: rt.request("POST", "/tickets/bulk", chunk, timeout=600), batched(tickets, 50))
        ids = [str(answer["id"]) for chunk in answers for answer in chunk]
    created_s = time.monotonic() - started
    assert len(set(ids)) == 1000

    rt.wait_until_quiet()
    collector = Collector(store, [settings(rt, queue)], context=context(rt))
    started = time.monotonic()
    outcome = collector.sync_once()[0]
    sync_s = time.monotonic() - started
    requests = collector.runners[0].adapter.http.requests
    record_property("rt_create_1000_s", round(created_s, 1))
    record_property("rt_sync_1000_s", round(sync_s, 2))
    print(f"\nRT: created 1,000 tickets in {created_s:.1f} s; synced them in {sync_s:.2f} s with {requests} requests")

    assert outcome.error is None and outcome.records == 1000 and outcome.skipped == 0
    backlog = figures(store, since=time.time() - DAY)[queue]["cases"]["backlog"]
    assert backlog["open"] == 1000
    assert backlog["by_priority"] == {"low": 334, "normal": 333, "high": 333, "urgent": 0}
    assert collector.sync_once()[0].records == 0


@pytest.mark.parametrize("bad", ["Foo = 1", "Queue = "])
def test_a_bad_filter_fails_with_rts_message(rt: RTInstance, store: Store, bad: str) -> None:
    outcome = Collector(store, [settings(rt, filter=bad)], context=context(rt)).sync_once()[0]
    assert outcome.error is not None and outcome.error.startswith("RT rejected the ticket query (TicketSQL error)")
    assert "Tickets.pm" not in outcome.error


def test_a_wrong_token_is_a_clear_401(rt: RTInstance, store: Store) -> None:
    wrong = AdapterContext(environ={"RT_TOKEN": "1-14-00000000000000000000000000000000"})
    outcome = Collector(store, [settings(rt)], context=wrong).sync_once()[0]
    assert outcome.error is not None and outcome.error.startswith("401")
    assert "00000000" not in outcome.error


def test_basic_auth_with_user_and_password(rt: RTInstance, store: Store) -> None:
    queue = new_queue(rt, "Basic")
    rt.create_ticket(Queue=queue, Subject="basic")
    source = RequestTrackerSettings(name="rt", url=rt.url, user="root", password_env="RT_PASSWORD", queues=[queue])
    outcome = Collector(store, [source], context=AdapterContext(environ={"RT_PASSWORD": "password"})).sync_once()[0]
    assert outcome.error is None and outcome.records == 1
