"""A board keeps parts of a read (``metrics.ReadMemo``: the contacts' window sums, the agents' timeline, …) and
reads each again only when it can have changed: every figure of a read with the memo equals a fresh ``compute``,
after real commits of the simulator and at moments up to, just before and past each kept part's *until*."""

from __future__ import annotations

import math
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shiftboard.adapters.base import AdapterContext
from shiftboard.adapters.simulator import SimulatorSettings
from shiftboard.collector import SourceRunner
from shiftboard.config import MetricsSettings
from shiftboard.metrics import HORIZON_MARGIN_S, ReadMemo, compute
from shiftboard.model import AgentState, Batch, Case, Contact, QueueSnapshot, Rating
from shiftboard.store import Store

m, h = 60.0, 3600.0
#: 11:00 in the simulator's zone (Tokyo): every queue busy, so most commits write contacts and agent states; 14 h
#: after the run's origin (UTC midnight - 12 h), which its first sync simulates.
AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC).timestamp()
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
METRICS = MetricsSettings(timezone="UTC", business_hours={"days": DAYS, "start": "08:00"})
PARTS = ("open_cases", "backlog", "contacts", "agents", "cases", "ratings", "snapshots", "hour")


def test_reads_with_the_memo_equal_fresh_reads_after_each_simulator_commit(tmp_path: Path):
    now = [AT]
    store = Store(tmp_path / "cache.sqlite")
    source = SimulatorSettings(name="sim", kind="simulator", timezone="Asia/Tokyo")
    runner = SourceRunner(source, store, AdapterContext(clock=lambda: now[0]))
    runner.sync()  # the run's history up to AT
    reader = Store(store.path, readonly=True)
    memo = ReadMemo()
    written = 0
    for step in range(90):
        now[0] = AT + 2.0 * step
        before = reader.data_version()
        runner.sync()
        written += reader.data_version() != before
        # A read just after the commit, and later ones before the next (as the board's timer and ages do).
        for later in (0.0, 0.4, 1.3, 1.99):
            at = now[0] + later
            assert compute(reader, METRICS, at, memo=memo) == compute(reader, METRICS, at), (step, later)
    assert written > 30  # the simulator committed between most reads
    assert all(memo.hits[part] > 0 for part in PARTS), memo.hits
    assert sum(memo.hits.values()) < len(PARTS) * 90 * 4  # and parts were read again after its writes
    assert memo.extended["agents"] > 0  # its agents' timeline brought up to date with states stored after it
    assert memo.extended["hour"] > 0  # and the last hour's contacts with those it wrote
    assert memo.extended["contacts_recent"] > 0  # and the contacts after the split
    # Every read of the window after a commit kept the contacts before the split (only the first read counted them).
    window_reads = 90 * 4 - memo.hits["contacts"]
    assert window_reads > 10 and memo.hits["contacts_before"] == window_reads - 1, memo.hits
    reader.close()
    store.close()


def test_a_contact_moved_out_of_the_kept_part_is_counted_where_it_now_is(tmp_path: Path):
    """A write that moves a contact's offer (or end) from before the split to after it changes the kept part too:
    the write log holds the times the write replaced, not only those it stored."""
    split = AT - h  # contacts_split(since, AT): AT is on the hour
    offered, ended = split - 30 * m, split - 10 * m
    writer = Store(tmp_path / "cache.sqlite")
    phone = {"source": "src", "queue": "Phone", "answered_at": offered + 60, "customer": "ann"}
    writer.write_batch(
        "src", "test", Batch(contacts=[Contact(id="moved", offered_at=offered, ended_at=ended, **phone)]), None, 0
    )
    reader = Store(writer.path, readonly=True)
    memo = ReadMemo()
    first = compute(reader, METRICS, AT, memo=memo)
    assert first == compute(reader, METRICS, AT)
    moves = [
        {"offered_at": split + 5 * m, "answered_at": split + 6 * m, "ended_at": split + 20 * m},  # out of the part
        {"offered_at": offered, "answered_at": offered + 60, "ended_at": split + 20 * m},  # only its end moves out
        {"offered_at": offered, "answered_at": offered + 60, "ended_at": ended, "queue": "Mail"},  # its queue
    ]
    # And one that never ended (abandoned): only its offer moves.
    moves.append({"id": "abandoned", "offered_at": offered, "abandoned_at": offered + 30, "answered_at": None})
    moves.append({"id": "abandoned", "offered_at": split + 5 * m, "abandoned_at": split + 6 * m, "answered_at": None})
    for number, move in enumerate(moves):
        fields = {"id": "moved", **phone, **move}
        writer.write_batch("src", "test", Batch(contacts=[Contact(**fields)]), None, number + 1)
        at = AT + number + 1
        assert compute(reader, METRICS, at, memo=memo) == compute(reader, METRICS, at), move
    assert compute(reader, METRICS, AT + 10, memo=memo) != first  # the figures did move
    reader.close()
    writer.close()


def test_a_write_to_a_contact_after_the_split_is_counted_again_and_the_others_kept(tmp_path: Path):
    """The contacts after the split are kept as rows; a write makes a read count again those from the earliest time
    it stored on, which takes in a later contact whose repeat depends on the one written."""
    split = AT - h
    writer = Store(tmp_path / "cache.sqlite")

    def contact(id: str, offered: float, **fields) -> Contact:
        times = {"answered_at": offered + m, "ended_at": offered + 10 * m}
        return Contact(**{"source": "src", "id": id, "queue": "Phone", "offered_at": offered, **times, **fields})

    early, late = contact("early", split + 5 * m, customer="ann"), contact("late", split + 30 * m, customer="ann")
    writer.write_batch("src", "test", Batch(contacts=[early, late]), None, 0)
    reader = Store(writer.path, readonly=True)
    memo = ReadMemo()

    def read(at: float) -> dict:
        kept = compute(reader, METRICS, at, memo=memo)
        assert kept == compute(reader, METRICS, at)
        return {q: f["contacts"] for q, f in kept["queues"].items()}

    assert read(AT)["Phone"]["repeat_contacts"] == 1  # ann's second contact
    writes = [
        # Ann's first contact becomes Bob's: her later one no longer repeats.
        (contact("early", split + 5 * m, customer="bob"), {"Phone": (2, 0)}),
        # Bob's moves queue, its times as they were.
        (contact("early", split + 5 * m, customer="bob", queue="Mail"), {"Phone": (1, 0), "Mail": (1, 0)}),
        # And a new contact of Ann's repeats her last.
        (contact("third", split + 50 * m, customer="ann", queue="Mail"), {"Phone": (1, 0), "Mail": (2, 1)}),
    ]
    for number, (written, expected) in enumerate(writes, start=1):
        writer.write_batch("src", "test", Batch(contacts=[written]), None, number)
        figures = read(AT + number)
        assert {q: (figures[q]["offered"], figures[q]["repeat_contacts"]) for q in expected} == expected, written
    assert memo.extended["contacts_recent"] == len(writes)  # each read after a write kept what it could not change
    # A rewound board drops the kept contacts after its moment; a later window start, those before it; an earlier
    # one again needs those it dropped.
    writer.write_batch("src", "test", Batch(contacts=[contact("fourth", AT + 5 * m)]), None, len(writes) + 1)
    moments = ((AT + 10 * m, None), (AT + 2 * m, None), (AT + 11 * m, split + 20 * m), (AT + 12 * m, AT - 5 * h))
    for at, since in moments:
        assert compute(reader, METRICS, at, since, memo=memo) == compute(reader, METRICS, at, since)
    reader.close()
    writer.close()


@st.composite
def records(draw):
    """Contacts, agent states, cases, ratings and queue snapshots around AT, some with times after it (a source's
    clock ahead)."""
    moment = st.floats(AT - 26 * h, AT + 2 * h)

    def after(start: float):
        return st.one_of(st.none(), st.floats(start, AT + 2 * h))

    contacts = []
    for i in range(draw(st.integers(0, 12))):
        offered = draw(moment)
        answered = draw(after(offered))
        ended = draw(after(answered if answered is not None else offered))
        contacts.append(
            Contact(
                "src",
                f"c{i}",
                draw(st.sampled_from(["Mail", "Phone"])),
                offered,
                customer=draw(st.sampled_from([None, "ann", "bob"])),
                answered_at=answered,
                ended_at=ended,
                abandoned_at=draw(after(offered)) if answered is None else None,
                blocked=draw(st.booleans()) and answered is None,
                wrap_up_s=draw(st.sampled_from([None, 30.0])),
            )
        )
    states = [
        AgentState(
            "src",
            draw(st.sampled_from(["a1", "a2", "a3"])),
            draw(st.sampled_from(["available", "busy", "wrap_up", "away", "offline"])),
            draw(moment),
            queues=draw(st.sampled_from([(), ("Mail",), ("Phone", "Mail")])),
        )
        for _ in range(draw(st.integers(0, 12)))
    ]
    cases = []
    for i in range(draw(st.integers(0, 6))):
        created = draw(moment)
        solved = draw(after(created))
        cases.append(
            Case(
                "src",
                f"k{i}",
                draw(st.sampled_from(["Mail", "Phone"])),
                "solved" if solved is not None else "open",
                "normal",
                created,
                first_reply_at=draw(after(created)),
                solved_at=solved,
            )
        )
    ratings = [
        Rating(
            "src",
            f"r{i}",
            "csat",
            draw(st.integers(1, 5)),
            5,
            draw(moment),
            scale_min=1,
            case_id="k0",
            queue=draw(st.sampled_from([None, None, "Mail"])),  # None: the queue of case k0, which may move
        )
        for i in range(draw(st.integers(0, 4)))
    ]
    snapshots = [
        QueueSnapshot(
            "src",
            draw(st.sampled_from(["Mail", "Chat"])),
            draw(moment),
            waiting=draw(st.integers(0, 3)),
            longest_wait_s=30.0,
            agents_online=2,
            agents_available=1,
            window_start=AT - 12 * h,
            offered=draw(st.integers(0, 9)),
        )
        for _ in range(draw(st.integers(0, 4)))
    ]
    return Batch(cases=cases, contacts=contacts, agent_states=states, ratings=ratings, queue_snapshots=snapshots)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=records(), then=records(), later=st.lists(st.floats(0, 2.5 * h), max_size=5))
def test_a_kept_part_equals_a_fresh_read_until_it_can_change(first, then, later):
    with tempfile.TemporaryDirectory() as folder:
        writer = Store(Path(folder) / "cache.sqlite")
        writer.write_batch("src", "test", first, None, 0)
        reader = Store(writer.path, readonly=True)
        memo = ReadMemo()
        moments = sorted(AT + offset for offset in later)
        at = AT
        for step in range(12 + len(moments)):
            if step == 6:  # a second commit, between two reads
                writer.write_batch("src", "test", then, None, 1)
            kept = compute(reader, METRICS, at, memo=memo)
            assert kept == compute(reader, METRICS, at), (step, at)
            # Next: a drawn moment, or the last moment before the nearest *until*, or just past it.
            until = min((memo.until(part) for part in PARTS if memo.until(part) > at), default=math.inf)
            if moments:
                at = max(at, moments.pop(0))
            elif until == math.inf:
                at += h
            elif at < until - HORIZON_MARGIN_S / 2:
                at = max(at, math.nextafter(until, -math.inf))
            else:
                at = until + HORIZON_MARGIN_S
        reader.close()
        writer.close()


def test_ratings_are_read_again_after_a_cases_write_only_when_one_takes_its_case_queue(tmp_path: Path):
    """A rating with no queue of its own counts in its case's queue, which a write to the cases can move; one with
    its own queue does not depend on the cases, and a helpdesk writes cases several times a minute."""
    writer = Store(tmp_path / "cache.sqlite")
    case = {"source": "src", "id": "k1", "status": "open", "priority": "normal", "created_at": AT - h}
    rating = {"source": "src", "kind": "csat", "score": 5, "scale_max": 5, "scale_min": 1, "case_id": "k1"}
    writer.write_batch(
        "src",
        "test",
        Batch(cases=[Case(queue="Mail", **case)], ratings=[Rating(id="r1", rated_at=AT - m, queue="Mail", **rating)]),
        None,
        0,
    )
    reader = Store(writer.path, readonly=True)
    memo = ReadMemo()

    def read(at: float) -> dict:
        kept = compute(reader, METRICS, at, memo=memo)
        assert kept == compute(reader, METRICS, at)
        return {q: f["satisfaction"]["csat_responses"] for q, f in kept["queues"].items()}

    assert read(AT) == {"all": 1, "Mail": 1}
    writer.write_batch("src", "test", Batch(cases=[Case(queue="Phone", **case)]), None, 1)
    hits = memo.hits["ratings"]
    assert read(AT + 1) == {"all": 1, "Mail": 1, "Phone": 0}  # its own queue: kept across the cases write
    assert memo.hits["ratings"] == hits + 1
    # One without a queue: in its case's queue, and read again when the case moves.
    writer.write_batch("src", "test", Batch(ratings=[Rating(id="r2", rated_at=AT - m, **rating)]), None, 2)
    assert read(AT + 2) == {"all": 2, "Mail": 1, "Phone": 1}
    writer.write_batch("src", "test", Batch(cases=[Case(queue="Chat", **case)]), None, 3)
    assert read(AT + 3) == {"all": 2, "Mail": 1, "Chat": 1}
    assert memo.hits["ratings"] == hits + 1
    reader.close()
    writer.close()


def test_a_derived_value_is_made_again_only_when_one_of_its_parts_is_another_object():
    memo = ReadMemo()
    first, second = {"q": 1}, {"q": 2}
    made: list[object] = []

    def make() -> object:
        made.append(object())
        return made[-1]

    kept = memo.derived("cases", (first, second), make)
    assert memo.derived("cases", (first, second), make) is kept
    # An equal part read again is another object: what was made from the old one is not reused.
    again = memo.derived("cases", (first, {"q": 2}), make)
    assert again is not kept and len(made) == 2
    assert memo.derived("cases", (first,), make) is made[2]


def test_kept_contacts_give_each_queues_settings_their_own_figures_and_the_wait_at_each_moment(tmp_path: Path):
    """The window's sums are kept whatever the settings; the figures worked out from them once (all but the longest
    wait) follow the service-level settings they are asked with, and the longest wait the moment."""
    writer = Store(tmp_path / "cache.sqlite")
    phone = {"source": "src", "queue": "Phone", "customer": "ann"}
    writer.write_batch(
        "src",
        "test",
        Batch(
            contacts=[
                Contact(id="quick", offered_at=AT - 30 * m, answered_at=AT - 30 * m + 15, **phone),
                Contact(id="slow", offered_at=AT - 20 * m, answered_at=AT - 20 * m + 40, **phone),
                Contact(id="waits", offered_at=AT - 2 * m, **phone),
            ]
        ),
        None,
        0,
    )
    reader = Store(writer.path, readonly=True)
    strict = METRICS.model_copy(update={"service_level_threshold_s": 20.0})
    lenient = METRICS.model_copy(update={"service_level_threshold_s": 60.0})
    memo = ReadMemo()
    for at, settings_ in ((AT, strict), (AT + 7, lenient), (AT + 9, strict)):
        kept = compute(reader, settings_, at, memo=memo)
        assert kept == compute(reader, settings_, at)
        phone_figures = kept["queues"]["Phone"]["contacts"]
        assert phone_figures["service_level_pct"] == (50.0 if settings_ is strict else 100.0)
        assert phone_figures["longest_wait_s"] == at - (AT - 2 * m)
    assert memo.hits["contacts"] == 2  # the sums were read once
    reader.close()
    writer.close()
