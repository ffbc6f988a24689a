"""Shared parts of the load and soak harnesses: real processes in their own process groups, stopped for sure;
memory and CPU read from /proc; the probe's refresh logs summarized.

Linux only (/proc); the harnesses are run by hand on a Linux machine, not by the test suite.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

#: Seconds a process gets to stop after SIGTERM before its group is killed.
STOP_GRACE_S = 15.0
#: Slack added to the configured interval when judging whether a refresh came on time.
ON_TIME_SLACK_S = 1.0
LOCKED = "database is locked"


@dataclass
class Proc:
    """A started process: its Popen, the name it is reported under, and its stderr file."""

    name: str
    popen: subprocess.Popen[bytes]
    stderr_path: Path
    wrapped: bool = False
    _child: int | None = None

    @property
    def pid(self) -> int:
        """The program's pid: under ``timeout``, timeout's child (what RSS and CPU are read from)."""
        if not self.wrapped:
            return self.popen.pid
        if self._child is None:
            wait_for(lambda: bool(_children(self.popen.pid)) or self.popen.poll() is not None, 30, f"{self.name}")
            children = _children(self.popen.pid)
            self._child = children[0] if children else self.popen.pid
        return self._child


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


@dataclass
class Processes:
    """Every process a harness started; ``stop_all`` ends each one's process group (TERM, then KILL)."""

    started: list[Proc] = field(default_factory=list)
    _files: list[IO[bytes]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], folder: Path, *, limit_s: float | None = None) -> Proc:
        """Start ``argv`` in a session of its own, stderr to ``folder/<name>.stderr``. ``limit_s`` bounds its life
        with coreutils ``timeout`` even if the harness itself is killed -9 and never reaches its finally block."""
        if limit_s is not None:
            argv = ["timeout", "--kill-after=30", f"{limit_s:.0f}", *argv]
        stderr_path = folder / f"{name}.stderr"
        stderr = stderr_path.open("wb")
        self._files.append(stderr)
        # A session of its own: the process and anything it starts form one group we can signal together, and a
        # Ctrl+C at the harness's terminal reaches only the harness, whose finally block then stops the group.
        popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
        proc = Proc(name, popen, stderr_path, wrapped=limit_s is not None)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in self.started:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(timeout=5)
        for handle in self._files:
            handle.close()


@contextlib.contextmanager
def processes() -> Iterator[Processes]:
    group = Processes()
    try:
        yield group
    finally:
        group.stop_all()


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def wait_for(condition: Callable[[], bool], timeout: float, what: str, *, every: float = 0.2) -> None:
    """Poll ``condition`` until it holds; raise after ``timeout`` seconds naming ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting {timeout:.0f} s for {what}")
        time.sleep(every)


def rss_kib(pid: int) -> int | None:
    """Resident set size of ``pid`` in KiB (VmRSS), None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds ``pid`` has used so far."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def cache_bytes(path: Path) -> int:
    """Bytes of the cache file plus its WAL and shared-memory files."""
    total = 0
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            total += Path(str(path) + suffix).stat().st_size
    return total


def machine() -> str:
    """One line about this machine: cores, memory, Python, kernel."""
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return (
        f"{os.cpu_count()} cores (nproc), {mem_kib / 1024 / 1024:.1f} GiB RAM total, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.system()} {platform.release()}"
    )


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile by the nearest-rank method (no interpolation): a value that actually occurred."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def read_refreshes(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a last line cut off by the stop
            out.append(json.loads(line))
    return out


@dataclass
class BoardSummary:
    """What one board's refresh log says."""

    name: str
    refreshes: int
    errors: int
    locked: int
    durations: list[float]
    #: Seconds between the starts of two refreshes: how often a viewer sees the figures move on.
    gaps: list[float]
    max_gap: float
    late: int
    interval: float
    error_samples: list[str]


def summarize_board(name: str, entries: list[dict[str, Any]], since: float, until: float) -> BoardSummary:
    """Refreshes that started within [since, until]. A gap between two starts is late when it exceeds the interval
    plus the earlier refresh's duration plus ``ON_TIME_SLACK_S`` (the next read is scheduled when one ends)."""
    window = [e for e in entries if since <= e["start"] <= until]
    interval = window[0]["interval"] if window else 0.0
    errors = [e["error"] for e in window if e["error"]]
    max_gap, late = 0.0, 0
    gaps = []
    for before, after in itertools.pairwise(window):
        gap = after["start"] - before["start"]
        gaps.append(gap)
        max_gap = max(max_gap, gap)
        if gap > before["interval"] + before["duration"] + ON_TIME_SLACK_S:
            late += 1
    return BoardSummary(
        name=name,
        refreshes=len(window),
        errors=len(errors),
        locked=sum(LOCKED in e for e in errors),
        durations=[e["duration"] for e in window],
        gaps=gaps,
        max_gap=max_gap,
        late=late,
        interval=interval,
        error_samples=sorted(set(errors))[:3],
    )


def count_in_file(path: Path, needles: tuple[str, ...]) -> int:
    """Lines of a log file holding any of ``needles``."""
    if not path.exists():
        return 0
    return sum(any(n in line for n in needles) for line in path.read_text(errors="replace").splitlines())


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def slope_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute; 0 with fewer than two points."""
    if len(points) < 2:
        return 0.0
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    if len(set(xs)) < 2:
        return 0.0
    return statistics.linear_regression(xs, ys).slope * 60


def write_config(folder: Path, *, speed: float, refresh_s: float, import_glob: Path | None = None) -> Path:
    """A config in ``folder``: a cache beside it, the simulator at ``speed``, and a files source on ``import_glob``."""
    files = (
        f'\n[[sources]]\nname = "import"\nkind = "files"\npath = "{import_glob}"\n' if import_glob is not None else ""
    )
    config = folder / "shiftboard.toml"
    config.write_text(
        f'[cache]\npath = "{folder / "cache.sqlite"}"\n\n[board]\nrefresh_s = {refresh_s}\n\n'
        f'[[sources]]\nname = "sim"\nkind = "simulator"\nspeed = {speed}\n{files}',
        encoding="utf-8",
    )
    return config


# -- records --------------------------------------------------------------------------------------------------

#: The queues and agents the generated records use.
QUEUES = ("Billing", "Tech", "Sales", "Returns", "VIP")
AGENTS = tuple(f"agent{n}" for n in range(200))


def iso(seconds: float) -> str:
    """UTC ISO-8601 to the second, as exports write times."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mixed_records(
    count: int, start: float, step: float, *, seed: int, solved_share: float, solve_after_s: float
) -> Iterator[dict[str, Any]]:
    """``count`` valid records, one every ``step`` seconds from ``start``: half contacts, 30 % cases, 10 % agent
    states, 10 % ratings, as the dicts a user's export would hold (a field with no value is None). A case is solved
    with probability ``solved_share``, ``solve_after_s`` after its creation; no time a record holds is more than
    max(600, ``solve_after_s``) seconds after its own."""
    rng = random.Random(seed)
    for n in range(count):
        t = start + n * step
        roll = n % 10
        queue = QUEUES[n % 5]
        if roll < 5:
            answered = rng.random() < 0.85
            yield {
                "type": "contact",
                "id": f"k{n}",
                "queue": queue,
                "channel": "voice" if n % 3 else "chat",
                "customer": f"+4930{rng.randrange(10**7):07d}",
                "agent": AGENTS[n % 200] if answered else None,
                "offered_at": iso(t),
                "answered_at": iso(t + rng.randrange(1, 120)) if answered else None,
                "ended_at": iso(t + 400) if answered else None,
                "abandoned_at": None if answered else iso(t + rng.randrange(1, 90)),
                "blocked": False,
                "hold_s": float(rng.randrange(0, 60)),
                "wrap_up_s": float(rng.randrange(0, 90)),
            }
        elif roll < 8:
            solved = rng.random() < solved_share
            yield {
                "type": "case",
                "id": f"c{n}",
                "queue": queue,
                "status": "solved" if solved else "open",
                "priority": ("low", "normal", "high", "urgent")[n % 4],
                "channel": "email",
                "subject": f"Order {n} has not arrived, please help",
                "customer": f"customer{rng.randrange(50_000)}@example.com",
                "assignee": AGENTS[n % 200],
                "created_at": iso(t),
                "first_reply_at": iso(t + 600),
                "solved_at": iso(t + solve_after_s) if solved else None,
                "updated_at": iso(t + (solve_after_s if solved else 600)),
                "agent_replies": rng.randrange(0, 5),
                "reopens": rng.randrange(0, 2),
            }
        elif roll == 8:
            yield {
                "type": "agent_state",
                "agent": AGENTS[n % 200],
                "state": ("available", "busy", "wrap_up", "away", "offline")[n % 5],
                "since": iso(t),
                "queues": list(QUEUES[: 1 + n % 5]),
            }
        else:
            yield {
                "type": "rating",
                "id": f"r{n}",
                "kind": "csat",
                "score": rng.randrange(1, 6),
                "scale_max": 5,
                "case_id": f"c{n - 1}",
                "queue": queue,
                "rated_at": iso(t),
                "comment": "Quick and friendly" if n % 2 else None,
            }


def jsonl_line(record: dict[str, Any]) -> str:
    """One JSON Lines line of ``record``, leaving out fields with no value."""
    return json.dumps({k: v for k, v in record.items() if v is not None}) + "\n"
