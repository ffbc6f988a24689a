"""A write to the cache reaches the board at once, not at the next timed refresh."""

from __future__ import annotations

from shiftboard.config import Settings
from shiftboard.model import Batch
from shiftboard.store import Store
from shiftboard.tui.app import ShiftboardApp
from tests.tui.conftest import until
from tests.tui.seed import NOW, base_batch, contact, write


async def test_a_commit_is_read_long_before_the_refresh_interval(tmp_path):
    # A refresh interval of an hour: only the change probe can bring the new contact in within the test.
    settings = Settings(
        cache={"path": str(tmp_path / "cache.sqlite")}, metrics={"timezone": "UTC"}, board={"refresh_s": 3600}
    )
    with Store(settings.cache.resolved_path()) as store:
        write(store, base_batch())
        app = ShiftboardApp(settings, store, [], clock=lambda: NOW)
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.data is not None)
            waiting = app.data.figures("Billing")["contacts"]["waiting_now"]
            reads = app.reads
            batch = Batch()
            batch.contacts = [contact("late-1", "Billing", NOW - 30)]  # offered, not answered: waiting
            write(store, batch)
            await until(pilot, lambda: app.reads > reads)
            assert app.data.figures("Billing")["contacts"]["waiting_now"] == waiting + 1


async def test_a_commit_without_records_refreshes_health_and_one_with_records_counts_again(tmp_path):
    """A source's idle poll writes only its sync state: the board reads the sources' health and keeps the figures it
    counted less than a refresh interval ago. A commit with a record is counted again."""
    from shiftboard.adapters.files import FilesSettings
    from shiftboard.collector import CollectorLock

    settings = Settings(
        cache={"path": str(tmp_path / "cache.sqlite")}, metrics={"timezone": "UTC"}, board={"refresh_s": 3600}
    )
    seed = FilesSettings(name="seed", kind="files", path=str(tmp_path / "none"))
    lock = CollectorLock(settings.cache.resolved_path())
    with Store(settings.cache.resolved_path()) as store:
        write(store, base_batch(), at=NOW - 600)
        assert lock.acquire()  # "another process" collects: this board only reads, and shows the source's health
        app = ShiftboardApp(settings, store, [seed], clock=lambda: NOW)
        async with app.run_test(size=(120, 30)) as pilot:
            await until(pilot, lambda: app.data is not None)
            counted = app.data
            assert counted.health[0].last_success_at == NOW - 600
            reads = app.reads
            write(store, Batch(), at=NOW - 5)  # an idle poll
            await until(pilot, lambda: app.reads > reads)
            assert app.data.queues is counted.queues  # the figures kept, not counted again
            assert app.data.health[0].last_success_at == NOW - 5 != counted.health[0].last_success_at
            reads = app.reads
            batch = Batch()
            batch.contacts = [contact("late-1", "Billing", NOW - 30)]
            write(store, batch, at=NOW - 1)
            await until(pilot, lambda: app.reads > reads)
            assert app.data.queues is not counted.queues
            assert app.data.figures("Billing")["contacts"]["waiting_now"] == (
                counted.figures("Billing")["contacts"]["waiting_now"] + 1
            )
        lock.release()
