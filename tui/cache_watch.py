"""Noticing commits to the cache by other connections, so a board reads as soon as a collector writes.

A commit is seen as a change of SQLite's ``PRAGMA data_version`` on a connection of our own (``Store.data_version``).
On Linux the check runs only when the kernel says a file of the cache was written (inotify on its folder): a board
left open with nothing writing does no work at all. Elsewhere, or when inotify is unavailable (no more watches), the
check runs every ``PROBE_S``.

Textual-free: it runs in a thread and calls back; the app turns the call into a message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from shiftboard.store import Store

if TYPE_CHECKING:
    from inotify_simple import INotify

#: Between two checks while the cache is being written (and the polling period without inotify).
PROBE_S = 0.1
#: After the first write seen, let the commit finish before the first check (a commit is several writes).
SETTLE_S = 0.01
#: How long a read of inotify events blocks before looking at ``stop`` again.
IDLE_WAKE_MS = 2000


def watch_commits(path: Path, stop: threading.Event, on_commit: Callable[[], None], *, inotify: bool = True) -> None:
    """Until ``stop`` is set: call ``on_commit`` after each commit (or group of commits) to the cache at ``path``.

    Returns at once if the cache cannot be opened: the board's reads report what is wrong with it.
    """
    try:
        probe = Store(path, readonly=True)
    except Exception:
        return
    watch = None
    try:
        # The watch before the first version seen, so that no commit falls between the two unnoticed.
        watch = _inotify_watch(path) if inotify else None
        seen = probe.data_version()
        # A commit made before the watch began (after the board's first read, say) is in ``seen``: one call now
        # covers it.
        on_commit()

        def check() -> None:
            nonlocal seen
            version = probe.data_version()
            if version != seen:
                seen = version
                on_commit()

        if watch is None:
            while not stop.wait(PROBE_S):
                check()
            return
        while not stop.is_set():
            if not watch.written(IDLE_WAKE_MS):
                continue
            if stop.wait(SETTLE_S):
                return
            check()
            # While writes go on, look every PROBE_S; once they stop, look one last time.
            while not stop.wait(PROBE_S):
                more = watch.written(0)
                check()
                if not more:
                    break
    except Exception:  # a broken cache shows in the header through the reads; the timed refresh still runs
        return
    finally:
        if watch is not None:
            watch.close()
        probe.close()


class _Watch:
    """inotify on the cache's folder, filtered to the cache file and its write-ahead log."""

    def __init__(self, inotify: INotify, names: set[str]) -> None:
        self._inotify = inotify
        self._names = names

    def written(self, timeout_ms: int) -> bool:
        """Whether the cache was written since the last call, waiting up to ``timeout_ms`` for it."""
        events = self._inotify.read(timeout=timeout_ms)
        return any(event.name in self._names for event in events)

    def close(self) -> None:
        self._inotify.close()

    def __enter__(self) -> _Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _inotify_watch(path: Path) -> _Watch | None:
    try:
        # inotify_simple: a thin, maintained ctypes wrapper; Linux only (see pyproject.toml).
        from inotify_simple import INotify, flags
    except ImportError:
        return None
    try:
        inotify = INotify()
    except OSError:
        return None
    try:
        # The folder, not the files: the write-ahead log is deleted and created again as connections come and go.
        inotify.add_watch(str(path.parent), flags.MODIFY | flags.CREATE | flags.MOVED_TO)
    except OSError:
        inotify.close()
        return None
    return _Watch(inotify, {path.name, f"{path.name}-wal"})
