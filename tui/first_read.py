"""The board's first read of the cache, started before Textual is imported.

Importing Textual and composing the board take most of a start-up; the first read (mostly SQLite, which runs
without holding the GIL) can use the other core meanwhile, so the first board shown already has its figures. This
module must stay free of Textual imports, or it would wait for the very import it is meant to overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from shiftboard.config import Settings, SourceSettings
from shiftboard.store import Store
from shiftboard.tui.readmodel import BoardData, read_board


class FirstRead:
    """One read at ``at`` (None: the clock's now) in a thread, with its own read-only connection to keep."""

    def __init__(
        self,
        path: Path,
        settings: Settings,
        sources: Sequence[SourceSettings],
        at: float | None,
        clock: Callable[[], float],
    ) -> None:
        self._store: Store | None = None
        self._data: BoardData | None = None
        self._args = (path, settings, list(sources), at, clock)
        self._thread = threading.Thread(target=self._run, name="first-read", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        path, settings, sources, at, clock = self._args
        store = None
        try:
            store = Store(path, readonly=True)
            now = clock()
            self._data = read_board(store, settings, sources, now if at is None else at, now=now)
            self._store, store = store, None
        except Exception:  # the board's own first read then runs and reports the problem in the header
            self._data = None
        finally:
            if store is not None:
                store.close()

    def take(self) -> tuple[Store, BoardData] | None:
        """Wait for the read; its connection and data, or None when it failed (read again the usual way)."""
        self._thread.join()
        if self._store is None or self._data is None:
            return None
        taken = (self._store, self._data)
        self._store = self._data = None
        return taken

    def close(self) -> None:
        """Drop the connection if nobody took it."""
        self._thread.join()
        if self._store is not None:
            self._store.close()
            self._store = None
