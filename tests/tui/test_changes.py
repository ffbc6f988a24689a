"""A write to the cache reaches the board at once, not at the next timed refresh."""

from __future__ import annotations

import threading
import time

from shiftboard.adapters.files import FilesSettings
from shiftboard.config import Settings
from shiftboard.model import Batch
from shiftboard.store import Store, StoreError
from shiftboard.tui.app import ShiftboardApp
from tests.tui.conftest import until
from tests.tui.seed import NOW, base_batch, contact, waiting_line, write


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
            batch = Batch()
            batch.contacts = [contact("late-1", "Billing", NOW - 30)]  # offered, not answered: waiting
            write(store, batch)
            await until(pilot, lambda: app.data.figures("Billing")["contacts"]["waiting_now"] == waiting + 1)


async def test_a_board_that_collects_reads_each_commit_of_its_own_collector_without_watching_the_cache(tmp_path):
    # Its own collector says when it committed (no other process can write: the board holds the writer lock), so
    # the board runs no change probe; with a refresh interval of an hour, only that word brings the record in.
    exports = tmp_path / "exports"
    exports.mkdir()
    calls = exports / "calls.jsonl"
    calls.write_text(waiting_line("f-1", "Billing", time.time() - 60))
    settings = Settings(
        cache={"path": str(tmp_path / "cache.sqlite")}, metrics={"timezone": "UTC"}, board={"refresh_s": 3600}
    )
    files = FilesSettings(name="pbx", kind="files", path=str(exports / "*.jsonl"), interval_s=1)
    probes_before = _probes()  # other tests' boards may still be closing theirs
    with Store(settings.cache.resolved_path()) as store:
        app = ShiftboardApp(settings, store, [files])
        async with app.run_test(size=(120, 30)) as pilot:

            def waiting() -> int:
                return app.data.figures("Billing").get("contacts", {}).get("waiting_now", 0) if app.data else 0

            await until(pilot, lambda: app.collecting and waiting() == 1, 300)
            assert not _probes() - probes_before
            with calls.open("a") as out:
                out.write(waiting_line("f-2", "Billing", time.time() - 5))
            await until(pilot, lambda: waiting() == 2, 300)


def _probes() -> set[int | None]:
    return {thread.ident for thread in threading.enumerate() if thread.name == "cache-probe"}


async def test_after_its_collector_fails_the_board_reads_the_commits_of_another_process(tmp_path, monkeypatch):
    # A cache write that fails stops the board's collector (and frees the writer lock for `shiftboard collect`);
    # the board must then watch the cache, or with a refresh interval of an hour it would show nothing new.
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "calls.jsonl").write_text(waiting_line("f-1", "Billing", time.time() - 60))
    settings = Settings(
        cache={"path": str(tmp_path / "cache.sqlite")}, metrics={"timezone": "UTC"}, board={"refresh_s": 3600}
    )
    files = FilesSettings(name="pbx", kind="files", path=str(exports / "*.jsonl"), interval_s=1)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise StoreError("disk full")

    with Store(settings.cache.resolved_path()) as store:
        monkeypatch.setattr(store, "write_batch", disk_full)  # this board's writes only
        app = ShiftboardApp(settings, store, [files])
        async with app.run_test(size=(120, 30)) as pilot:

            def waiting() -> int:
                return app.data.figures("Billing").get("contacts", {}).get("waiting_now", 0) if app.data else 0

            await until(pilot, lambda: app.data is not None and not app.collecting, 300)
            assert waiting() == 0
            with Store(settings.cache.resolved_path()) as other:
                batch = Batch()
                batch.contacts = [contact("late-1", "Billing", time.time() - 30)]
                write(other, batch, time.time())
            await until(pilot, lambda: waiting() == 1, 300)
