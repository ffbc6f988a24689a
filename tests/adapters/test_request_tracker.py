"""The Request Tracker adapter's mapping, paging, de-duplication and errors, against a local REST2 emulator.

The real RT 5 is exercised in tests/integration; these cover what a real RT does not produce on demand: null totals,
malformed records, a non-JSON answer, a change in the very second a sync read a ticket.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from shiftboard.adapters.base import AdapterContext
from shiftboard.adapters.request_tracker import RequestTrackerAdapter, RequestTrackerSettings
from shiftboard.collector import Collector
from shiftboard.model import parse_time
from shiftboard.store import Store
from tests.emulators.request_tracker import EPOCH, RTEmulator, iso
from tests.emulators.server import EmulatorServer


@pytest.fixture
def emulator() -> RTEmulator:
    return RTEmulator()


@pytest.fixture
def server(emulator: RTEmulator) -> Iterator[EmulatorServer]:
    with EmulatorServer(emulator) as running:
        yield running


def source(server: EmulatorServer, **extra: Any) -> RequestTrackerSettings:
    return RequestTrackerSettings(name="rt", url=server.url, token_env="RT_TOKEN", **extra)


def context(emulator: RTEmulator, instant_context: AdapterContext) -> AdapterContext:
    instant_context.environ = {"RT_TOKEN": emulator.token}
    return instant_context


def sync(server: EmulatorServer, store: Store, ctx: AdapterContext, **extra: Any):
    collector = Collector(store, [source(server, **extra)], context=ctx)
    return collector, collector.sync_once()[0]


def stored(store: Store) -> dict[str, dict[str, Any]]:
    return {row["id"]: dict(row) for row in store.query("SELECT * FROM cases")}


def test_mapping_of_status_priority_people_and_dates(server, emulator, store, instant_context):
    now = time.time()
    emulator.add_ticket(1, Status="stalled", Priority="0", Owner={"id": "alice", "Name": "alice"})
    emulator.add_ticket(2, Status="rejected", Priority="100", Resolved=iso(now - 60))
    emulator.add_ticket(3, Status="open", Priority="74", Resolved=iso(now - 600), Told=iso(now - 1200))
    emulator.add_ticket(4, Status="resolved", Priority="25", Resolved=iso(now - 5), Requestor=[])
    emulator.add_ticket(5, Status="new", Priority="Medium", Queue={"id": "3", "Name": "Billing"})
    emulator.add_ticket(6, Status="open", Priority="250")

    _, outcome = sync(server, store, context(emulator, instant_context), history=False, priority_urgent_from=200)

    assert outcome.error is None and outcome.records == 6
    cases = stored(store)
    assert {k: v["status"] for k, v in cases.items()} == {
        "1": "on_hold", "2": "closed", "3": "open", "4": "solved", "5": "new", "6": "open",
    }  # fmt: skip
    assert {k: v["priority"] for k, v in cases.items()} == {
        "1": "low", "2": "high", "3": "normal", "4": "normal", "5": "normal", "6": "urgent",
    }  # fmt: skip
    assert cases["1"]["assignee"] == "alice" and cases["2"]["assignee"] is None  # Nobody is unassigned
    assert cases["1"]["customer"] == "ann@example.com" and cases["4"]["customer"] is None
    assert cases["5"]["queue"] == "Billing" and cases["1"]["queue"] == "General"
    # The 1970 epoch is "unset"; Resolved only counts while the ticket is inactive (RT keeps it on reopen).
    assert cases["1"]["solved_at"] is None and cases["1"]["first_reply_at"] is None
    assert cases["3"]["solved_at"] is None
    assert cases["3"]["first_reply_at"] == parse_time(emulator.tickets[3]["Told"])
    assert cases["2"]["solved_at"] == parse_time(emulator.tickets[2]["Resolved"])


def test_history_gives_first_staff_reply_replies_and_reopenings(server, emulator, store, instant_context):
    now = int(time.time())
    emulator.add_ticket(7, Status="open", Told=iso(now - 10))

    def tx(n: int, kind: str, who: str, at: int, old: str = "", new: str = "") -> dict[str, Any]:
        return {"id": str(n), "ObjectId": "7", "Type": kind, "Creator": {"id": who}, "Created": iso(at),
                "Field": "Status" if kind == "Status" else "", "OldValue": old, "NewValue": new}  # fmt: skip

    emulator.transactions = [
        tx(1, "Correspond", "ann@example.com", now - 900),  # the requestor writing: not a reply
        tx(2, "Correspond", "RT_System", now - 850),
        tx(3, "Correspond", "alice", now - 800),  # first staff reply
        tx(4, "Status", "alice", now - 700, "open", "resolved"),
        tx(5, "Status", "RT_System", now - 600, "resolved", "open"),  # reopened
        tx(6, "Correspond", "bob", now - 500),
        tx(7, "Status", "bob", now - 400, "open", "stalled"),  # not a reopening
    ]
    _, outcome = sync(server, store, context(emulator, instant_context))
    case = stored(store)["7"]
    assert outcome.error is None
    assert case["first_reply_at"] == now - 800 and case["agent_replies"] == 2 and case["reopens"] == 1


def test_pages_without_totals_until_a_short_page(server, emulator, store, instant_context):
    emulator.superuser = False  # total and pages are null, and RT gives no next_page
    for n in range(1, 251):
        emulator.add_ticket(n)
    _, outcome = sync(server, store, context(emulator, instant_context), history=False)
    assert outcome.error is None and outcome.records == 250 and outcome.pages == 3
    assert len(stored(store)) == 250


def test_malformed_tickets_are_skipped_and_counted(server, emulator, store, instant_context):
    emulator.add_ticket(1)
    emulator.add_ticket(2, Created=EPOCH)
    emulator.add_ticket(3, Status="escalated")
    emulator.add_ticket(4, Created="yesterday")
    emulator.add_ticket(5, Priority="very")
    emulator.add_ticket(6)
    del emulator.tickets[6]["Queue"]
    emulator.add_ticket(7)
    _, outcome = sync(server, store, context(emulator, instant_context), history=False)
    assert outcome.error is None and outcome.skipped == 5 and set(stored(store)) == {"1", "7"}
    state = store.sync_state("rt")
    assert state.skipped_total == 5 and "ticket" in state.last_skipped_sample


def test_status_map_covers_custom_lifecycles(server, emulator, store, instant_context):
    emulator.add_ticket(1, Status="escalated")
    _, outcome = sync(server, store, context(emulator, instant_context), status_map={"escalated": "open"})
    assert outcome.skipped == 0 and stored(store)["1"]["status"] == "open"


def test_a_change_in_the_second_of_the_read_is_not_lost_and_older_ones_are_not_repeated(
    server, emulator, store, instant_context
):
    emulator.add_ticket(1, Status="open")  # changes in the very second each search reads it
    emulator.add_ticket(2, Status="open")  # last changed 30 s ago
    emulator.touch_on_read.add(1)
    collector, first = sync(server, store, context(emulator, instant_context), history=False)
    assert first.records == 2

    # Another change within that same second: LastUpdated (whole seconds) cannot show it.
    emulator.touch_on_read.clear()
    emulator.tickets[1]["Status"] = "stalled"
    second = collector.sync_once()[0]
    assert second.records == 1 and stored(store)["1"]["status"] == "on_hold"  # ticket 2 was not repeated


def test_deleted_tickets_leave_the_backlog(server, emulator, store, instant_context):
    emulator.add_ticket(1, Status="open")
    emulator.add_ticket(2, Status="open")
    collector, _ = sync(server, store, context(emulator, instant_context), history=False)
    emulator.tickets[2]["Status"] = "deleted"
    emulator.transactions.append(
        {
            "id": "9",
            "ObjectId": "2",
            "Type": "Status",
            "Field": "Status",
            "OldValue": "open",
            "NewValue": "deleted",
            "Creator": {"id": "root"},
            "Created": iso(time.time()),
        }
    )
    assert collector.sync_once()[0].error is None
    assert stored(store)["2"]["status"] == "deleted" and stored(store)["1"]["status"] == "open"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("token", "401 Unauthorized"),
        ("forbidden", "403 Forbidden"),
        ("path", "404 Not Found"),
        ("filter", "RT rejected the ticket query (TicketSQL error): Unknown field: Foo"),
        ("html", "answer is not JSON (text/html"),
    ],
)
def test_errors_are_clear(server, emulator, store, instant_context, change, expected):
    emulator.add_ticket(1)
    extra: dict[str, Any] = {}
    ctx = context(emulator, instant_context)
    settings = source(server)
    if change == "token":
        ctx.environ = {"RT_TOKEN": "1-14-wrong"}
    elif change == "forbidden":
        emulator.forbidden = True
    elif change == "path":
        settings = source(server).model_copy(update={"url": server.url + "/rt"})
    elif change == "filter":
        extra["filter"] = "Foo = 1"
    elif change == "html":
        server.inject(*["html"] * 10)
    if extra:
        settings = source(server, **extra)
    outcome = Collector(store, [settings], context=ctx).sync_once()[0]
    assert outcome.error is not None and outcome.error.startswith(expected), outcome.error
    assert "wrong" not in outcome.error and emulator.token not in outcome.error
    assert "Tickets.pm" not in outcome.error
    assert store.sync_state("rt").last_error == outcome.error


def test_settings_need_one_kind_of_credentials():
    with pytest.raises(ValueError, match="token_env"):
        RequestTrackerSettings(name="rt", url="http://127.0.0.1")
    with pytest.raises(ValueError, match="not both"):
        RequestTrackerSettings(name="rt", url="http://x", token_env="T", user="u", password_env="P")
    with pytest.raises(ValueError, match="status_map"):
        RequestTrackerSettings(name="rt", url="http://x", token_env="T", status_map={"x": "weird"})


def test_queue_names_are_quoted_in_ticketsql(server, emulator, store, instant_context):
    emulator.add_ticket(1)
    sync(server, store, context(emulator, instant_context), queues=["O'Brien's"], history=False)
    assert "Queue = 'O\\'Brien\\'s'" in emulator.searches[0]


def test_url_may_include_the_rest_path(server, emulator, instant_context):
    adapter = RequestTrackerAdapter(
        source(server).model_copy(update={"url": server.url + "/REST/2.0/"}), context(emulator, instant_context)
    )
    emulator.add_ticket(1)
    assert len(adapter.fetch(None, time.time()).batch.cases) == 1
