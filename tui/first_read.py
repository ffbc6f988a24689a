"""The board's first read in a thread, started before Textual is imported.

Where the platform cannot fork, or the forked start-up (tui/launch.py) could not prepare the board, ``cli.run_board``
validates the configuration in-process and starts the first read here, so it overlaps at least the import of Textual
and the composing of the board. (In a thread its Python parts wait for the GIL behind those imports: ~260 ms instead
of ~65 ms on a 1M cache, which is why the forked child is preferred.)

This module must stay free of Textual imports, or it would wait for the very import it is meant to overlap.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from shiftboard.store import Store
from shiftboard.tui.readmodel import BoardData, read_board

if TYPE_CHECKING:
    from shiftboard.config import Settings, SourceSettings


def read_at_start(
    store: Store, settings: Settings, sources: Sequence[SourceSettings], at: float | None, clock: Callable[[], float]
) -> BoardData:
    """The board's first read: at ``at``, or at the clock's now for a live board."""
    now = clock()
    return read_board(store, settings, sources, now if at is None else at, now=now)


class HeldRead(ABC):
    """A read made before the app runs (in a thread here, in a forked child in ``launch.Launch``), held with its
    read-only connection until the board takes both."""

    def __init__(self) -> None:
        self._store: Store | None = None
        self._data: BoardData | None = None

    def _hand_over(self) -> tuple[Store, BoardData] | None:
        if self._store is None or self._data is None:
            return None
        taken = (self._store, self._data)
        self._store = self._data = None
        return taken

    def _drop(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    @abstractmethod
    def ready(self) -> bool:
        """The read is over (``take`` will not wait for it)."""

    @abstractmethod
    def take(self) -> tuple[Store, BoardData] | None:
        """Wait for the read; a read-only connection and the data, or None when it failed (read the usual way)."""

    @abstractmethod
    def close(self) -> None:
        """Drop the connection if nobody took it."""


class FirstRead(HeldRead):
    """One read at ``at`` (None: the clock's now) in a thread; ``take`` gives it with a read-only connection for
    the board's later reads."""

    def __init__(
        self,
        path: Path,
        settings: Settings,
        sources: Sequence[SourceSettings],
        at: float | None,
        clock: Callable[[], float],
    ) -> None:
        super().__init__()
        self._path = Path(path)
        self._args = (settings, list(sources), at, clock)
        self._thread = threading.Thread(target=self._run, name="first-read", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        settings, sources, at, clock = self._args
        try:
            store = Store(self._path, readonly=True)
        except Exception:  # the board's own first read then runs and reports the problem in the header
            return
        try:
            self._data = read_at_start(store, settings, sources, at, clock)
        except Exception:
            store.close()
            return
        self._store = store

    def ready(self) -> bool:
        return not self._thread.is_alive()

    def take(self) -> tuple[Store, BoardData] | None:
        self._thread.join()
        return self._hand_over()

    def close(self) -> None:
        self._thread.join()
        self._drop()
