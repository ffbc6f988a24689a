"""The board's first read of the cache, started before Textual is imported.

Importing Textual and composing the board take most of a start-up, all of it Python on the main thread. The first
read is started before them so the first board shown already has its figures:

- in a forked child process where the platform can fork and the process has no other thread yet: the read then has
  its own interpreter (and GIL) on the other core, and sends its result back through a pipe. In a thread of the same
  process it took ~260 ms instead of ~65 ms on a 1M cache, because its Python parts (between SQLite steps) wait
  for the GIL behind the imports, and the board waited ~90 ms for it after it was composed;
- else in a thread, as before.

This module must stay free of Textual imports, or it would wait for the very import it is meant to overlap.
"""

from __future__ import annotations

import os
import pickle
import select
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from shiftboard.config import Settings, SourceSettings
from shiftboard.store import Store
from shiftboard.tui.readmodel import BoardData, read_board


def can_fork() -> bool:
    """Forking is safe here: a POSIX platform and no other thread, which a child could inherit mid-lock."""
    return hasattr(os, "fork") and threading.active_count() == 1


class FirstRead:
    """One read at ``at`` (None: the clock's now), in a child process (``fork``, default: when ``can_fork()``) or
    in a thread; ``take`` gives it with a read-only connection for the board's later reads."""

    def __init__(
        self,
        path: Path,
        settings: Settings,
        sources: Sequence[SourceSettings],
        at: float | None,
        clock: Callable[[], float],
        *,
        fork: bool | None = None,
    ) -> None:
        self._path = Path(path)
        self._store: Store | None = None
        self._data: BoardData | None = None
        self._args = (self._path, settings, list(sources), at, clock)
        self._child: tuple[int, int] | None = None  # (pid, read end of the pipe)
        self._thread: threading.Thread | None = None
        if can_fork() if fork is None else fork:
            self._fork()
        else:
            self._thread = threading.Thread(target=self._run, name="first-read", daemon=True)
            self._thread.start()

    def _read(self) -> tuple[Store, BoardData]:
        path, settings, sources, at, clock = self._args
        store = Store(path, readonly=True)
        try:
            now = clock()
            return store, read_board(store, settings, sources, now if at is None else at, now=now)
        except BaseException:
            store.close()
            raise

    def _run(self) -> None:
        try:
            self._store, self._data = self._read()
        except Exception:  # the board's own first read then runs and reports the problem in the header
            self._store = self._data = None

    def _fork(self) -> None:
        readable, writable = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: read, send, and leave without running the parent's exit handlers or finalizers
            status = 1
            try:
                os.close(readable)
                try:
                    store, data = self._read()
                    store.close()
                    payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
                except Exception:
                    payload = b""  # nothing: the board reads the usual way and shows the problem
                with os.fdopen(writable, "wb") as out:
                    out.write(payload)
                status = 0
            finally:
                os._exit(status)
        os.close(writable)
        self._child = (pid, readable)

    def _collect_child(self) -> None:
        """Wait for the child's result (reading the pipe releases the GIL) and reap it."""
        if self._child is None:
            return
        pid, readable = self._child
        self._child = None
        with os.fdopen(readable, "rb") as pipe:
            payload = pipe.read()
        os.waitpid(pid, 0)
        if not payload:
            return
        try:
            data = pickle.loads(payload)  # our own child's bytes, from a pipe no one else holds
            self._store = Store(self._path, readonly=True)
        except Exception:
            return
        self._data = data

    def ready(self) -> bool:
        """The read is over (``take`` will not wait for it)."""
        if self._child is not None:
            readable, _, _ = select.select([self._child[1]], [], [], 0)
            return bool(readable)
        return self._thread is None or not self._thread.is_alive()

    def _wait(self) -> None:
        self._collect_child()
        if self._thread is not None:
            self._thread.join()

    def take(self) -> tuple[Store, BoardData] | None:
        """Wait for the read; its connection and data, or None when it failed (read again the usual way)."""
        self._wait()
        if self._store is None or self._data is None:
            return None
        taken = (self._store, self._data)
        self._store = self._data = None
        return taken

    def close(self) -> None:
        """Drop the connection if nobody took it."""
        self._wait()
        if self._store is not None:
            self._store.close()
            self._store = None
