"""The board's start-up in a child process: configuration, cache and first read, while Textual is imported.

A board's start-up is mostly Python on one thread: importing Textual, importing and validating the configuration
(pydantic-settings alone takes about as long to import as Textual), reading the cache and composing the board. So
``cli.run_board`` forks before it imports Textual, and the child, on the other core:

1. validates the configuration, ``--at`` and ``[keys]``, and creates or migrates the cache (``prepare``), then
   sends a ``Start``: the cache's path, the moment, and a ``look.BoardConfig`` (plain values to draw with, and the
   validated settings as bytes the board unpickles after its first frame);
2. reads the board at that moment and sends the ``BoardData``.

The parent waits for (1) before it runs the app, so a bad configuration is reported before the screen changes;
the first frame waits for (2). When the child cannot prepare, it sends nothing and the parent prepares in-process,
where the same problem raises and is reported as for every command. When the child cannot read, the board reads
the usual way. The child leaves with ``os._exit``: nothing of the parent's (exit handlers, buffers) runs twice.

Neither this module nor what it sends imports Textual or pydantic: the parent unpickles both frames before its
first frame.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shiftboard.store import Store
from shiftboard.tui.first_read import HeldRead, read_at_start
from shiftboard.tui.look import BoardConfig
from shiftboard.tui.readmodel import BoardData

#: A frame on the pipe: its length (8 bytes, big-endian), then a pickle.
_LENGTH = struct.Struct(">Q")


def can_fork() -> bool:
    """Forking is safe here: a POSIX platform and no other thread, which a child could inherit mid-lock."""
    return hasattr(os, "fork") and threading.active_count() == 1


@dataclass(frozen=True, slots=True)
class Start:
    """What the board needs to open: its cache, the moment it shows (None: live) and its configuration.
    ``new_cache``: the cache was created for this board, so it has nothing to show before its first sync."""

    path: Path
    at: float | None
    config: BoardConfig
    new_cache: bool = False


def _send(fd: int, value: object) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    data = memoryview(_LENGTH.pack(len(payload)) + payload)
    while data:
        data = data[os.write(fd, data) :]


def _receive(fd: int) -> object | None:
    """The next frame's value; None at the end of the pipe (the child sent nothing more)."""
    header = _read_exactly(fd, _LENGTH.size)
    if header is None:
        return None
    payload = _read_exactly(fd, _LENGTH.unpack(header)[0])
    # Our own child's bytes, from a pipe no one else holds.
    return None if payload is None else pickle.loads(payload)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))  # blocks without the GIL
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class Launch(HeldRead):
    """Forks a child that runs ``prepare`` (which raises on any problem) and then the first read, at ``at`` or at
    ``clock()``. ``start`` gives what ``prepare`` returned; ``ready``/``take``/``close`` the read, like
    ``first_read.FirstRead``."""

    def __init__(self, prepare: Callable[[], Start], clock: Callable[[], float]) -> None:
        super().__init__()
        self._start: Start | None = None
        readable, writable = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(readable)
            self._child(prepare, clock, writable)  # never returns
        os.close(writable)
        self._pid: int | None = pid
        self._pipe: int | None = readable

    @staticmethod
    def _child(prepare: Callable[[], Start], clock: Callable[[], float], out: int) -> None:
        status = 1
        try:
            try:
                start = prepare()
            except BaseException:
                return  # nothing sent: the parent prepares again, in-process, and reports the problem
            _send(out, start)
            try:
                with Store(start.path, readonly=True) as store:
                    data: BoardData | None = read_at_start(
                        store, start.config.settings, start.config.sources, start.at, clock
                    )
            except Exception:
                data = None  # the board reads the usual way and shows the problem
            _send(out, data)
            status = 0
        finally:
            os._exit(status)

    def start(self) -> Start | None:
        """Wait for the child's ``Start``; None when it could not prepare (prepare again in-process)."""
        if self._pipe is not None and self._start is None:
            start = _receive(self._pipe)
            if not isinstance(start, Start):
                self._end()
                return None
            self._start = start
        return self._start

    def ready(self) -> bool:
        if self._pipe is None:
            return True
        readable, _, _ = select.select([self._pipe], [], [], 0)
        return bool(readable)

    def take(self) -> tuple[Store, BoardData] | None:
        if self._pipe is not None and self.start() is not None:
            data = _receive(self._pipe)
            self._end()
            if isinstance(data, BoardData) and self._start is not None:
                # A cache that cannot be opened now is the board's own first read's to report, in its header.
                with contextlib.suppress(Exception):
                    self._store, self._data = Store(self._start.path, readonly=True), data
        return self._hand_over()

    def close(self) -> None:
        self._end()  # reap the child
        self._drop()

    def _end(self) -> None:
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None
