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
