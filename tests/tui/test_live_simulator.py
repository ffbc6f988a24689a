"""The board with default settings (the built-in simulator) shows figures that change as the centre runs."""

from __future__ import annotations

import json

from shiftboard.config import Settings
from shiftboard.store import Store
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.widgets.tile import Tile
from tests.tui.conftest import until


async def test_live_board_on_the_simulator(tmp_path):
    settings = Settings(cache={"path": str(tmp_path / "cache.sqlite")})
    sources = settings.source_settings()
    assert [s.kind for s in sources] == ["simulator"]
    with Store(settings.cache.resolved_path()) as store:
        app = ShiftboardApp(settings, store, sources)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.collecting and app.data is not None, tries=400)
            await until(pilot, lambda: any(t.text != "—" for t in app.screen.query(Tile)), tries=600)
            # The first fetch's history comes in steps; figures that change while it arrives prove nothing here.
            await until(pilot, lambda: _history_in(store), tries=600)
            reads = app.reads
            await until(pilot, lambda: app.reads > reads + 1, tries=600)  # a read begun after the history was in
            first = json.dumps(app.data.queues, sort_keys=True)
            await until(pilot, lambda: json.dumps(app.data.queues, sort_keys=True) != first, tries=600)
            assert app.data.queue_names, "the simulator's queues show up"


def _history_in(store: Store) -> bool:
    state = store.sync_state("simulator")
    return state is not None and state.cursor is not None and state.cursor["page"] is None
