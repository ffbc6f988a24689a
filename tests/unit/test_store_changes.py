"""Store.data_version: how a viewer learns that a collector wrote, without reading the figures again."""

from __future__ import annotations

from shiftboard.model import Batch, Case
from shiftboard.store import Store


def test_data_version_moves_when_another_connection_commits_and_only_then(store: Store):
    viewer = Store(store.path, readonly=True)
    try:
        before = viewer.data_version()
        assert viewer.data_version() == before  # nothing written: unchanged
        viewer.query("SELECT COUNT(*) FROM cases")  # the viewer's own reads do not move it
        assert viewer.data_version() == before
        batch = Batch()
        batch.cases = [Case("s", "C-1", "Billing", "open", "normal", 1000.0)]
        store.write_batch("s", "files", batch, {"n": 1}, 2000.0)
        after = viewer.data_version()
        assert after != before
        assert viewer.data_version() == after
    finally:
        viewer.close()
