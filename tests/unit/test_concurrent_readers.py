"""One process writing batches while four processes compute the board's figures from the same cache file.

The short, CI-sized form of the load benchmark (tests/bench/load.py): real processes, a real SQLite file, the real
write path (Store.write_batch) and read path (metrics.compute on a read-only Store, as the board reads). Bounded by
counts: each reader does ``READS`` computations; the writer writes until the readers are done (or ``MAX_WRITES``).
The writer adds new batches until every reader has done its first read, then one more (so the readers see the
count move), then rewrites earlier ones (upserts of the same rows): it keeps taking the write lock as often as it can
while the reads stay cheap enough for CI.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from pathlib import Path
from typing import Any

from shiftboard import metrics
from shiftboard.config import MetricsSettings
from shiftboard.model import Batch, Contact
from shiftboard.store import Store

READERS = 4
READS = 40
BATCH = 100
MAX_NEW_BATCHES = 2_000
MAX_WRITES = 100_000
JOIN_S = 120.0


def _writer(path: str, at: float, written: Any, new: Any, ready: Any, stop: Any, errors: Any) -> None:
    store = Store(path)
    try:
        writes = 0
        grown_after_ready = False
        while not stop.is_set() and writes < MAX_WRITES:
            # Every contact is offered inside the window the readers ask for, so each new batch adds exactly BATCH
            # to "offered": the count a reader sees tells how many whole batches it saw.
            if new.value < MAX_NEW_BATCHES and not grown_after_ready:
                grown_after_ready = ready.value >= READERS
                number = new.value
                new.value += 1
            else:
                number = writes % new.value
            contacts = [
                Contact("w", f"k{number}-{i}", ("Billing", "Sales")[i % 2], at - 3000 + i, answered_at=at - 2990 + i)
                for i in range(BATCH)
            ]
            try:
                store.write_batch("w", "files", Batch(contacts=contacts), {"n": writes}, at)
            except Exception as error:
                errors.put(f"writer: {type(error).__name__}: {error}")
                return
            writes += 1
            written.value = writes
    finally:
        store.close()


def _reader(path: str, at: float, ready: Any, results: Any) -> None:
    store = Store(path, readonly=True)
    settings = MetricsSettings()
    seen: list[int] = []
    errors: list[str] = []
    try:
        for _ in range(READS):
            try:
                data = metrics.compute(store, settings, at, at - 3600)
            except Exception as error:
                errors.append(f"{type(error).__name__}: {error}")
                continue
            seen.append(data["queues"]["all"]["contacts"]["offered"])
            if len(seen) == 1:
                with ready.get_lock():
                    ready.value += 1
    finally:
        store.close()
        results.put({"seen": seen, "errors": errors})


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def test_four_readers_and_a_writer_never_see_a_locked_database(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    Store(path).close()  # schema first, as the collector creates it before any board opens the file
    at = time.time()
    spawn = multiprocessing.get_context("spawn")
    written = spawn.Value("i", 0)
    new = spawn.Value("i", 0)
    ready = spawn.Value("i", 0)
    stop = spawn.Event()
    writer_errors = spawn.Queue()
    results = spawn.Queue()
    writer = spawn.Process(target=_writer, args=(str(path), at, written, new, ready, stop, writer_errors))
    readers = [spawn.Process(target=_reader, args=(str(path), at, ready, results)) for _ in range(READERS)]
    started = [writer]
    try:
        writer.start()
        _wait(lambda: written.value > 0 or not writer.is_alive(), JOIN_S, "the writer's first batch")
        for reader in readers:
            reader.start()
            started.append(reader)
        outcomes = []
        for _ in readers:
            outcomes.append(results.get(timeout=JOIN_S))
        stop.set()
        writer.join(JOIN_S)
        for reader in readers:
            reader.join(JOIN_S)
        writes = written.value
        batches = new.value
        problems = []
        while True:
            try:
                problems.append(writer_errors.get_nowait())
            except queue.Empty:
                break
    finally:
        stop.set()
        for process in started:
            if process.is_alive():
                process.kill()
                process.join(5)

    assert problems == []
    assert all(outcome["errors"] == [] for outcome in outcomes), [o["errors"] for o in outcomes]
    assert [len(outcome["seen"]) for outcome in outcomes] == [READS] * READERS
    for outcome in outcomes:
        seen = outcome["seen"]
        # Whole batches only (a batch is one transaction), never going backwards, never more than was written.
        assert all(count % BATCH == 0 for count in seen), seen
        assert seen == sorted(seen)
        assert seen[-1] <= batches * BATCH
    # The writer kept committing while the readers read: together they saw the count move, and it wrote on after.
    assert len({count for outcome in outcomes for count in outcome["seen"]}) > 1
    assert writes > batches
    with Store(path, readonly=True) as store:
        assert store.counts()["contacts"] == batches * BATCH
