"""Soak: the collector and one board, as real processes, on the simulator at 10x speed for a long time.

Run: ``.venv/bin/python -m tests.bench.soak [--minutes 30] [--speed 10] [--every 30] [--out docs/soak.md]``.

In a temporary folder it writes a config (one simulator source at ``--speed``, the board refreshing every 2 s),
starts ``shiftboard collect``, waits until the collector holds the cache, then starts one headless board
(``tests.bench.board_probe``: the real Textual app and its own refresh loop). Every ``--every`` seconds it samples
each process's resident memory (VmRSS from /proc) and the cache's size on disk (file + WAL + shm). At the end it
stops both process groups and reports RSS at start, end and max per process, the least-squares slope of RSS over
the run after a warm-up, the cache's growth and the board's refresh times, and writes them to ``--out``.

"Flat" is judged on the slope after warm-up (the first ``WARMUP_S``: imports, the first simulated day and the
board's first screens), since RSS at start includes memory that is allocated once.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import harness
from tests.bench.harness import fmt_s, percentile

#: Samples before this many seconds are left out of the slope.
WARMUP_S = 120.0
REFRESH_S = 2.0


def write_config(folder: Path, speed: float) -> Path:
    return harness.write_config(folder, speed=speed, refresh_s=REFRESH_S)


def collector_ready(folder: Path) -> bool:
    """The collector has committed its first page (the board then finds the lock taken and only reads)."""
    import sqlite3

    path = folder / "cache.sqlite"
    if not path.exists():
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM sync_state WHERE last_success_at IS NOT NULL").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def run(minutes: float, speed: float, every: float, trace: bool) -> dict:
    seconds = minutes * 60
    with tempfile.TemporaryDirectory(prefix="shiftboard-soak-") as tmp, harness.processes() as procs:
        folder = Path(tmp)
        config = write_config(folder, speed)
        cache = folder / "cache.sqlite"
        collector = procs.start(
            "collector",
            harness.python_module("shiftboard", "--config", str(config), "collect"),
            folder,
            limit_s=seconds + 900,
        )
        harness.wait_for(lambda: collector_ready(folder) or collector.popen.poll() is not None, 120, "the collector")
        if collector.popen.poll() is not None:
            raise RuntimeError(f"collector exited: {collector.stderr_path.read_text()}")
        log = folder / "board.jsonl"
        probe_args = ["--config", str(config), "--log", str(log), "--seconds", str(seconds + 120)]
        if trace:
            probe_args += ["--tracemalloc", str(folder / "board.tracemalloc.jsonl")]
        board = procs.start("board", harness.python_module("tests.bench.board_probe", *probe_args), folder)
        # The clock starts at the board's first refresh, so "RSS at start" is of a board that is up and showing.
        harness.wait_for(lambda: bool(harness.read_refreshes(log)) or board.popen.poll() is not None, 120, "the board")
        if board.popen.poll() is not None:
            raise RuntimeError(f"the board exited before its first refresh: {board.stderr_path.read_text()}")

        started = time.time()
        samples: list[dict] = []
        next_sample = time.monotonic()
        end = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            if now >= next_sample:
                sample = {
                    "t": time.time() - started,
                    "collector_kib": harness.rss_kib(collector.pid),
                    "board_kib": harness.rss_kib(board.pid),
                    "cache_bytes": harness.cache_bytes(cache),
                }
                samples.append(sample)
                print(json.dumps(sample), file=sys.stderr, flush=True)
                if sample["collector_kib"] is None or sample["board_kib"] is None:
                    break  # a process died: report what we have, with its stderr
                next_sample += every
            if now >= end:
                break
            time.sleep(min(1.0, max(0.0, min(next_sample, end) - now)))
        finished = time.time()
        cpu = {p.name: harness.cpu_seconds(p.pid) for p in (collector, board)}
        alive = {p.name: p.popen.poll() is None for p in (collector, board)}
        procs.stop_all()
        entries = harness.read_refreshes(log)
        stderr = {p.name: p.stderr_path.read_text(errors="replace")[-2000:] for p in (collector, board)}
        traces = (folder / "board.tracemalloc.jsonl").read_text() if trace else ""
    return {
        "minutes": minutes,
        "speed": speed,
        "every": every,
        "elapsed_s": finished - started,
        "samples": samples,
        "cpu_s": cpu,
        "alive": alive,
        "board": harness.summarize_board("board", entries, started, finished),
        "stderr": stderr,
        "traces": traces,
    }


def process_figures(samples: list[dict], key: str) -> dict:
    points = [(s["t"], s[key]) for s in samples if s[key] is not None]
    values = [v for _, v in points]
    after = [p for p in points if p[0] >= WARMUP_S]
    return {
        "start": values[0] if values else None,
        "end": values[-1] if values else None,
        "max": max(values) if values else None,
        "growth": values[-1] - values[0] if values else None,
        "after_warmup_start": after[0][1] if after else None,
        "slope_per_min": harness.slope_per_min(after),
    }


def report(result: dict, command: str) -> str:
    samples = result["samples"]
    board = result["board"]
    alive = ", ".join(f"{name} {'yes' if up else 'NO'}" for name, up in result["alive"].items())
    lines = [
        "# Soak: collector and board on the simulator",
        "",
        f"- Date: {harness.now_utc()}",
        f"- Machine: {harness.machine()}",
        f"- Command: `{command}`",
        f"- Run: {result['elapsed_s'] / 60:.1f} min; simulator at speed {result['speed']:g}; board refresh "
        f"{REFRESH_S:g} s; RSS and cache size sampled every {result['every']:g} s ({len(samples)} samples); "
        f"slope is least squares over samples after the first {WARMUP_S:.0f} s.",
        f"- Processes alive at the end: {alive}",
        "",
        "| process | RSS start | RSS after warm-up | RSS end | RSS max | growth start→end | slope after warm-up "
        "| CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ("collector", "board"):
        f = process_figures(samples, f"{name}_kib")
        if f["start"] is None:
            lines.append(f"| {name} | — | — | — | — | — | — | — |")
            continue
        cpu = result["cpu_s"].get(name)
        warm = "—" if f["after_warmup_start"] is None else f"{f['after_warmup_start'] / 1024:.1f} MiB"
        lines.append(
            f"| {name} | {f['start'] / 1024:.1f} MiB | "
            f"{warm} | {f['end'] / 1024:.1f} MiB | "
            f"{f['max'] / 1024:.1f} MiB | {f['growth'] / 1024:+.1f} MiB | {f['slope_per_min']:+.1f} KiB/min | "
            f"{cpu if cpu is None else f'{cpu:.0f} s'} |"
        )
    c = process_figures(samples, "cache_bytes")
    if c["start"] is not None:
        lines += [
            "",
            f"Cache on disk (file + WAL + shm): {c['start'] / 2**20:.1f} MiB at start, {c['end'] / 2**20:.1f} MiB at "
            f"end, max {c['max'] / 2**20:.1f} MiB; slope after warm-up {c['slope_per_min'] / 1024:+.1f} KiB/min.",
        ]
    if board.refreshes:
        lines += [
            "",
            f"Board refreshes: {board.refreshes}; duration p50 {fmt_s(percentile(board.durations, 50))}, p95 "
            f"{fmt_s(percentile(board.durations, 95))}, max {fmt_s(max(board.durations))}; max gap between "
            f"refreshes {fmt_s(board.max_gap)} (interval {board.interval:g} s), late {board.late}; errors "
            f"{board.errors} ({board.locked} 'database is locked').",
        ]
    lines += ["", "RSS samples (minutes: collector MiB / board MiB / cache MiB):", "", "```"]
    for s in samples:
        rss = [f"{s[k] / 1024:6.1f}" if s[k] is not None else "     —" for k in ("collector_kib", "board_kib")]
        lines.append(f"{s['t'] / 60:5.1f}: {rss[0]} / {rss[1]} / {s['cache_bytes'] / 2**20:6.1f}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--trace", action="store_true", help="tracemalloc in the board (distorts its RSS)")
    parser.add_argument("--out", type=Path, default=Path("docs/soak.md"))
    args = parser.parse_args(argv)
    command = shlex.join(["python", "-m", "tests.bench.soak", *(argv if argv is not None else sys.argv[1:])])
    result = run(args.minutes, args.speed, args.every, args.trace)
    text = report(result, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    for name, tail in result["stderr"].items():
        if tail.strip():
            print(f"--- {name} stderr (tail) ---\n{tail}", file=sys.stderr)
    if result["traces"]:
        print(f"--- board tracemalloc ---\n{result['traces'][-6000:]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
