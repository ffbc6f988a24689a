"""What the board needs from its configuration to draw: plain values, copied from the validated settings.

The process that draws the board's first frame does so before it imports the configuration's library
(pydantic-settings, about as long to import as Textual itself): cli.run_board validates the configuration in a
forked child (tui/launch.py), which sends this back. Reading the cache, drilling and collecting use the settings
themselves, which the board takes after its first frame. This module imports neither pydantic nor Textual.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shiftboard.config import Settings, SourceSettings
    from shiftboard.tui.figures import Edges


@dataclass(frozen=True, slots=True)
class Limit:
    """A threshold: past ``warn`` a figure is WARN, past ``breach`` BREACH (lower is worse when warn > breach)."""

    warn: float
    breach: float


@dataclass(frozen=True, slots=True)
class Limits:
    """``[board.thresholds]`` and the per-queue overrides ``[board.queues.<queue>]``, by figure id."""

    thresholds: dict[str, Limit] = field(default_factory=dict)
    queues: dict[str, dict[str, Limit]] = field(default_factory=dict)


def _limits(table: Mapping[str, Edges]) -> dict[str, Limit]:
    return {figure: Limit(edges.warn, edges.breach) for figure, edges in table.items()}


@dataclass(frozen=True, slots=True)
class BoardLook:
    """The settings the board draws with (see ``[board]``, ``[keys]`` and ``[metrics] timezone``).

    refresh_s: seconds between reads. zone: the time zone of the clock and the window.
    has_sources: the board has sources of its own (it collects them when no other process does); without, it only
    views a cache that ``shiftboard collect`` fills.
    """

    refresh_s: float
    zone: tzinfo
    limits: Limits
    has_sources: bool
    theme: str | None = None
    keys: dict[str, str] = field(default_factory=dict)
    wall_rotate_s: float = 15.0
    bell: bool = False
    rewind_step_min: float = 5.0

    @classmethod
    def of(cls, settings: Settings, sources: Sequence[SourceSettings]) -> BoardLook:
        board = settings.board
        return cls(
            refresh_s=board.refresh_s,
            zone=settings.metrics.zone(),
            limits=Limits(_limits(board.thresholds), {queue: _limits(table) for queue, table in board.queues.items()}),
            has_sources=bool(sources),
            theme=board.theme,
            keys=dict(settings.keys),
            wall_rotate_s=board.wall_rotate_s,
            bell=board.bell,
            rewind_step_min=board.rewind_step_min,
        )


class BoardConfig:
    """The board's configuration: ``look`` at once; the validated settings and sources when first asked for.

    Pickled (by the child that validated them, tui/launch.py), the settings travel as bytes inside: unpickling a
    BoardConfig imports nothing of pydantic, and the first use of ``settings`` or ``sources`` (after the first
    frame, by the reader or the collector thread) unpickles them, once.
    """

    def __init__(
        self,
        look: BoardLook,
        settings: Settings | None = None,
        sources: Sequence[SourceSettings] = (),
        *,
        pickled: bytes | None = None,
    ) -> None:
        self.look = look
        self._settings = settings
        self._sources = list(sources)
        self._pickled = pickled
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: Settings, sources: Sequence[SourceSettings]) -> BoardConfig:
        return cls(BoardLook.of(settings, sources), settings, sources)

    def _loaded(self) -> tuple[Settings, list[SourceSettings]]:
        with self._lock:
            if self._pickled is not None:
                # Our own child's bytes, from a pipe no one else holds (tui/launch.py).
                self._settings, self._sources = pickle.loads(self._pickled)
                self._pickled = None
        assert self._settings is not None
        return self._settings, self._sources

    @property
    def settings(self) -> Settings:
        return self._loaded()[0]

    @property
    def sources(self) -> list[SourceSettings]:
        return self._loaded()[1]

    def __getstate__(self) -> tuple[BoardLook, bytes]:
        with self._lock:
            pickled = self._pickled or pickle.dumps((self._settings, self._sources), protocol=pickle.HIGHEST_PROTOCOL)
        return self.look, pickled

    def __setstate__(self, state: tuple[BoardLook, bytes]) -> None:
        self.look, self._pickled = state
        self._settings, self._sources = None, []
        self._lock = threading.Lock()
