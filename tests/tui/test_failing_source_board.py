"""One failing source never stops the others or the board: the real app runs the real collector over two sources,
a files source that works and an HTTP source whose server is gone."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from shiftboard.adapters.files import FilesSettings
from shiftboard.adapters.freshdesk import FreshdeskSettings
from shiftboard.config import Settings
from shiftboard.model import Batch, Contact
from shiftboard.store import Store
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.widgets.board_header import BoardHeader
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import until
from tests.tui.seed import waiting_line


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_dead_source_is_shown_failing_and_stale_while_the_other_keeps_updating(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("FD_TOKEN", "fd-secret-token")
    now = time.time()
    exports = tmp_path / "exports"
    exports.mkdir()
    calls = exports / "calls.jsonl"
    calls.write_text(waiting_line("f-1", "Billing", now - 60))
    settings = Settings(
        cache={"path": str(tmp_path / "cache.sqlite")}, metrics={"timezone": "UTC"}, board={"refresh_s": 1}
    )
    files = FilesSettings(name="pbx", kind="files", path=str(exports / "*.jsonl"), interval_s=1)
    desk = FreshdeskSettings(
        name="desk",
        kind="freshdesk",
        url=f"http://127.0.0.1:{_closed_port()}",
        token_env="FD_TOKEN",
        interval_s=1,
        timeout_s=1,
        max_retries=0,
        circuit_failures=2,
        circuit_probe_s=1,
    )
    with Store(settings.cache.resolved_path()) as store:
        # The desk's last good sync, before its server went away: two contacts still waiting.
        last_good = Batch(contacts=[Contact("desk", f"d-{i}", "Billing", now - 120) for i in range(2)])
        store.write_batch("desk", "freshdesk", last_good, {"page": 1}, now - 30)
        app = ShiftboardApp(settings, store, [files, desk])
        async with app.run_test(size=(160, 40)) as pilot:

            def header() -> str:
                return str(app.screen.query_one(BoardHeader).content)

            def waiting() -> str:
                return app.screen.query_one("#tile-waiting_now", Tile).text

            await until(pilot, lambda: app.collecting and "desk: failing" in header() and waiting() == "3", 300)
            text = header()
            # The failing source: its reason and since when, and its data marked stale.
            assert "✖ desk: failing: " in text and " since " in text
            assert "STALE: desk (last good data shown)" in text
            # The good source is healthy and its data counts; so does the desk's last good data (1 + 2 waiting).
            assert "● pbx: updated" in text
            assert waiting() == "3"
            assert "STALE" in str(app.screen.query_one("#tile-waiting_now", Tile).border_subtitle)
            # The good source keeps updating while the other fails.
            with calls.open("a") as out:
                out.write(waiting_line("f-2", "Billing", time.time() - 5))
            await until(pilot, lambda: waiting() == "4", 300)
            # The dead source keeps being retried (and failing) meanwhile, from its last committed cursor.
            await until(pilot, lambda: store.sync_state("desk").consecutive_failures >= 2, 300)
            state = store.sync_state("desk")
            assert state is not None and state.consecutive_failures >= 2 and state.cursor == {"page": 1}
            assert app.is_running and app.collecting
