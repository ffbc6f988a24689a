"""The board as a user meets it: start-up, one refresh, a drill-down, freshness, CPU and memory when left open.

The cache is bench_metrics' 1M cache (1,000,000 historical contacts and cases, ratings, agent states, snapshots)
plus 7,000 more open cases, so the "Open cases" tile has 10,000 rows behind it. Unless said otherwise the board
runs fixed at the cache's noon (``--at``) with ``sources = []``, as a viewer of a cache another process collects
into.

- start-up: ``shiftboard --config … --at …`` in a pseudo-terminal (80×24), from ``Popen`` to the first board with
  data painted (the app writes the time after the first painted read when ``SHIFTBOARD_BENCH_FIRST_PAINT`` names a
  file), beside a bare Textual app showing one Label run the same way (time of its first paint); alternated, median.
  The board validates its configuration and makes its first read in a child it forks (tui/launch.py); the CPU
  figure counts the child too.
  Also the first run on an empty cache with the default simulator source.
- refresh: ``readmodel.read_board`` (metrics.compute + each source's health), median of 9.
- drill: Pilot, Enter on the "Open cases" tile to the first rows in the table and painted.
- repaint: Pilot at 100×30, the main thread's CPU of one screen update after a change to one tile, and to the first
  and last tiles at once, with the board's compositor and with Textual's own, alternated (a part of the CPU left
  open: a live board ticks its longest wait every second).
- freshness: Pilot with a live files source (interval 1 s) on a small cache: append a waiting contact to the file,
  time until the board's "Waiting now" figure shows it; and the simulator at its model's busiest hour: a commit
  that brought records to the frame painted after the read that shows it (``freshness_simulator``).
- CPU: the board process left open (refresh every 2 s) vs a bare app whose 2 s timer updates its label, utime+stime
  from /proc/<pid>/stat over a span of 60 s (20 s when quick) after 5 s of settling (after the simulator's first
  sync is in the cache, for the boards that collect it; the CPU to that point is in the note); six boards: fixed at
  a moment (reads only on a commit), live viewer (recomputes every 2 s), live viewer with a caller waiting, live
  collecting a helpdesk API in-process (a Freshdesk emulator on loopback that gains a ticket every 10 s, polled every
  30 s), live with the simulator collecting in-process, and the same at the model's busiest hour (its time zone
  chosen so). The host's speed moves the bare app's CPU 2× within hours, so one span per app cannot decide a ratio:
  the apps are measured in rounds (3, 1 when quick; ``--cpu-rounds N``), each round the bare app then the six
  boards, one at a time. Each board's ratio is to the bare app of its round; a row gives the median CPU and
  the median ratio, and each round's figures in its note. The two boards that collect start each round on a fresh
  copy of the cache, so every round (and every later run on a kept cache) starts from the same state.
- memory over 30 minutes: bench_memory.py (run beside the others: it is mostly waiting).

Run alone: ``python -m tests.bench.bench_board [--quick] [--cpu-rounds N]``; only the start-up figures, or only the
CPU figures, keeping the cache between runs:
``python -m tests.bench.bench_board --only startup --folder /tmp/board-bench [--repeat 9]``,
``python -m tests.bench.bench_board --only cpu --folder /tmp/board-bench [--quick] [--cpu-rounds N]``,
``python -m tests.bench.bench_board --only repaint --folder /tmp/board-bench [--quick]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from shiftboard.adapters._contact_centre import DAY_CURVE
from tests.bench import bench_metrics

ROOT = Path(__file__).resolve().parents[2]
EXTRA_OPEN = 7_000
#: The ``[[sources]]`` table of a config whose board collects the built-in simulator in-process.
SIMULATOR_SOURCE = '[[sources]]\nname = "simulator"\nkind = "simulator"\n'
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Starts of each app in the start-up figures (alternated; the figure is the median).
STARTS = 9

BARE_APP = textwrap.dedent(
    """
    import os, sys, time
    from textual.app import App
    from textual.widgets import Label

    class Bare(App):
        def compose(self):
            yield Label("hello")

        def on_mount(self):
            self.count = 0
            self.set_interval(2.0, self.bump)
            self.call_after_refresh(self.painted)

        def bump(self):
            self.count += 1
            self.query_one(Label).update(f"hello {self.count}")

        def painted(self):
            with open(os.environ["SHIFTBOARD_BENCH_FIRST_PAINT"], "w") as out:
                out.write(f"{time.time():.6f}\\n")

    Bare().run()
    """
)


#: The bare app after importing pydantic-settings and validating a one-field BaseSettings: the part of any board's
#: start-up that the fixed stack (pydantic-settings for the configuration) sets before it can know its cache.
BARE_SETTINGS_APP = (
    textwrap.dedent(
        """
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class Settings(BaseSettings):
        model_config = SettingsConfigDict(env_prefix="BARE_")
        label: str = "hello"

    Settings()
    """
    )
    + BARE_APP
)


def _bare_apps(folder: Path) -> tuple[Path, Path]:
    bare, bare_settings = folder / "bare_app.py", folder / "bare_settings_app.py"
    bare.write_text(BARE_APP, encoding="utf-8")
    bare_settings.write_text(BARE_SETTINGS_APP, encoding="utf-8")
    return bare, bare_settings


def _config(folder: Path, cache: Path, sources: str = "", name: str = "sources") -> Path:
    """A config for ``cache``; without ``sources`` (TOML tables) it says ``sources = []``: a viewer, no collector.
    ``name`` tells apart the files of configs with different sources for the same cache."""
    # A config with sources must not overwrite the viewer's config of the same cache (it did, in one run).
    path = folder / f"config-{cache.stem}{'-' + name if sources else ''}.toml"
    sla = "".join(
        f"\n[metrics.sla.{p}]\nfirst_reply_min = {v['first_reply_min']}\nresolution_min = {v['resolution_min']}\n"
        + ("business_hours = true\n" if v.get("business_hours") else "")
        for p, v in bench_metrics.SETTINGS.model_dump()["sla"].items()
        if v
    )
    viewer = "" if sources else "sources = []\n\n"
    # A board with sources runs the collector, which prunes history older than retention_days from today; the bench
    # cache is dated (bench_metrics.AT), so the default 90 days would delete a share of it that grows with the
    # calendar (86 % on 2026-11-23: 17 s of CPU in the first minute, and a 150k cache afterwards).
    retention = "retention_days = 36500\n" if sources else ""
    path.write_text(
        f'{viewer}[cache]\npath = "{cache}"\n{retention}\n[board]\nrefresh_s = 2.0\n\n'
        f'[metrics]\ntimezone = "UTC"\n{sla}\n{sources}',
        encoding="utf-8",
    )
    return path


def build_cache(folder: Path) -> tuple[Path, float]:
    cache = folder / "board-1M.sqlite"
    started = time.perf_counter()
    bench_metrics.build(cache, 1_000_000)
    conn = sqlite3.connect(cache)
    with conn:
        conn.executemany(
            "INSERT INTO cases (source, id, queue, status, priority, created_at, channel, subject, customer,"
            " updated_at, agent_replies, reopens) VALUES ('bench', ?, ?, 'open', 'normal', ?, 'email', ?, ?, ?, 0, 0)",
            (
                (f"more{j}", bench_metrics.QUEUES[j % 5], created, f"More {j}", f"c{j}", created)
                for j in range(EXTRA_OPEN)
                for created in (bench_metrics.AT - 60 - j * 30,)
            ),
        )
    conn.close()
    return cache, time.perf_counter() - started


# -- processes in a pseudo-terminal ------------------------------------------------------------------------------


class Terminal:
    """A process on an 80×24 pseudo-terminal whose output is drained (and thrown away) by a thread."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.started = time.time()
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self.master = master
        self.cpu_at_paint = 0.0
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        try:
            while os.read(self.master, 65536):
                pass
        except OSError:
            pass

    def cpu_s(self) -> float:
        """CPU seconds of the process and of its children it has waited for (the board's forked first read)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15]) / CLK_TCK  # utime, stime, cutime, cstime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


def _env(mark: Path) -> dict[str, str]:
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    env["SHIFTBOARD_BENCH_FIRST_PAINT"] = str(mark)
    env.pop("TEXTUAL", None)
    return env


def _wait_for(mark: Path, terminal: Terminal, timeout: float) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if mark.exists() and mark.read_text().endswith("\n"):
            return float(mark.read_text())
        if terminal.process.poll() is not None:
            raise RuntimeError(f"{terminal.process.args} ended with {terminal.process.returncode} before painting")
        time.sleep(0.005)
    raise RuntimeError(f"no first paint from {terminal.process.args} within {timeout} s")


def board_argv(config: Path, at: float | None) -> list[str]:
    argv = [sys.executable, "-m", "shiftboard", "--config", str(config)]
    if at is not None:
        argv += ["--at", datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
    return argv


def start_once(argv: list[str], folder: Path, timeout: float = 60.0) -> tuple[float, Terminal]:
    mark = folder / "first-paint"
    mark.unlink(missing_ok=True)
    terminal = Terminal(argv, _env(mark))
    painted = _wait_for(mark, terminal, timeout)
    # CPU seconds the process had used when it painted (read within a few ms of the mark): what start-up costs
    # apart from waiting for a CPU on a loaded machine.
    terminal.cpu_at_paint = terminal.cpu_s()
    return painted - terminal.started, terminal


def startup(folder: Path, config: Path, bares: tuple[Path, Path], repeat: int) -> dict[str, list[float]]:
    apps = (
        (board_argv(config, bench_metrics.AT), "board"),
        ([sys.executable, str(bares[0])], "bare"),
        ([sys.executable, str(bares[1])], "settings"),
    )
    out: dict[str, list[float]] = {key: [] for _, name in apps for key in (name, f"{name}_cpu")}
    for _ in range(repeat):
        for argv, name in apps:
            seconds, terminal = start_once(argv, folder)
            terminal.stop()
            out[name].append(seconds)
            out[f"{name}_cpu"].append(terminal.cpu_at_paint)
    return out


def simulator_synced(cache: Path, terminal: Terminal, timeout: float = 120.0) -> float:
    """Wait until the simulator's first fetch is all in ``cache`` (its cursor no longer mid-sequence); the seconds
    waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if terminal.process.poll() is not None:
            raise RuntimeError(f"{terminal.process.args} ended with {terminal.process.returncode}")
        try:
            conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
            try:
                row = conn.execute("SELECT cursor FROM sync_state WHERE source = 'simulator'").fetchone()
            finally:
                conn.close()
        except sqlite3.OperationalError:  # no sync_state table yet
            row = None
        if row and row[0] and json.loads(row[0]).get("page") is None:
            return time.perf_counter() - started
        time.sleep(0.05)
    raise RuntimeError(f"the simulator's first fetch was not in {cache} within {timeout} s")


@contextlib.contextmanager
def helpdesk_source(every_s: float = 10.0) -> Iterator[str]:
    """A Freshdesk emulator on loopback (tests/emulators) that gains an open ticket every ``every_s`` seconds while
    the block runs; yields the ``[[sources]]`` table of a board polling it every 30 s (the adapters' default)."""
    from tests.bench.bench_freshness import TOKEN_ENV, _ticket
    from tests.emulators.freshdesk import FreshdeskEmulator
    from tests.emulators.server import EmulatorServer

    emulator = FreshdeskEmulator(now=time.time()).seed(count=120)
    stop = threading.Event()

    def add_tickets() -> None:
        ident = 800_000
        while not stop.wait(every_s):
            ident += 1
            emulator.tickets.append(_ticket(ident, time.time()))

    saved_token = os.environ.get(TOKEN_ENV)
    os.environ[TOKEN_ENV] = emulator.api_key  # the board's environment is this process's (Terminal)
    adder = threading.Thread(target=add_tickets, daemon=True)
    try:
        with EmulatorServer(emulator) as server:
            adder.start()
            yield (
                f'[[sources]]\nname = "fd"\nkind = "freshdesk"\nurl = "{server.url}"\n'
                f'token_env = "{TOKEN_ENV}"\ninitial_days = 90\n'
            )
    finally:
        stop.set()
        if saved_token is None:
            os.environ.pop(TOKEN_ENV, None)
        else:
            os.environ[TOKEN_ENV] = saved_token


def left_open(argv: list[str], folder: Path, seconds: float, simulator_cache: Path | None = None) -> dict[str, float]:
    """CPU share of one core and RSS of a process left open for ``seconds`` after it painted and settled: 5 s, after
    the simulator's first fetch is in ``simulator_cache`` when given. ``settle_s``/``settle_cpu_s``/``rss_paint``: the
    wall seconds, CPU seconds and VmRSS from the first paint to the start of the measured span."""
    _, terminal = start_once(argv, folder)
    try:
        rss_paint, t_paint = terminal.rss_mb(), time.perf_counter()
        if simulator_cache is not None:
            simulator_synced(simulator_cache, terminal)
        time.sleep(5.0)
        cpu0, rss0, t0 = terminal.cpu_s(), terminal.rss_mb(), time.perf_counter()
        time.sleep(seconds)
        cpu1, rss1, t1 = terminal.cpu_s(), terminal.rss_mb(), time.perf_counter()
    finally:
        terminal.stop()
    return {
        "cpu_pct": (cpu1 - cpu0) / (t1 - t0) * 100,
        "rss0": rss0,
        "rss1": rss1,
        "rss_paint": rss_paint,
        "settle_s": t0 - t_paint,
        "settle_cpu_s": cpu0 - terminal.cpu_at_paint,
    }


class OpenBoard(NamedTuple):
    """A board of the CPU rows: what it shows, and how it is started."""

    label: str
    #: None for a viewer (``sources = []``); else a factory of a context giving its ``[[sources]]`` TOML, called
    #: once per round (``helpdesk_source`` serves a new emulator each time).
    sources: Callable[[], contextlib.AbstractContextManager[str]] | None
    #: ``--at``, or None for a live board.
    at: float | None
    #: Tells its config apart from the other collecting board's (``_config``); "simulator" also means that its
    #: settling waits for the simulator's first sync.
    name: str = ""
    #: For a viewer on a fresh copy of the cache: writes what it shows into the copy before it starts.
    prepare: Callable[[Path], None] | None = None


def caller_waiting(cache: Path) -> None:
    """Stores in ``cache`` one call offered 20 s ago that nobody answers: the longest wait then ticks every second
    (m:ss), what the simulator's board does only while its model has a caller waiting."""
    from shiftboard.model import Batch, Contact
    from shiftboard.store import Store

    now = time.time()
    with Store(cache) as store:
        call = Contact(source="bench-waiting", id="waiting-1", queue=bench_metrics.QUEUES[0], offered_at=now - 20)
        store.write_batch("bench-waiting", "files", Batch(contacts=[call]), None, now)


OPEN_BOARDS = (
    OpenBoard(
        "board fixed at a moment (--at), no source: reads again only when the cache changes", None, bench_metrics.AT
    ),
    OpenBoard("live board, no source of its own (a viewer): recomputes every figure every 2 s", None, None),
    OpenBoard(
        "live viewer with a caller waiting: its longest wait ticks every second, a screen update each time",
        None,
        None,
        prepare=caller_waiting,
    ),
    OpenBoard(
        "live board collecting a helpdesk API in-process (Freshdesk emulator on loopback, polled every 30 s, "
        "a new ticket every 10 s): a wall board's usual set-up",
        helpdesk_source,
        None,
        "api",
    ),
    OpenBoard(
        "live board with the simulator collecting in-process (the default without config)",
        lambda: contextlib.nullcontext(SIMULATOR_SOURCE),
        None,
        "simulator",
    ),
    OpenBoard(
        "the same at the model's busiest hour (its time zone chosen each round so that the run falls in 10:00–11:00 "
        "local): the most contacts a minute, and callers often waiting, so the longest wait ticks",
        lambda: contextlib.nullcontext(busy_simulator_source(busy_hour_zone())),
        None,
        "simulator-busy",
    ),
)


def busy_hour_zone(now: float | None = None) -> str:
    """A fixed-offset zone (``Etc/GMT±N``) in which ``now`` (default: the present) falls in the simulator's busiest
    local hour, the peak of its day curve. The CPU of a board that collects the simulator follows the model's hour:
    measured at whatever hour the bench runs, a quiet night hid a busy morning's cost."""
    busiest = DAY_CURVE.index(max(DAY_CURVE))
    hour = datetime.fromtimestamp(time.time() if now is None else now, UTC).hour
    offset = (busiest - hour + 12) % 24 - 12  # -12..+11 hours: the range Etc/GMT zones cover
    return f"Etc/GMT{-offset:+d}"  # Etc/GMT signs are POSIX's: Etc/GMT+2 is two hours behind UTC


def busy_simulator_source(zone: str) -> str:
    """The ``[[sources]]`` table of SIMULATOR_SOURCE with the model's day in ``zone``."""
    return SIMULATOR_SOURCE + f'timezone = "{zone}"\n'


def cpu_plan(quick: bool, rounds: int | None = None) -> tuple[float, int]:
    """The CPU rows' span (seconds) and rounds: 3 rounds of 60 s, 1 of 20 s when quick; ``rounds`` when given."""
    return (20.0, rounds or 1) if quick else (60.0, rounds or 3)


def fresh_copy(cache: Path, copy: Path) -> None:
    """``copy`` made anew from ``cache`` (which no process may have open), and on disk before this returns."""
    # A WAL or shared-memory file left by an earlier copy's board (killed when it did not stop) would be applied to
    # the new copy: it belongs to another database.
    for leftover in (copy, copy.with_name(copy.name + "-wal"), copy.with_name(copy.name + "-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(cache, copy)
    wal = cache.with_name(cache.name + "-wal")
    if wal.exists():  # commits not yet checkpointed into the cache's file are part of it
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
    # Written back now, not by the kernel during the next board's measured span (600 MB on a 2-CPU host).
    with copy.open("rb") as written:
        os.fsync(written.fileno())


def _per_round(values: list[float], digits: int = 2) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def cpu_rows(
    folder: Path, cache: Path, config: Path, bare: Path, span: float, rounds: int, note_cache: str
) -> list[dict]:
    """CPU left open: ``rounds`` rounds, each the bare app then each of ``OPEN_BOARDS`` left open ``span`` seconds,
    one at a time; a board's ratio is to the bare app of the same round, and its row gives the medians.

    ``config`` is the viewer's config of ``cache``, which no board here writes: the boards that collect write into a
    fresh copy of it in ``folder``, made before each of them starts. Collecting into ``cache`` itself would leave the
    simulator's cursor there, and the next board to collect it (the next round, or a later run on a kept cache)
    would skip its first sync (``simulator_synced`` at once) and re-simulate its run up to that cursor inside the
    measured span; the helpdesk source's tickets would also join the open cases that the viewers and the start-up
    figures count."""
    copy = folder / "collecting.sqlite"
    span_text = f"{rounds} round{'s' if rounds > 1 else ''} of {span:.0f} s"
    bare_runs: list[dict[str, float]] = []
    board_runs: list[list[dict[str, float]]] = [[] for _ in OPEN_BOARDS]
    loads: list[float] = []
    for _ in range(rounds):
        loads.append(os.getloadavg()[0])
        bare_runs.append(left_open([sys.executable, str(bare)], folder, span))
        for board, runs in zip(OPEN_BOARDS, board_runs, strict=True):
            if board.prepare is not None:
                fresh_copy(cache, copy)
                board.prepare(copy)
                runs.append(left_open(board_argv(_config(folder, copy), board.at), folder, span))
                continue
            if board.sources is None:
                runs.append(left_open(board_argv(config, board.at), folder, span))
                continue
            fresh_copy(cache, copy)
            with board.sources() as table:
                board_config = _config(folder, copy, table, name=board.name)
                synced = copy if board.name.startswith("simulator") else None
                runs.append(left_open(board_argv(board_config, board.at), folder, span, synced))
    bare_cpu = [run["cpu_pct"] for run in bare_runs]
    rows: list[dict] = [
        {
            "figure": f"CPU of a bare Textual app with a 2 s timer updating its label, {span_text}",
            "value": f"{statistics.median(bare_cpu):.2f} % of one core",
            "goal": "",
            "note": f"median; each round this app, then each board below, one at a time; per round: "
            f"{_per_round(bare_cpu)} %; load average (1 min) at each round's start: {_per_round(loads, 1)}; "
            f"VmRSS {bare_runs[-1]['rss1']:.0f} MB in the last round",
        }
    ]
    for board, runs in zip(OPEN_BOARDS, board_runs, strict=True):
        cpu = [run["cpu_pct"] for run in runs]
        ratios = [
            run["cpu_pct"] / bare["cpu_pct"] if bare["cpu_pct"] else float("inf")
            for run, bare in zip(runs, bare_runs, strict=True)
        ]
        last = runs[-1]
        settled = (
            f"measured from {_per_round([run['settle_s'] for run in runs], 1)} s after the first paint: the "
            f"simulator's first sync and 5 s, which used {_per_round([run['settle_cpu_s'] for run in runs])} s of "
            f"CPU and took VmRSS from {last['rss_paint']:.0f} MB in the last round; "
            if board.name.startswith("simulator")
            else ""
        )
        copied = "on a fresh copy of the cache each round; " if board.sources or board.prepare else ""
        rows.append(
            {
                "figure": f"CPU left open, {span_text}: {board.label}",
                "value": f"{statistics.median(cpu):.2f} % of one core ({statistics.median(ratios):.2f}× the bare "
                "app, median of each round's ratio)",
                "goal": "< 2 % and < 1.5× the bare app",
                "note": "per round: "
                + ", ".join(f"{c:.2f} % ({q:.2f}×)" for c, q in zip(cpu, ratios, strict=True))
                + f"; {settled}{copied}{note_cache}; VmRSS {last['rss0']:.0f} → {last['rss1']:.0f} MB in the "
                "last round",
            }
        )
    return rows


# -- in-process: refresh, drill, freshness ---------------------------------------------------------------------


def refresh_ms(config: Path, repeat: int = 9) -> float:
    from shiftboard.config import load_settings
    from shiftboard.store import Store
    from shiftboard.tui.readmodel import read_board

    settings = load_settings(config)
    with Store(settings.cache.resolved_path(), readonly=True) as store:
        read_board(store, settings, settings.source_settings(), bench_metrics.AT)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            read_board(store, settings, settings.source_settings(), bench_metrics.AT)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _until(pilot, condition, limit_s: float = 60.0) -> None:
    deadline = time.perf_counter() + limit_s
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError("condition not reached in time")
        await pilot.pause(0.002)


def drill_ms(config: Path, repeat: int) -> tuple[list[float], int]:
    from shiftboard.config import load_settings
    from shiftboard.store import Store
    from shiftboard.tui.app import ShiftboardApp
    from shiftboard.tui.screens.board import BoardScreen
    from shiftboard.tui.screens.rows import RowsScreen
    from shiftboard.tui.widgets.row_table import RowTable
    from shiftboard.tui.widgets.tile import Tile

    settings = load_settings(config)
    times: list[float] = []
    total = 0
    painted: list[float] = []
    fill = RowsScreen._fill

    def timed_fill(screen: RowsScreen, *args, **kwargs) -> None:
        # Instrumentation: the moment the first rows given to the table have been painted.
        fill(screen, *args, **kwargs)
        if not painted and screen.query_one(RowTable).row_count:
            screen.app.call_after_refresh(lambda: painted or painted.append(time.perf_counter()))

    RowsScreen._fill = timed_fill  # type: ignore[method-assign]

    async def go() -> None:
        nonlocal total
        with Store(settings.cache.resolved_path()) as store:
            app = ShiftboardApp(settings, store, [], at=bench_metrics.AT)
            async with app.run_test(size=(120, 40)) as pilot:
                await _until(pilot, lambda: app.data is not None)
                for _ in range(repeat):
                    tile = next(t for t in app.screen.query(Tile) if t.figure.id == "backlog_open")
                    tile.focus()
                    await pilot.pause()
                    painted.clear()
                    started = time.perf_counter()
                    await pilot.press("enter")
                    await _until(pilot, lambda: bool(painted))
                    times.append((painted[0] - started) * 1000)
                    screen = app.screen
                    await _until(pilot, lambda s=screen: s.loaded)
                    total = len(screen.rows)
                    await pilot.press("escape")
                    await _until(pilot, lambda: isinstance(app.screen, BoardScreen))

    try:
        asyncio.run(go())
    finally:
        RowsScreen._fill = fill  # type: ignore[method-assign]
    return times, total


def repaint_ms(config: Path, updates: int, rounds: int = 3) -> dict[tuple[bool, str], list[float]]:
    """Main-thread CPU of one screen update (``Screen._compositor_refresh``) after a change to one tile, and to the
    first and last tiles at once, on the board at 100×30, with the board's compositor (tui/compositor.py) and with
    Textual's own (its ``narrow`` off), alternated in rounds: {(narrow, change): each round's mean, ms}."""
    from textual.screen import Screen

    from shiftboard.config import load_settings
    from shiftboard.store import Store
    from shiftboard.tui.app import ShiftboardApp
    from shiftboard.tui.figures import State

    settings = load_settings(config)
    spent = [0.0, 0]
    refresh = Screen._compositor_refresh

    def timed(screen: Screen) -> None:
        started = time.thread_time()
        refresh(screen)
        spent[0] += time.thread_time() - started
        spent[1] += 1

    results: dict[tuple[bool, str], list[float]] = {}

    async def go() -> None:
        with Store(settings.cache.resolved_path()) as store:
            app = ShiftboardApp(settings, store, [], at=bench_metrics.AT)
            async with app.run_test(size=(100, 30)) as pilot:
                await _until(pilot, lambda: app.data is not None)
                await pilot.pause()
                board = app.screen
                tiles = board.tiles  # type: ignore[attr-defined]
                changes = {"one tile": [tiles[3]], "first and last tiles": [tiles[0], tiles[-1]]}
                for number in range(rounds):
                    for narrow in (True, False) if number % 2 == 0 else (False, True):
                        board._compositor.narrow = narrow
                        for change, changed in changes.items():
                            spent[:] = [0.0, 0]
                            for i in range(updates):
                                for tile in changed:
                                    tile.show(f"{i // 60}:{i % 60:02d}", State.OK)
                                await pilot.pause()
                            results.setdefault((narrow, change), []).append(spent[0] / max(spent[1], 1) * 1000)

    Screen._compositor_refresh = timed  # type: ignore[method-assign]
    try:
        asyncio.run(go())
    finally:
        Screen._compositor_refresh = refresh  # type: ignore[method-assign]
    return results


def repaint_row(results: dict[tuple[bool, str], list[float]]) -> dict:
    def figure(narrow: bool, change: str) -> str:
        return f"{statistics.median(results[narrow, change]):.2f} ms"

    def rounds(narrow: bool, change: str) -> str:
        return ", ".join(f"{ms:.2f}" for ms in results[narrow, change])

    return {
        "figure": "screen update after a change to one tile / to the first and last tiles (main thread, 100×30)",
        "value": f"{figure(True, 'one tile')} / {figure(True, 'first and last tiles')}",
        "goal": "(part of the CPU left open)",
        "note": f"Textual's own compositor: {figure(False, 'one tile')} / {figure(False, 'first and last tiles')}; "
        f"median of {len(results[True, 'one tile'])} rounds of updates, the two alternated; per round, ours "
        f"{rounds(True, 'one tile')} / {rounds(True, 'first and last tiles')}, Textual's "
        f"{rounds(False, 'one tile')} / {rounds(False, 'first and last tiles')}",
    }


def freshness_files(folder: Path, writes: int) -> tuple[list[float], float]:
    """Seconds from appending a waiting contact to a watched JSON Lines file to the board figure counting it: for
    ``writes`` appends once the source has synced, and for one append made as soon as the first read is shown."""
    from shiftboard.config import load_settings
    from shiftboard.store import Store
    from shiftboard.tui.app import ShiftboardApp

    feed = folder / "feed"
    feed.mkdir()
    source = feed / "contacts.jsonl"
    source.write_text("", encoding="utf-8")
    cache = folder / "fresh.sqlite"
    source_toml = f'[[sources]]\nname = "files"\nkind = "files"\npath = "{feed}/*.jsonl"\ninterval_s = 1.0\n'
    config = _config(folder, cache, source_toml)
    settings = load_settings(config)
    lags: list[float] = []

    async def go() -> None:
        with Store(cache) as store:
            app = ShiftboardApp(settings, store, settings.source_settings())
            async with app.run_test(size=(120, 40)) as pilot:
                await _until(pilot, lambda: app.data is not None)

                def waiting() -> int:
                    figures = app.data.figures(None) if app.data else {}
                    return (figures.get("contacts") or {}).get("waiting_now") or 0

                # The collector starts once the first read is shown: a change made then waits for its first sync.
                # Measured apart from the steady state, which begins once the source has synced.
                for n in range(-1, writes):
                    if n == 0:
                        await _until(pilot, lambda: any(item.status == "ok" for item in app.data.health))
                    await pilot.pause(0.37 * (n % 3) if n >= 0 else 0)  # land at different points of the interval
                    before = waiting()
                    now = time.time()
                    record = {
                        "type": "contact",
                        "id": f"w{n}",
                        "queue": "Billing",
                        "channel": "voice",
                        "offered_at": datetime.fromtimestamp(now - 5, UTC).isoformat(),
                    }
                    with source.open("a", encoding="utf-8") as out:
                        out.write(json.dumps(record) + "\n")
                    started = time.perf_counter()
                    await _until(pilot, lambda b=before: waiting() > b, limit_s=30)
                    painted = asyncio.get_running_loop().create_future()
                    app.call_after_refresh(lambda f=painted: f.done() or f.set_result(time.perf_counter()))
                    lags.append(await painted - started)

    asyncio.run(go())
    return lags[1:], lags[0]


class SimulatorFreshness(NamedTuple):
    """What ``freshness_simulator`` saw: seconds per commit, by kind, and the time to the first board."""

    lags: list[float]  # once the first sync is in: commits that brought records, success → frame painted
    catch_up_lags: list[float]  # the first sync's later pages (the model's day so far), success → frame painted
    idle_lags: list[float]  # idle polls' writes: success → the first read that shows it
    first: float
    zone: str  # the model's time zone (busy_hour_zone at the start)


def freshness_simulator(folder: Path, seconds: float) -> SimulatorFreshness:
    """Seconds from each commit of a simulator page that brought records (its ``last_success_at`` in the cache) to
    the first frame painted after a board read that includes it, with the model at its busiest hour
    (``busy_hour_zone``), so that its events come often.

    Kept apart: the first sync's later pages, the model's day up to now committed in steps after the first board
    (each a large read); and idle polls' writes, which carry only the time of success and are not announced to the
    board (``SourceRunner.on_commit``): they change no figure, and the board shows them at its next timed read.
    Commits are seen in the cache itself (a read-only connection polled every 5 ms beside the board), so a commit
    that a later one overtakes before the board reads still counts, from its own time.
    """
    from shiftboard.config import load_settings
    from shiftboard.store import Store
    from shiftboard.tui.app import ShiftboardApp

    cache = folder / "sim.sqlite"
    zone = busy_hour_zone()
    config = _config(folder, cache, busy_simulator_source(zone))
    settings = load_settings(config)
    kinds: dict[str, list[float]] = {"change": [], "catch-up": [], "idle": []}
    first: list[float] = []

    async def go() -> None:
        with Store(cache) as store:
            app = ShiftboardApp(settings, store, settings.source_settings())
            started = time.perf_counter()
            async with app.run_test(size=(120, 40)) as pilot:
                await _until(pilot, lambda: app.data is not None and bool(app.data.queue_names), limit_s=120)
                first.append(time.perf_counter() - started)
                watch = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
                try:
                    query = "SELECT last_success_at, records_total + skipped_total, cursor FROM sync_state"
                    seen = watch.execute(query).fetchone()  # the commits before it are not followed
                    pending: list[tuple[float, str]] = []  # (success, kind) not yet on the board
                    deadline = time.perf_counter() + seconds
                    while time.perf_counter() < deadline:
                        state = watch.execute(query).fetchone()
                        if state is not None and (seen is None or state[:2] != seen[:2]):
                            pending.append((state[0], _commit_kind(seen, state)))
                            seen = state
                        data = app.data
                        shown = data.health[0].last_success_at if data and data.health else None
                        ready = [item for item in pending if shown is not None and item[0] <= shown]
                        if ready:
                            pending = [item for item in pending if item not in ready]
                            read_at = painted_at = time.time()
                            if any(kind != "idle" for _, kind in ready):
                                painted = asyncio.get_running_loop().create_future()
                                app.call_after_refresh(lambda f=painted: f.done() or f.set_result(time.time()))
                                painted_at = await painted
                            for success, kind in ready:
                                kinds[kind].append((read_at if kind == "idle" else painted_at) - success)
                        await pilot.pause(0.005)
                finally:
                    watch.close()

    asyncio.run(go())
    return SimulatorFreshness(kinds["change"], kinds["catch-up"], kinds["idle"], first[0], zone)


def _commit_kind(before: tuple | None, after: tuple) -> str:
    """What a commit of the simulator was, from its ``sync_state`` row (success, records and skipped, cursor) before
    and after: "idle" (it brought nothing), "catch-up" (a later page of a long fetch: the cursor before it was
    mid-sequence) or "change"."""
    if before is None:
        return "change"
    if after[1] == before[1]:
        return "idle"
    if json.loads(before[2] or "{}").get("page") is not None:
        return "catch-up"
    return "change"


def apart_note(sim: SimulatorFreshness) -> str:
    """The note on the commits freshness_simulator keeps apart from the figure: the first sync's later pages and idle
    polls' writes."""

    def spread(lags: list[float]) -> str:
        return mean_max_ms(lags) if lags else "none"

    return (
        f"in the model's busiest hour ({sim.zone}); kept apart: {len(sim.catch_up_lags)} later pages of the first "
        f"sync (the model's day so far, after the first board) {spread(sim.catch_up_lags)}; {len(sim.idle_lags)} "
        f"idle polls' writes (their time of success alone, not announced, shown at the next timed read, every 2 s) "
        f"{spread(sim.idle_lags)}"
    )


def mean_max_ms(seconds: list[float]) -> str:
    """Mean and max of ``seconds``, in milliseconds."""
    return f"{statistics.mean(seconds) * 1000:.0f} ms mean, {max(seconds) * 1000:.0f} ms max"


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ms"


def startup_rows(runs: dict[str, list[float]], note_cache: str) -> list[dict]:
    """The start-up figures of ``startup``'s runs: board, bare app, CPU to first paint, and the ratio."""
    rows: list[dict] = []
    boards, bares = runs["board"], runs["bare"]
    board_s, bare_s = statistics.median(boards), statistics.median(bares)
    board_cpu, bare_cpu = statistics.median(runs["board_cpu"]), statistics.median(runs["bare_cpu"])
    rows.append(
        {
            "figure": "start to first filled board, 1M cache (viewer, no source)",
            "value": f"{board_s:.2f} s",
            "goal": "< 1.0 s",
            "note": f"median of {len(boards)} in a pty; runs: "
            + ", ".join(f"{s:.2f}" for s in boards)
            + f"; {note_cache}",
        }
    )
    rows.append(
        {
            "figure": "bare Textual app with one Label, start to first paint",
            "value": f"{bare_s:.2f} s",
            "goal": "",
            "note": "same pty, alternated with the board; runs: " + ", ".join(f"{s:.2f}" for s in bares),
        }
    )
    settings_s = statistics.median(runs["settings"])
    rows.append(
        {
            "figure": "bare app that first imports pydantic-settings and validates a one-field BaseSettings",
            "value": f"{settings_s:.2f} s ({settings_s / bare_s:.2f}× the bare app)",
            "goal": "",
            "note": "what the fixed stack's configuration library alone adds before a board can know its cache; "
            "runs: " + ", ".join(f"{s:.2f}" for s in runs["settings"]),
        }
    )
    rows.append(
        {
            "figure": "CPU seconds to first paint: board / bare app",
            "value": f"{board_cpu:.2f} s / {bare_cpu:.2f} s (ratio {board_cpu / bare_cpu:.2f})",
            "goal": "",
            "note": "utime+stime of the process and its waited-for children (the board's first read runs in a "
            "forked child) when it painted, medians; independent of the machine's load",
        }
    )
    rows.append(
        {
            "figure": "start-up ratio board / bare app",
            "value": f"{board_s / bare_s:.2f}",
            "goal": "< 1.5",
            "note": "medians above",
        }
    )
    return rows


def run(quick: bool, cpu_rounds: int | None = None) -> list[dict]:
    rows: list[dict] = []
    load = []
    with tempfile.TemporaryDirectory(prefix="shiftboard-bench-") as tmp:
        folder = Path(tmp)
        cache, built = build_cache(folder)
        config = _config(folder, cache)
        bare, bare_settings = _bare_apps(folder)
        note_cache = f"1M cache + {EXTRA_OPEN:,} more open cases (built in {built:.0f} s)"

        load.append(os.getloadavg()[0])
        # 9 starts of each app: a start is 0.2–0.3 s, and a few seconds of the shared host's noise can slow three in
        # a row (all three apps alike, the heavier board the most), which a median of 5 does not outvote.
        rows += startup_rows(startup(folder, config, (bare, bare_settings), 3 if quick else STARTS), note_cache)

        empty = folder / "first-run.sqlite"
        sim_config = _config(folder, empty, SIMULATOR_SOURCE)
        seconds, terminal = start_once(board_argv(sim_config, None), folder, timeout=120)
        history_s = seconds + simulator_synced(empty, terminal)
        terminal.stop()
        rows.append(
            {
                "figure": "start to first filled board, first run with the simulator (empty cache)",
                "value": f"{seconds:.2f} s",
                "goal": "< 1.0 s",
                "note": "the simulator's first fetch simulates from 12 h before UTC midnight (12–36 h) and commits "
                f"it in 4 h steps: the board paints after the first; all were in {history_s:.2f} s after start",
            }
        )

        load.append(os.getloadavg()[0])
        rows.append(
            {
                "figure": "one full refresh (read_board: compute + health), 1M cache",
                "value": f"{refresh_ms(config):.1f} ms",
                "goal": "< 50 ms",
                "note": "median of 9 after a warm-up",
            }
        )

        drills, total = drill_ms(config, 3 if quick else 5)
        rows.append(
            {
                "figure": f"Enter on 'Open cases' ({total:,} rows) to the first rows painted",
                "value": _ms(drills),
                "goal": "< 300 ms",
                "note": "Pilot 120×40; runs: " + ", ".join(f"{t:.0f}" for t in drills) + " ms",
            }
        )

        rows.append(repaint_row(repaint_ms(config, 100 if quick else 300)))

        lags, first_lag = freshness_files(folder, 6 if quick else 12)
        rows.append(
            {
                "figure": "freshness, files source (interval 1 s): line appended to figure on screen",
                "value": f"{statistics.mean(lags):.2f} s mean, {max(lags):.2f} s max",
                "goal": "< 1 s",
                "note": f"{len(lags)} appends at different points of the poll interval, once the source has synced; "
                f"one appended as soon as the first read was shown, before the collector had started: "
                f"{first_lag:.2f} s",
            }
        )
        sim = freshness_simulator(folder, 15 if quick else 30)
        if sim.lags:
            rows.append(
                {
                    "figure": "freshness, simulator: page committed to figure on screen",
                    "value": mean_max_ms(sim.lags),
                    "goal": "< 1 s (a poll just after each model event)",
                    "note": f"{len(sim.lags)} commits that brought records; add up to 0.5 s (the simulator's shortest "
                    f"gap between polls) for an event in the model; HTTP sources take the same path (goal: poll + "
                    f"250 ms); {apart_note(sim)}; first board {sim.first:.1f} s",
                }
            )

        load.append(os.getloadavg()[0])
        rows += cpu_rows(folder, cache, config, bare, *cpu_plan(quick, cpu_rounds), note_cache)
        load.append(os.getloadavg()[0])
    rows.append(_load_row("load average during this module", load))
    return rows


def kept_cache(folder: Path) -> tuple[Path, str]:
    """The 1M cache kept in ``folder`` (built there the first time, ~30 s, then reused) and the note saying which."""
    folder.mkdir(parents=True, exist_ok=True)
    cache, built_mark = folder / "board-1M.sqlite", folder / "board-1M.built"
    if built_mark.exists():
        # Kept from an older shiftboard, its schema may be older: a viewer (read-only) would refuse it, so migrate.
        from shiftboard.store import Store

        Store(cache).close()
        return cache, f"1M cache + {EXTRA_OPEN:,} more open cases (reused from {folder})"
    cache.unlink(missing_ok=True)  # a build that was interrupted
    cache, built = build_cache(folder)
    built_mark.write_text(f"{built:.0f} s\n", encoding="utf-8")
    return cache, f"1M cache + {EXTRA_OPEN:,} more open cases (built in {built:.0f} s)"


def _load_row(figure: str, load: list[float]) -> dict:
    return {
        "figure": figure,
        "value": ", ".join(f"{x:.1f}" for x in load),
        "goal": "",
        "note": f"{os.cpu_count()} CPUs, shared with other work",
    }


def run_startup(folder: Path, repeat: int) -> list[dict]:
    """Only the start-up figures, on a 1M cache kept in ``folder`` (``kept_cache``), so a change to start-up can be
    measured again in a minute."""
    cache, note_cache = kept_cache(folder)
    config = _config(folder, cache)
    bares = _bare_apps(folder)
    load = [os.getloadavg()[0]]
    rows = startup_rows(startup(folder, config, bares, repeat), note_cache)
    load.append(os.getloadavg()[0])
    rows.append(_load_row("load average during the start-up runs", load))
    return rows


def run_repaint(folder: Path, quick: bool) -> list[dict]:
    """Only the screen-update figure, on the 1M cache kept in ``folder`` (``kept_cache``)."""
    cache, _ = kept_cache(folder)
    with tempfile.TemporaryDirectory(prefix="shiftboard-bench-") as tmp:
        return [repaint_row(repaint_ms(_config(Path(tmp), cache), 100 if quick else 300))]


def run_cpu(folder: Path, quick: bool, rounds: int | None) -> list[dict]:
    """Only the CPU-left-open figures, on a 1M cache kept in ``folder`` (``kept_cache``). The configs, the bare app
    and the collecting boards' copies of the cache go to a temporary folder: the kept folder stays as it was."""
    cache, note_cache = kept_cache(folder)
    with tempfile.TemporaryDirectory(prefix="shiftboard-bench-") as tmp:
        work = Path(tmp)
        bare, _ = _bare_apps(work)
        load = [os.getloadavg()[0]]
        rows = cpu_rows(work, cache, _config(work, cache), bare, *cpu_plan(quick, rounds), note_cache)
        load.append(os.getloadavg()[0])
    rows.append(_load_row("load average during the CPU runs", load))
    return rows


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and shorter CPU windows")
    parser.add_argument(
        "--only",
        choices=["startup", "cpu", "repaint"],
        help="only the start-up figures, or only the CPU left open (with --folder to keep the cache)",
    )
    parser.add_argument("--folder", type=Path, help="with --only: where the 1M cache is kept between runs")
    parser.add_argument(
        "--repeat", type=int, default=STARTS, help=f"with --only startup: runs of each app (default {STARTS})"
    )
    parser.add_argument(
        "--cpu-rounds",
        type=int,
        metavar="N",
        help="rounds of the CPU left open, each the bare app then the four boards (default 3, 1 when quick)",
    )
    options = parser.parse_args()
    if options.cpu_rounds is not None and options.cpu_rounds < 1:
        parser.error("--cpu-rounds must be at least 1")
    if options.only:
        with tempfile.TemporaryDirectory(prefix="shiftboard-bench-") as tmp:
            folder = options.folder or Path(tmp)
            if options.only == "startup":
                results = run_startup(folder, options.repeat)
            elif options.only == "repaint":
                results = run_repaint(folder, options.quick)
            else:
                results = run_cpu(folder, options.quick, options.cpu_rounds)
    else:
        results = run(quick=options.quick, cpu_rounds=options.cpu_rounds)
    for result in results:
        print(f"{result['figure']}: {result['value']} (goal {result['goal']}; {result['note']})")
