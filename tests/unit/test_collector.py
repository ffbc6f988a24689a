"""The collector: pages committed with their cursors, failures isolated per source, backoff and circuit."""

from __future__ import annotations

import threading
from typing import ClassVar

import pytest

from shiftboard import collector as collector_module
from shiftboard.adapters.base import Adapter, AdapterContext, FetchResult, SourceError, SourceSettings
from shiftboard.cache_lock import CollectorLock
from shiftboard.collector import Collector, SourceRunner
from shiftboard.model import Batch, Case
from shiftboard.store import Store


class ScriptedAdapter(Adapter):
    """Serves pages of cases from a script shared by the test; raises what the script says."""

    kind = "scripted"
    scripts: ClassVar[dict[str, list]] = {}
    calls: ClassVar[list[tuple[str, dict | None]]] = []

    def fetch(self, cursor, at):
        ScriptedAdapter.calls.append((self.name, cursor))
        step = self.scripts[self.name].pop(0)
        if isinstance(step, Exception):
            raise step
        page, more = step
        cases = [Case(self.name, str(i), "Billing", "open", "normal", 1000.0 + i) for i in page]
        return FetchResult(Batch(cases=cases), {"after": page[-1] if page else (cursor or {}).get("after")}, more)


@pytest.fixture(autouse=True)
def scripted(monkeypatch):
    ScriptedAdapter.scripts.clear()
    ScriptedAdapter.calls.clear()
    monkeypatch.setattr(collector_module, "adapter_class", lambda kind: ScriptedAdapter)


def _settings(name: str, **extra) -> SourceSettings:
    return SourceSettings(name=name, kind="scripted", **extra)


def test_sync_drains_every_ready_page_and_keeps_the_cursor(store: Store):
    ScriptedAdapter.scripts["a"] = [([1, 2], True), ([3], True), ([], False)]
    outcome = Collector(store, [_settings("a")]).sync_once(at=50.0)[0]
    assert (outcome.pages, outcome.records, outcome.error) == (3, 3, None)
    assert store.counts()["cases"] == 3
    assert store.sync_state("a").cursor == {"after": 3}


def test_a_restarted_collector_resumes_from_the_committed_cursor(store: Store):
    ScriptedAdapter.scripts["a"] = [([1, 2], False), ([3], False)]
    Collector(store, [_settings("a")]).sync_once(at=50.0)
    Collector(store, [_settings("a")]).sync_once(at=60.0)
    assert ScriptedAdapter.calls == [("a", None), ("a", {"after": 2})]


def test_a_failing_page_keeps_the_pages_before_it(store: Store):
    ScriptedAdapter.scripts["a"] = [([1, 2], True), SourceError("503 Service Unavailable")]
    outcome = Collector(store, [_settings("a")]).sync_once(at=50.0)[0]
    assert outcome.error == "503 Service Unavailable"
    assert store.counts()["cases"] == 2
    state = store.sync_state("a")
    assert (state.cursor, state.consecutive_failures, state.last_error) == (
        {"after": 2},
        1,
        "503 Service Unavailable",
    )


def test_one_broken_source_does_not_stop_another(store: Store):
    ScriptedAdapter.scripts["bad"] = [KeyError("ticket")]  # a bug-shaped failure, not a SourceError
    ScriptedAdapter.scripts["good"] = [([7], False)]
    outcomes = Collector(store, [_settings("bad"), _settings("good")]).sync_once(at=5.0)
    assert outcomes[0].error.startswith("internal error: KeyError")
    assert outcomes[1].error is None
    assert [r["source"] for r in store.query("SELECT source FROM cases")] == ["good"]


def test_failures_back_off_then_open_the_circuit(store: Store):
    settings = _settings("a", interval_s=10, circuit_failures=3, circuit_probe_s=600)
    ScriptedAdapter.scripts["a"] = [SourceError("down")] * 3 + [([1], False)]
    runner = SourceRunner(settings, store, Collector(store, []).context)
    delays = []
    for _ in range(4):
        runner.sync(at=1.0)
        delays.append(runner.next_delay())
    assert delays == [10, 20, 600, 10]


def test_run_polls_each_source_on_its_own_thread_until_stopped(store: Store):
    ScriptedAdapter.scripts["a"] = [([1], False)] + [([], False)] * 100
    ScriptedAdapter.scripts["b"] = [SourceError("down")] * 100
    stop = threading.Event()
    seen: set[str] = set()

    def on_sync(outcome):
        seen.add(outcome.source)
        if seen == {"a", "b"}:
            stop.set()

    collector = Collector(store, [_settings("a"), _settings("b")], on_sync=on_sync)
    thread = threading.Thread(target=collector.run, args=(stop,))
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert store.counts()["cases"] == 1
    assert store.sync_state("b").consecutive_failures >= 1


def test_only_one_collector_holds_the_lock(tmp_path):
    first, second = CollectorLock(tmp_path / "c.sqlite"), CollectorLock(tmp_path / "c.sqlite")
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_run_probes_an_open_circuit_and_closes_it_on_success(store: Store):
    """Two failures open the circuit; the run loop then waits circuit_probe_s before the probe, and the successful
    probe closes it (the source is polled at its interval again)."""
    import time

    ScriptedAdapter.scripts["a"] = [SourceError("down"), SourceError("down"), ([7], False)] + [([], False)] * 100
    stop = threading.Event()
    outcomes: list[tuple[float, object]] = []

    def on_sync(outcome):
        outcomes.append((time.monotonic(), outcome))
        if len(outcomes) == 4:
            stop.set()

    settings = _settings("a", interval_s=1, circuit_failures=2, circuit_probe_s=3)
    collector = Collector(store, [settings], on_sync=on_sync)
    thread = threading.Thread(target=collector.run, args=(stop,))
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    errors = [outcome.error for _, outcome in outcomes]
    assert errors == ["down", "down", None, None]
    times = [moment for moment, _ in outcomes]
    assert times[1] - times[0] >= 1  # the first retry backs off by the interval
    assert times[2] - times[1] >= 3  # the open circuit is probed only after circuit_probe_s
    assert times[3] - times[2] < 3  # closed again: back to the 1 s interval
    assert store.counts()["cases"] == 1 and store.sync_state("a").consecutive_failures == 0


def test_an_idle_source_writes_every_other_poll_and_stays_ok(store: Store, monkeypatch):
    """Polled every second with nothing new, a source is written every other poll (IDLE_WRITE_S); a page with
    records is written at once."""
    now = [1000.0]
    writes: list[float] = []
    real_write = store.write_batch
    monkeypatch.setattr(store, "write_batch", lambda *args: (writes.append(args[-1]), real_write(*args)))
    monkeypatch.setattr(ScriptedAdapter, "idle_polls_may_wait", True)
    ScriptedAdapter.scripts["a"] = [([1], False)] + [([], False)] * 10 + [([2], False)] + [([], False)] * 4
    runner = SourceRunner(_settings("a", interval_s=1), store, AdapterContext(clock=lambda: now[0]))
    for poll in range(16):
        now[0] = 1000.0 + poll
        assert runner.sync().error is None
    assert writes == [1000.0, 1002.0, 1004.0, 1006.0, 1008.0, 1010.0, 1011.0, 1013.0, 1015.0]
    assert store.counts()["cases"] == 2
    assert store.sync_state("a").cursor == {"after": 2}


def test_a_source_whose_cursor_moves_without_records_writes_every_poll(store: Store, monkeypatch):
    """By default (``Adapter.idle_polls_may_wait`` False) every poll is written: a cursor may move with no record."""
    now = [1000.0]
    writes: list[float] = []
    real_write = store.write_batch
    monkeypatch.setattr(store, "write_batch", lambda *args: (writes.append(args[-1]), real_write(*args)))
    ScriptedAdapter.scripts["a"] = [([1], False)] + [([], False)] * 5
    runner = SourceRunner(_settings("a", interval_s=1), store, AdapterContext(clock=lambda: now[0]))
    for poll in range(6):
        now[0] = 1000.0 + poll
        assert runner.sync().error is None
    assert writes == [1000.0 + poll for poll in range(6)]


def test_an_idle_source_polled_at_uneven_gaps_never_looks_stale(store: Store, monkeypatch):
    """Polls between 0.5 s and a full interval apart (a source that wakes early for a change): health is "ok" at
    every moment up to the next poll, though fewer than two thirds of the polls are written."""
    from shiftboard.health import health

    monkeypatch.setattr(ScriptedAdapter, "idle_polls_may_wait", True)
    now = [1000.0]
    gaps = [1.0, 0.5, 0.6, 1.0, 0.9, 0.5, 1.0, 1.0, 0.7, 0.5, 0.5, 1.0] * 5
    ScriptedAdapter.scripts["a"] = [([1], False)] + [([], False)] * len(gaps)
    settings = _settings("a", interval_s=1)
    runner = SourceRunner(settings, store, AdapterContext(clock=lambda: now[0]))
    written = 0
    for gap in gaps:
        runner.sync()
        written += runner.written_at == now[0]
        assert health(settings, store.sync_state("a"), now[0] + gap - 1e-6).status == "ok"
        now[0] += gap
    assert written < len(gaps) * 2 / 3


def test_the_first_success_after_failures_is_written_at_once(store: Store):
    now = [1000.0]
    ScriptedAdapter.scripts["a"] = [([], False), SourceError("down"), ([], False)]
    runner = SourceRunner(_settings("a", interval_s=1), store, AdapterContext(clock=lambda: now[0]))
    for poll in range(3):
        now[0] = 1000.0 + 0.5 * poll
        runner.sync()
    state = store.sync_state("a")
    assert (state.consecutive_failures, state.failing_since, state.last_success_at) == (0, None, 1001.0)


def test_the_last_page_of_a_sync_of_several_is_written_even_when_empty(store: Store, monkeypatch):
    """Its cursor may close a round over several endpoints; a restarted process must not repeat the round's tail."""

    class Rounds(Adapter):
        kind = "rounds"
        idle_polls_may_wait = True  # even so

        def fetch(self, cursor, at):  # two endpoints in turn; only the first has a record
            endpoint = (cursor or {}).get("next", 0)
            cases = [Case(self.name, str(at), "Billing", "open", "normal", at)] if endpoint == 0 else []
            return FetchResult(Batch(cases=cases), {"next": 1 - endpoint}, more=endpoint == 0)

    monkeypatch.setattr(collector_module, "adapter_class", lambda kind: Rounds)
    runner = SourceRunner(SourceSettings(name="r", kind="rounds"), store, AdapterContext(clock=lambda: 1000.0))
    assert runner.sync().pages == 2
    assert store.sync_state("r").cursor == {"next": 0}


def test_each_commit_and_only_a_commit_is_announced(store: Store, monkeypatch):
    """A board that collects in-process reads when its collector says it committed (``on_commit``) instead of
    watching the cache: each commit is announced once another connection can see it, and a poll that writes
    nothing announces nothing."""
    monkeypatch.setattr(ScriptedAdapter, "idle_polls_may_wait", True)
    ScriptedAdapter.scripts["a"] = [([1, 2], True), ([3], False), ([], False), SourceError("down"), ([], False)]
    reader = Store(store.path, readonly=True)
    versions = [reader.data_version()]
    announced: list[bool] = []

    def on_commit():
        versions.append(reader.data_version())
        announced.append(versions[-1] != versions[-2])  # the commit is already visible to a reader

    now = [1000.0]
    runner = SourceRunner(_settings("a", interval_s=1), store, AdapterContext(clock=lambda: now[0]), on_commit)
    per_sync = []
    for poll in range(4):
        now[0] = 1000.0 + poll * 0.5  # closer than IDLE_WRITE_S: the idle poll may wait
        before, calls = reader.data_version(), len(announced)
        runner.sync()
        per_sync.append((len(announced) - calls, reader.data_version() != before))
    # Two pages, an idle poll not written, a failure noted, the first success after it.
    assert per_sync == [(2, True), (0, False), (1, True), (1, True)]
    assert all(announced)
    reader.close()


def test_an_idle_poll_written_for_a_healthy_source_is_not_announced(store: Store, monkeypatch):
    """Its commit only moves the source's time of success, which a collecting board's timed refresh shows: an
    announced commit would cost the board a read every other second of an idle simulator."""
    monkeypatch.setattr(ScriptedAdapter, "idle_polls_may_wait", True)
    ScriptedAdapter.scripts["a"] = [
        ([1], False),
        ([], False),
        ([], False),
        SourceError("down"),
        ([], False),
        ([], False),
    ]
    announced: list[float] = []
    now = [1000.0]
    runner = SourceRunner(
        _settings("a", interval_s=1), store, AdapterContext(clock=lambda: now[0]), lambda: announced.append(now[0])
    )
    written = []
    for poll in range(6):
        now[0] = 1000.0 + poll * 2  # further apart than IDLE_WRITE_S: each idle poll is written
        runner.sync()
        written.append(store.sync_state("a").last_attempt_at)
    assert written == [1000.0 + poll * 2 for poll in range(6)]  # every poll was committed
    # The records, the failure and the first success after it; not the healthy idle polls.
    assert announced == [1000.0, 1006.0, 1008.0]


def test_a_prune_that_removes_rows_is_announced(store: Store):
    solved = Case("a", "1", "Billing", "solved", "normal", 1000.0)
    store.write_batch("a", "scripted", Batch(cases=[solved]), None, 1000.0)
    calls: list[None] = []
    clock = AdapterContext(clock=lambda: 1000.0 + 2 * 86400)
    collector = Collector(store, [], context=clock, retention_days=1, on_commit=lambda: calls.append(None))
    assert collector.prune()["cases"] == 1
    assert collector.prune()["cases"] == 0  # nothing left to remove: nothing announced
    assert len(calls) == 1
