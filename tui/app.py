"""The shiftboard board: reads the cache on a timer, shows a tile per figure, drills into the rows behind them.

Single-process default: if no other process holds the cache's collector lock, the app runs the same Collector as
``shiftboard collect`` in a worker thread and stops it on exit; otherwise (or with ``sources = []``) it only reads.
Reads use their own read-only connection in one reader thread, so they never overlap: each read schedules the
next one when it ends (a chained timer), so a slow read delays the board rather than piling reads up. A watcher
thread (``cache_watch.py``) starts a read soon after any commit; a board fixed at a moment with no source reads
only then. The board changes on screen only when a read (or a key) changes what it shows, and, while a live board
shows an age (the longest wait, the oldest case), when that age's text or state changes between reads (planned
for that moment, without a query). The live clock shows minutes and source ages move with each read, so an idle
board repaints nothing between reads (a once-a-second repaint alone cost as much CPU as the rest of an idle
board). The wall, while it is shown, moves every second (its rotation and countdown).

Start-up: ``cli.run_board`` forks before it imports Textual; the child validates the configuration and makes the
first read (``launch.py``; a thread where it cannot fork, ``first_read.py``). This process draws the first frame from
plain values (``look.BoardLook``) and the child's read, without importing pydantic; the settings themselves are
unpickled when a later read, a drill or the collector (started once the first read is shown) first needs them.

Where later features attach: rewind sets ``at`` and calls ``read_now`` (every read and drill already takes the
moment); keys from config go through ``set_keymap`` (every Binding has an id); a command palette is a Provider in
``COMMANDS`` calling the same actions; wall mode is another screen over the same ``BoardData``, ``FIGURES`` and
``Tile``.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, InvalidThemeError
from textual.binding import Binding, BindingType
from textual.command import Provider

from shiftboard.cache_lock import CollectorLock
from shiftboard.metrics import ReadMemo
from shiftboard.store import Store
from shiftboard.text import clean
from shiftboard.tui.cache_watch import watch_commits
from shiftboard.tui.figures import FIGURES, FIGURES_BY_ID, judge, threshold
from shiftboard.tui.first_read import HeldRead
from shiftboard.tui.look import BoardConfig
from shiftboard.tui.messages import BoardRead, BoardReadFailed, CacheChanged, CollectorStopped
from shiftboard.tui.readmodel import BoardData, read_board
from shiftboard.tui.repaint import Repaint
from shiftboard.tui.rewind import REWIND_BINDINGS, RewindActions
from shiftboard.tui.screens.board import BoardScreen
from shiftboard.tui.terminal import TerminalWatchdog, ascii_key, pick_theme
from shiftboard.tui.widgets.board_header import header_content

if TYPE_CHECKING:  # the settings' classes (pydantic) are imported after the first frame, where they are used
    from textual.driver import Driver

    from shiftboard.config import Settings, SourceSettings

#: Styles that replace heavy and rounded borders with ASCII ones (``--ascii``).
ASCII_CSS = Path(__file__).with_name("ascii.tcss")
#: Seconds to wait for the in-process collector to stop on exit before giving up on it.
COLLECTOR_STOP_S = 10.0
#: When commits come faster than the board can read, a read that follows a commit waits this many times the last
#: read's duration: a board then spends at most about a quarter of its time reading (and many boards on one machine
#: share the CPU instead of queueing for it), while a fast read (tens of ms) delays a figure by no more than that.
READ_GAP_FACTOR = 3.0
#: The figures that grow between reads (ages), moved on by ``_plan_tick``.
TICKING = [figure for figure in FIGURES if figure.ticks]
#: A refresh's read starts this long before a tick of the ages, so the tick finds it under way and leaves the ages to
#: its show (``_refresh_delay``): a read takes longer than this, and the event loop runs both timers in one pass.
TICK_LEAD_S = 0.001
#: A tick that comes while a read is under way waits for it at most this long after the read began.
TICK_WAIT_S = 0.1
#: Benchmarks only (tests/bench/bench_board.py): a file to which the app writes the wall time when the first board
#: with data has been painted.
FIRST_PAINT_ENV = "SHIFTBOARD_BENCH_FIRST_PAINT"


#: Bindings help leaves out because another entry covers them (digits 1–9 are listed once, as 0-9).
_HELP_FOLDED = frozenset(f"queue-{n}" for n in range(1, 10))


def _board_commands() -> type[Provider]:
    from shiftboard.tui.palette import BoardCommands  # imported when the palette first opens, not at start

    return BoardCommands


def _queue_bindings() -> list[BindingType]:
    bindings: list[BindingType] = [Binding("0", "queue(0)", "Queue n (0 all)", key_display="0-9", id="queue-all")]
    bindings += [Binding(str(n), f"queue({n})", f"Queue {n}", show=False, id=f"queue-{n}") for n in range(1, 10)]
    return bindings


class ShiftboardApp(RewindActions, App[int]):
    """The live board. ``at`` fixes the moment shown (None: live); ``clock`` is injectable for tests.

    ``settings``: the validated configuration with its ``sources``, or a ``BoardConfig`` that holds both (from
    cli.run_board, whose forked child validated them): the board draws its first frame from the config's ``look``
    and unpickles the settings only when a read, a drill or the collector first needs them.
    """

    TITLE = "shiftboard"
    CSS_PATH = ["board.tcss", "wall.tcss"]
    COMMANDS = App.COMMANDS | {_board_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+p,colon", "command_palette", "Commands", show=False, id="palette"),
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("w", "wall", "Wall", id="wall"),
        Binding("p", "privacy", "Privacy", id="privacy"),
        *_queue_bindings(),
        *REWIND_BINDINGS,
    ]

    def __init__(
        self,
        settings: Settings | BoardConfig,
        store: Store,
        sources: Sequence[SourceSettings] = (),
        at: float | None = None,
        *,
        clock: Callable[[], float] = time.time,
        wall: bool = False,
        ascii_only: bool = False,
        theme: str | None = None,
        privacy: bool = False,
        first_read: HeldRead | None = None,
        new_cache: bool = False,
    ) -> None:
        super().__init__()
        #: A read started before Textual was imported (cli.run_board); the first ``_read`` takes it.
        self._first_read = first_read
        #: The cache was created for this board: with nothing to show before its first sync, the collector starts
        #: at once rather than after the first frame.
        self._new_cache = new_cache
        #: Wall mode at start (``--wall``); ``w`` toggles it. ASCII only (``--ascii``); a theme asked for (``--theme``).
        self.start_wall = wall
        self.ascii_only = ascii_only
        self.asked_theme = theme
        if ascii_only:
            self.css_path.append(ASCII_CSS)
        self._watchdog = TerminalWatchdog(self, self.exit)
        #: Customers' names, contact details and subjects masked on every screen (``--privacy``, the ``p`` key).
        self.privacy = privacy
        self.config = settings if isinstance(settings, BoardConfig) else BoardConfig.of(settings, sources)
        #: What the board draws with (plain values from the settings; see look.py).
        self.look = self.config.look
        self.store = store
        self.at = at
        self.clock = clock
        self.zone = self.look.zone
        self.refresh_s = self.look.refresh_s
        #: The latest read, None until the first one arrives.
        self.data: BoardData | None = None
        #: The queue in focus; None shows every queue.
        self.queue: str | None = None
        self.problem: str | None = None
        self.reads = 0
        self._reader: Store | None = None
        self._memo = ReadMemo()  # parts of the last read, kept across reads until they can have changed
        self._reading = False
        self._read_again = False
        #: Moments to read at, for the reader thread (None: stop). One long-lived thread rather than a Textual
        #: worker per read: a worker's three state messages cost the screen more than the read itself.
        self._read_requests: queue.SimpleQueue[float | None] = queue.SimpleQueue()
        self._reader_thread = threading.Thread(target=self._read_loop, name="cache-reader", daemon=True)
        #: The next read planned by ``_read_later`` (None: none planned).
        self._next_read: asyncio.TimerHandle | None = None
        #: The next move of the ages on tiles between reads (``_plan_tick``; None: none planned).
        self._tick: asyncio.TimerHandle | None = None
        self._read_began = 0.0
        #: Monotonic time before which a read caused by a commit waits (see READ_GAP_FACTOR).
        self._calm_until = 0.0
        self._first_paint_file = os.environ.get(FIRST_PAINT_ENV)
        self._stop = threading.Event()
        #: The collector's own: ``Collector.run`` sets the event it is given when it ends, and a collector that
        #: failed must not stop the change probe, which then watches for another process's collector.
        self._collector_stop = threading.Event()
        self._collector_done = threading.Event()
        self._collector_started = False
        #: Whether the change probe was started (``_watch_cache``).
        self._watching = False
        self._lock = CollectorLock(Path(store.path))
        self.collecting = False

    @property
    def settings(self) -> Settings:
        """The validated configuration (unpickled on first use when the board was launched with a BoardConfig)."""
        return self.config.settings

    @property
    def sources(self) -> list[SourceSettings]:
        return self.config.sources

    # -- life cycle -----------------------------------------------------------------------------------------

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this terminal, except that on Linux and macOS it is the one whose input thread sleeps
        until there is input (quiet_driver.py). A driver named in ``TEXTUAL_DRIVER`` (the browser's) is kept."""
        driver = super().get_driver_class()
        if driver.__module__ == "textual.drivers.linux_driver" and driver.__name__ == "LinuxDriver":
            from shiftboard.tui.quiet_driver import QuietLinuxDriver  # it imports termios: not on Windows

            return QuietLinuxDriver
        return driver

    def get_default_screen(self) -> BoardScreen:
        """The board is the app's first screen, not pushed over Textual's empty default one: that one took its own
        resize events and layouts at start (about 5 % of the start-up's function calls)."""
        return BoardScreen()

    def on_mount(self) -> None:
        if self.look.keys:
            self.set_keymap(dict(self.look.keys))  # ids are checked before the app starts (tui/keymap.py)
        theme = pick_theme(self.asked_theme, self.look.theme, os.environ)
        if theme:
            try:
                self.theme = theme
            except InvalidThemeError:
                known = ", ".join(sorted(self.available_themes))
                self.notify(f"unknown theme {theme!r}; known: {known}", severity="error", markup=False, timeout=15)
        if self.start_wall:
            self.action_wall()
        self._watchdog.arm()
        self._claim_cache()
        if self._new_cache:
            self._start_collector()
        self._reader_thread.start()
        first = self._first_read
        if first is not None and first.ready():
            # Taken here, before the board is composed, so the first frame drawn already has the figures (the board
            # screen shows them when it mounts) rather than an empty board and then a second frame.
            self._first_read = None
            taken = first.take()
            if taken is not None:
                self._reader, data = taken
                self._read_began = time.monotonic()
                self._reading = True
                self.on_board_read(BoardRead(data))
                return
        self.read_now()

    def on_unmount(self) -> None:
        self._watchdog.disarm()
        self._stop.set()
        self._collector_stop.set()
        if self._collector_started:
            self._collector_done.wait(COLLECTOR_STOP_S)
        else:
            self._lock.release()  # claimed, but the board closed before its first read was shown
        self._cancel_planned_read()
        if self._tick is not None:
            self._tick.cancel()
        self._read_requests.put(None)
        if self._reader_thread.is_alive():
            self._reader_thread.join(COLLECTOR_STOP_S)  # a read in progress finishes before its connection closes
        if self._reader is not None:
            self._reader.close()

    @property
    def _frozen(self) -> bool:
        """Fixed at a moment with no source of its own: no clock, age or source health moves, and only a commit
        (which the change probe sees) can change a figure, so the refresh timer has no work."""
        return self.at is not None and not self.look.has_sources

    def moment(self) -> float:
        """The moment the board shows: ``at`` when fixed, else now."""
        return self.at if self.at is not None else self.clock()

    # -- collector ------------------------------------------------------------------------------------------

    def _claim_cache(self) -> None:
        """Collect in-process when the board has sources and no other process writes the cache (``shiftboard
        collect`` or another board, which hold its lock): the lock is taken now, so the first frame already says
        who fills the cache; the collector starts once the first read is shown (``_start_collector``)."""
        # Without sources (``sources = []``) the board is a viewer of a cache that ``shiftboard collect`` fills.
        if self.look.has_sources and self._lock.acquire():
            self.collecting = True

    def _start_collector(self) -> None:
        """After the first read is shown (at once on a new cache): the collector's settings and adapters
        (pydantic) are imported in its thread, which would slow the first frame."""
        if self.collecting and not self._collector_started:
            self._collector_started = True
            self._collect()

    @work(thread=True, group="collector", exit_on_error=False)
    def _collect(self) -> None:
        reason = None
        try:
            from shiftboard.collector import Collector

            collector = Collector(
                self.store,
                self.sources,
                retention_days=self.settings.cache.retention_days,
                on_commit=lambda: self.post_message(CacheChanged()),
            )
            collector.run(self._collector_stop)
            if collector.fatal is not None:
                reason = str(collector.fatal)
        except Exception as error:  # the board keeps showing the cache even if collecting breaks
            reason = f"{type(error).__name__}: {error}"
        finally:
            self._lock.release()
            self._collector_done.set()
        if not self._stop.is_set() or reason:
            self.post_message(CollectorStopped(reason))

    def on_collector_stopped(self, message: CollectorStopped) -> None:
        self.collecting = False
        if not self._watching:  # another process may collect now: its commits are read as they come
            self._watching = True
            self._watch_cache()
        self.notify(f"collector stopped: {clean(message.reason or 'no reason given')}", severity="error", markup=False)

    # -- reading the cache ----------------------------------------------------------------------------------

    def read_now(self) -> None:
        """Read the cache now, or right after the read in progress (reads never overlap)."""
        if self._reading:
            self._read_again = True
            return
        self._cancel_planned_read()
        self._reading = True
        self._read_began = time.monotonic()
        self._read(self.moment())

    def read_soon(self) -> None:
        """Read because the cache changed: now, or once the gap after the last read has passed."""
        if self._reading:
            self._read_again = True
            return
        wait = self._calm_until - time.monotonic()
        if wait <= 0:
            self.read_now()
            return
        self._read_later(wait)

    def _read_later(self, delay: float) -> None:
        """Read in ``delay`` seconds, instead of any read planned before."""
        self._cancel_planned_read()
        # The event loop's own timer rather than Textual's set_timer: a Textual timer is a task of its own, and each
        # new one reprs its target and inspects its callback's signature when it fires, which for a read every 2 s
        # was most of the main thread's work between reads. read_now only queues a request: it needs no more.
        self._next_read = asyncio.get_running_loop().call_later(delay, self.read_now)

    def _refresh_delay(self) -> float:
        """``refresh_s``, moved by at most half a second so that the read starts just before a tick of the ages
        (``TICK_LEAD_S``; ticks of a wait in m:ss come a second apart). The tick then waits for the read, whose
        show draws the ages too: while a caller waits, one repaint each refresh instead of two (a tenth of the
        main thread of a viewer, docs/benchmarks.md)."""
        if self._tick is None:
            return self.refresh_s
        until_tick = self._tick.when() - asyncio.get_running_loop().time() - TICK_LEAD_S
        return self.refresh_s + (until_tick - self.refresh_s + 0.5) % 1.0 - 0.5

    def _cancel_planned_read(self) -> None:
        if self._next_read is not None:
            self._next_read.cancel()
            self._next_read = None

    def _watch_cache(self) -> None:
        """After the first read is shown, for a board that does not collect: read when another process commits (a
        board that collects hears of its own commits from its collector, and no other process can write)."""
        threading.Thread(target=self._probe_changes, name="cache-probe", daemon=True).start()

    def _probe_changes(self) -> None:
        """In its own thread and connection until the app stops: say when another connection commits."""
        watch_commits(Path(self.store.path), self._stop, lambda: self.post_message(CacheChanged()))

    def on_cache_changed(self) -> None:
        self.read_soon()

    def _read(self, at: float) -> None:
        self._read_requests.put(at)

    def _read_loop(self) -> None:
        while (at := self._read_requests.get()) is not None:
            self._read_at(at)

    def _read_at(self, at: float) -> None:
        """In the reader thread: read the board at ``at`` and post it (or why it failed) to the app."""
        try:
            first, self._first_read = self._first_read, None
            taken = first.take() if first is not None else None
            if taken is not None:
                reader, data = taken
                if self._reader is None:
                    self._reader = reader
                else:
                    reader.close()
                # A live board shows the read started a moment before the app (its ages tick from there).
                if self.at is None or data.at == at:
                    self.post_message(BoardRead(data))
                    return
            if self._reader is None:
                self._reader = Store(self.store.path, readonly=True)
            data = read_board(self._reader, self.settings, self.sources, at, now=self.clock(), memo=self._memo)
        except Exception as error:  # shown in the header; the next read tries again
            self.post_message(BoardReadFailed(f"{type(error).__name__}: {error}"))
            return
        self.post_message(BoardRead(data))

    def _read_finished(self) -> None:
        self._reading = False
        self.reads += 1
        now = time.monotonic()
        self._calm_until = now + READ_GAP_FACTOR * (now - self._read_began)
        if self._read_again:
            self._read_again = False
            self.read_soon()
        elif not self._frozen or self.problem:
            self._read_later(self._refresh_delay())
        if self.collecting and not self._collector_started:
            self.call_after_refresh(self._start_collector)  # once the first read (or its failure) is on screen
        elif not self.collecting and not self._watching:
            self._watching = True
            self.call_after_refresh(self._watch_cache)

    def on_board_read(self, message: BoardRead) -> None:
        self.data = message.data
        self.problem = None
        if self.queue is not None and self.queue not in self.data.queues:
            self.queue = None
        self.show_board()
        self._read_finished()
        if self._first_paint_file and self.data.queue_names:
            self.call_after_refresh(self._record_first_paint)

    def _record_first_paint(self) -> None:
        path, self._first_paint_file = self._first_paint_file, None
        if path:
            Path(path).write_text(f"{time.time():.6f}\n", encoding="utf-8")

    def on_board_read_failed(self, message: BoardReadFailed) -> None:
        if message.reason != self.problem:
            self.notify(f"reading the cache failed: {clean(message.reason)}", severity="error", markup=False)
        self.problem = message.reason
        self.show_board()
        self._read_finished()

    # -- showing --------------------------------------------------------------------------------------------

    def show_wall(self) -> None:
        """Draw the wall, when it is in front: on each read, and every second from the wall's own timer."""
        if self.screen_stack and self._on_wall:
            self.screen.show(self.data, self.moment(), self.look, live=self.at is None, problem=self.problem)

    def show_board(self) -> None:
        """Show the latest read (or problem): widgets whose text is unchanged are not repainted."""
        if not self.screen_stack:
            return  # a read that arrives while the app closes has nothing left to show on
        self.show_wall()
        board = self._mounted_board()
        if board is not None:
            self.fill_board(board)

    def fill_board(self, board: BoardScreen) -> None:
        """Show the latest read on ``board``: also on one being composed, so its tiles take their states before
        they are styled the first time (a state set after mounting styles the tile again)."""
        moment = self.moment()
        data = self.data
        names = data.queue_names if data else []
        number = names.index(self.queue) + 1 if self.queue in names else 0
        board.header.show(
            header_content(
                moment=moment,
                zone=self.zone,
                queue=self.queue,
                queue_number=number,
                queue_count=len(names),
                since=data.since if data else None,
                health=data.health if data else [],
                collecting=self.collecting or not self.look.has_sources,
                live=self.at is None,
                latency_s=data.latency_s if data else None,
                problem=self.problem,
                live_key=self._key_for("live"),
                now=self.clock(),
                privacy=self.privacy,
            )
        )
        if data is None:
            return
        self._show_tiles(board, data, moment)
        self._plan_tick()

    def _show_tiles(self, board: BoardScreen, data: BoardData, moment: float, *, ticking_only: bool = False) -> None:
        figures = data.figures(self.queue)
        # On the live board ages grow by the time since the read; a rewound board holds its moment.
        elapsed = moment - data.at if self.at is None else 0.0
        # A source that stopped answering still counts with its last good data: every tile says so.
        stale = any(item.status in ("stale", "failing") for item in data.health)
        repaint = Repaint(board)
        for tile in board.tiles:
            figure = tile.figure
            if ticking_only and not figure.ticks:
                continue
            value = figure.current(figures, elapsed)
            state = judge(figure.judged_value(figures, elapsed), threshold(self.look.limits, figure.id, self.queue))
            note = figure.note(figures) if figure.note else None
            if stale:
                note = f"STALE · {note}" if note else "STALE"
            tile.show(figure.fmt(value), state, note, repaint)
        repaint.flush()

    def _plan_tick(self) -> None:
        """While a live board shows an age (the longest wait, the oldest case), move it on between reads, without a
        query, at the moment its text or state changes: every second for a wait in m:ss, once a minute for an age
        in hours and minutes. Only then: a once-a-second Textual timer and repaint cost an idle board as much CPU as
        all its other work. The event loop's own timer, and only the ticking tiles."""
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None
        if self.at is not None or self.data is None:
            return
        figures = self.data.figures(self.queue)
        elapsed = self.moment() - self.data.at
        waits = [
            wait
            for figure in TICKING
            if (wait := figure.steady_s(figures, elapsed, threshold(self.look.limits, figure.id, self.queue)))
            is not None
        ]
        if waits:
            self._tick = asyncio.get_running_loop().call_later(min(waits), self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        if self._reading and (wait := self._read_began + TICK_WAIT_S - time.monotonic()) > 0:
            # The read under way shows the ages when it lands, and plans the next tick; if it is slow, they move on.
            self._tick = asyncio.get_running_loop().call_later(wait, self._on_tick)
            return
        board = self._mounted_board()
        if board is None or self.data is None:
            return
        self._show_tiles(board, self.data, self.moment(), ticking_only=True)
        self._plan_tick()

    def _key_for(self, binding_id: str) -> str:
        """The key (as remapped by ``[keys]``) that runs the binding ``binding_id``, for hints on screen."""
        for _key, binding in self._bindings:
            if binding.id == binding_id:
                keys = self._keymap.get(binding_id)
                if keys:
                    binding = binding.with_key(keys.split(",")[0], key_display=None)
                return self.get_key_display(binding)
        return binding_id

    @property
    def _on_wall(self) -> bool:
        """Wall mode is in front (known by the wall screen's id, so its module need not be imported at start)."""
        return self.screen.id == "wall"

    def _mounted_board(self) -> BoardScreen | None:
        """The board screen, when its widgets are there to show on (None: not composed yet, or closing)."""
        board = self._board_screen() if self.screen_stack else None
        if board is None or not (board.header.is_mounted and board.header.is_attached):
            return None
        return board

    def _board_screen(self) -> BoardScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, BoardScreen):
                return screen
        return None

    # -- actions --------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Queue and rewind keys act on the board only (a drilled table keeps the queue and moment it was opened
        for); the wall key on the board and the wall."""
        if action == "wall":
            return isinstance(self.screen, BoardScreen) or self._on_wall
        return action not in ("queue", "rewind", "live") or isinstance(self.screen, BoardScreen)

    def action_refresh(self) -> None:
        self.read_now()

    def action_queue(self, number: int) -> None:
        """Focus the n-th queue (1–9, in the order shown); 0 shows every queue."""
        names = self.data.queue_names if self.data else []
        if number == 0:
            self.queue = None
        elif number <= len(names):
            self.queue = names[number - 1]
        else:
            self.notify(f"there is no queue {number} (there are {len(names)})", markup=False)
            return
        self.show_board()

    def get_key_display(self, binding: Binding) -> str:
        """Key names in the footer and help; with ``--ascii`` the arrow and return glyphs become words."""
        display = super().get_key_display(binding)
        return ascii_key(display) if self.ascii_only else display

    def action_wall(self) -> None:
        """Wall mode on (from the board) or off (from the wall)."""
        if self._on_wall:
            self.pop_screen()
        else:
            from shiftboard.tui.screens.wall import WallScreen  # imported on the first ``w``, not at start

            rotate_s = self.look.wall_rotate_s
            self.push_screen(
                WallScreen(
                    rotate_s,
                    bell=self.look.bell,
                    clock=self.clock,
                    ascii_only=self.ascii_only,
                    every_second=self.show_wall,
                )
            )
            self.call_after_refresh(self.show_board)

    def action_drill(self, figure_id: str) -> None:
        """Open the rows behind a figure, for the queue in focus, at the moment shown."""
        figure = FIGURES_BY_ID[figure_id]
        if figure.drill is None:
            self.notify(f"{figure.label}: no rows to show for this figure yet", markup=False)
            return
        data = self.data
        at = data.at if data else self.moment()
        since = data.since if data else at
        from shiftboard.tui.drills import drill  # imported on first use, like the rows screen
        from shiftboard.tui.screens.rows import RowsScreen  # imported on first use, not needed to start

        rows = drill(figure.drill, self.settings)
        self.push_screen(RowsScreen(rows, str(self.store.path), self.queue, since, at, self.zone, privacy=self.privacy))

    def action_privacy(self) -> None:
        """Mask customers' names, contact details and subjects (for a screen in public view), or show them again."""
        self.privacy = not self.privacy
        for screen in self.screen_stack:
            show = getattr(screen, "show_privately", None)
            if show is not None:
                show(self.privacy)
        self.show_board()
        self.notify("privacy on: customers and subjects masked" if self.privacy else "privacy off", markup=False)

    def action_help(self) -> None:
        """Show the keys active on the current screen, from its bindings (several keys for one action together)."""
        from shiftboard.tui.screens.help import HelpScreen, KeyHelp  # imported on first use, like the rows screen

        keys: dict[str, list[str]] = {}
        descriptions: dict[str, str] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            ident = binding.id or binding.action
            if not binding.description or ident in _HELP_FOLDED:
                continue
            keys.setdefault(ident, []).append(self.get_key_display(binding))
            descriptions.setdefault(ident, binding.description)
        entries = [KeyHelp(", ".join(dict.fromkeys(keys[i])), descriptions[i], i) for i in keys]
        self.push_screen(HelpScreen(entries))
