"""Messages from worker threads to the UI thread (post_message is thread-safe)."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from shiftboard.tui.readmodel import BoardData


class BoardRead(Message):
    """A fresh read of the cache. A newer one replaces an older one still in the queue."""

    def __init__(self, data: BoardData) -> None:
        super().__init__()
        self.data = data

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BoardRead)


class BoardReadFailed(Message):
    """A read of the cache failed; ``reason`` is one line for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class CacheChanged(Message):
    """Another connection committed to the cache (the change probe saw ``PRAGMA data_version`` move)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CacheChanged)


class CollectorStopped(Message):
    """The in-process collector ended; ``reason`` is set when it stopped because the cache could not be written."""

    def __init__(self, reason: str | None) -> None:
        super().__init__()
        self.reason = reason


class RowsLoaded(Message):
    """Rows behind a figure, read in a worker. ``partial``: only the first screenful, the rest follows."""

    def __init__(self, rows: Any, at: float, *, partial: bool = False) -> None:
        super().__init__()
        self.rows = rows
        self.at = at
        self.partial = partial
