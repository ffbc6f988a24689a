"""The cache's writer lock: a file beside the cache that one process at a time holds.

Its own module (plain standard library) so the board can take it before its first frame without importing the
collector, whose adapters import the configuration's library (pydantic).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class CollectorLock:
    """An advisory lock beside the cache: whoever holds it is the cache's one writer of source data.

    ``shiftboard collect`` takes it; a board that finds it free runs the collector in-process, and a board that
    finds it taken only reads. The OS drops the lock when the holder dies, even by kill -9.
    """

    def __init__(self, cache_path: Path) -> None:
        self.path = cache_path.with_name(cache_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock if it is free; True when this process now holds it."""
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
