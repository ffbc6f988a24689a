"""Wall mode: the headline figures in large digits for one queue at a time, rotating through "all" and each queue,
with trends of the last hours. Nothing to press and no cursor: it is read from across a room.

The app feeds it (``show``) on every cache read, and the wall's own timer asks for it every second while the wall
exists (the board alone has no such timer). It judges every headline figure of every queue on each call, so a
figure crossing into BREACH is seen even while another queue is on screen: the bell (when ``[board] bell``) rings
once per crossing, and the tile flashes when that queue is shown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import tzinfo
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from shiftboard import metrics
from shiftboard.store import Store
from shiftboard.text import clean
from shiftboard.trends import Trends, trends
from shiftboard.tui import formatting
from shiftboard.tui.compositor import use_cropped_compositor
from shiftboard.tui.figures import FIGURES_BY_ID, State, judge, threshold
from shiftboard.tui.terminal import ascii_text
from shiftboard.tui.widgets.tile import Tile
from shiftboard.tui.widgets.trend_line import TrendLine

if TYPE_CHECKING:
    from shiftboard.tui.look import BoardLook, Limits
    from shiftboard.tui.readmodel import BoardData

#: The figures on the wall, in reading order.
WALL_FIGURES = (
    "waiting_now",
    "longest_wait_s",
    "service_level_pct",
    "asa_s",
    "abandon_rate_pct",
    "agents_available",
)
#: Seconds a tile stays highlighted after its figure crosses into BREACH.
FLASH_S = 3.0
#: Trends: hours back, bucket width, and how often to read them again (they move slowly).
TREND_HOURS = 4.0
TREND_BUCKET_S = 900.0
TREND_REFRESH_S = 60.0


class TrendsRead(Message):
    """Trends for one queue (``key``) at ``at``, or the problem that stopped the read."""

    def __init__(self, key: str, at: float, trends: Trends | None, problem: str | None) -> None:
        super().__init__()
        self.key, self.at, self.trends, self.problem = key, at, trends, problem


class WallTile(Tile, can_focus=False):
    """A board tile that never takes focus."""


class WallScreen(Screen):
    """The wall. ``rotate_s`` seconds per queue (``[board] wall_rotate_s``); ``clock`` drives the rotation."""

    AUTO_FOCUS = None

    def __init__(
        self,
        rotate_s: float,
        *,
        bell: bool,
        clock: Callable[[], float],
        ascii_only: bool,
        every_second: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(id="wall")
        use_cropped_compositor(self)  # a tile's change renders that tile, not the whole wall (see tui/compositor.py)
        #: Called every second while the wall exists (the app's ``show_wall``): the rotation, the countdown to the
        #: next queue, flashes and ages move between reads.
        self.every_second = every_second
        self.rotate_s = rotate_s
        self.ring_bell = bell
        self.clock = clock
        self.ascii_only = ascii_only
        self._started = clock()
        #: The queue on screen (None: all).
        self.queue: str | None = None
        #: Every crossing into BREACH seen, as (queue or "all", figure id); the bell rang once for each call that
        #: found any.
        self.crossings: list[tuple[str, str]] = []
        self.bells = 0
        self._states: dict[tuple[str, str], State] = {}
        self._flash_until: dict[tuple[str, str], float] = {}
        self._trends: dict[str, tuple[float, Trends]] = {}
        self._trends_pending: set[str] = set()
        self._trends_failed: dict[str, float] = {}
        self._reader: Store | None = None
        self._reader_lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Static("", id="wall-header", markup=False)
        with Grid(id="wall-tiles"):
            for figure_id in WALL_FIGURES:
                yield WallTile(FIGURES_BY_ID[figure_id])
        with Vertical(id="wall-trends"):
            yield TrendLine("Service level", formatting.percent, ascii_only=self.ascii_only, id="trend-sl")
            yield TrendLine("Waiting", formatting.count, ascii_only=self.ascii_only, id="trend-waiting")
            yield TrendLine("ASA", formatting.duration, ascii_only=self.ascii_only, id="trend-asa")

    def on_mount(self) -> None:
        if self.every_second is not None:
            self.set_interval(1.0, self.every_second)  # a timer of the screen's: it ends when the wall is popped

    def on_unmount(self) -> None:
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    # -- what is on screen ----------------------------------------------------------------------------------

    def rotation(self, names: list[str]) -> tuple[str | None, int, int]:
        """The queue on screen now, its place (1-based) and how many places the rotation has."""
        places: list[str | None] = [None, *names]
        slot = int(max(0.0, self.clock() - self._started) // self.rotate_s) % len(places)
        return places[slot], slot + 1, len(places)

    def show(self, data: BoardData | None, moment: float, look: BoardLook, *, live: bool, problem: str | None) -> None:
        """Judge every headline figure of every queue, then draw the queue whose turn it is."""
        if not self.query("#wall-header"):
            return  # pushed but not composed yet: the next second draws it
        names = data.queue_names if data else []
        queue, place, places = self.rotation(names)
        self.queue = queue
        left = self.rotate_s - (max(0.0, self.clock() - self._started) % self.rotate_s)
        self._show_header(moment, look.zone, queue, place, places, left if places > 1 else None, live, problem)
        if data is None:
            return
        elapsed = moment - data.at
        self._judge_all(data, look.limits, elapsed)
        figures = data.figures(queue)
        key = queue or metrics.ALL
        now = time.monotonic()
        for tile in self.query(WallTile):
            figure = tile.figure
            value = figure.current(figures, elapsed)
            state = self._states.get((key, figure.id), State.NONE)
            note = figure.note(figures) if figure.note else None
            tile.show(figure.fmt(value), state, note)
            tile.set_class(self._flash_until.get((key, figure.id), 0.0) > now, "-flash")
        self._show_trends(key, data.at)

    def _show_header(
        self,
        moment: float,
        zone: tzinfo,
        queue: str | None,
        place: int,
        places: int,
        left: float | None,
        live: bool,
        problem: str | None,
    ) -> None:
        name = Content("All queues") if queue is None else Content(clean(queue, 40))
        parts: list[Content | str | tuple[str, str]] = [
            (formatting.clock(moment, zone), "bold"),
            "  ",
            name.stylize("bold $accent"),
            f"  {place}/{places}",
        ]
        if left is not None:
            parts.append((f"  next in {left:.0f} s", "$text-muted"))
        if not live:
            parts.append(("  PAST MOMENT", "$warning bold"))
        if problem:
            parts += [("  cache: ", "$error bold"), Content(clean(problem, 80))]
        text = Content.assemble(*parts)
        if self.ascii_only:
            text = Content(ascii_text(text.plain, True), list(text.spans))
        self.query_one("#wall-header", Static).update(text)

    def _judge_all(self, data: BoardData, limits: Limits, elapsed: float) -> None:
        found = []
        for key in data.queues:
            queue = None if key == metrics.ALL else key
            figures = data.figures(queue)
            for figure_id in WALL_FIGURES:
                figure = FIGURES_BY_ID[figure_id]
                state = judge(figure.judged_value(figures, elapsed), threshold(limits, figure_id, queue))
                previous = self._states.get((key, figure_id))
                # A crossing needs a known state before it: a figure already in breach when the wall opens is shown,
                # not announced.
                if state is State.BREACH and previous is not None and previous is not State.BREACH:
                    found.append((key, figure_id))
                self._states[(key, figure_id)] = state
        if not found:
            return
        self.crossings += found
        until = time.monotonic() + FLASH_S
        for crossing in found:
            self._flash_until[crossing] = until
        if self.ring_bell:
            self.bells += 1
            self.app.bell()

    # -- trends ---------------------------------------------------------------------------------------------

    def _show_trends(self, key: str, at: float) -> None:
        """Draw the queue's trends as last read; read them again when older than TREND_REFRESH_S (or failed then)."""
        cached = self._trends.get(key)
        if cached is not None:
            self._draw_trends(cached[1])
        last_try = cached[0] if cached is not None else self._trends_failed.get(key)
        if last_try is not None and abs(at - last_try) < TREND_REFRESH_S:
            return
        if key not in self._trends_pending:
            self._trends_pending.add(key)
            self._read_trends(key, at)

    def _draw_trends(self, series: Trends) -> None:
        self.query_one("#trend-sl", TrendLine).show(series.service_level_pct)
        self.query_one("#trend-waiting", TrendLine).show([float(v) for v in series.waiting])
        self.query_one("#trend-asa", TrendLine).show(series.asa_s)

    @work(thread=True, group="trends", exit_on_error=False)
    def _read_trends(self, key: str, at: float) -> None:
        queue = None if key == metrics.ALL else key
        try:
            settings = self.app.settings  # type: ignore[attr-defined]  # in this thread: it may unpickle them
            with self._reader_lock:
                if self._reader is None:
                    self._reader = Store(self.app.store.path, readonly=True)  # type: ignore[attr-defined]
                with self._reader.read() as conn:
                    series = trends(conn, settings.metrics, at, hours=TREND_HOURS, bucket_s=TREND_BUCKET_S, queue=queue)
        except Exception as error:  # trends are a nicety: the figures stay up; the next read tries again
            self.post_message(TrendsRead(key, at, None, f"{type(error).__name__}: {error}"))
            return
        self.post_message(TrendsRead(key, at, series, None))

    def on_trends_read(self, message: TrendsRead) -> None:
        self._trends_pending.discard(message.key)
        if message.trends is None:
            self._trends_failed[message.key] = message.at
            self.notify(f"reading trends failed: {clean(message.problem or '')}", severity="warning", markup=False)
            return
        self._trends[message.key] = (message.at, message.trends)
        if (self.queue or metrics.ALL) == message.key:
            self._draw_trends(message.trends)
