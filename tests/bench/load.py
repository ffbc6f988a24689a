"""Load: one collector writing fast and many boards reading the same cache, all real processes.

Run: ``.venv/bin/python -m tests.bench.load [--minutes 10] [--boards 20] [--records 1000000] [--span-days 60]
[--out docs/load.md]``.

In a temporary folder it writes a config with two sources, a simulator at speed 20 and a files source whose glob
matches nothing yet, and a board refresh of 2 s. It generates ``--records`` mixed records (contacts, cases, agent
states, ratings) spread evenly over the last ``--span-days`` days, as JSON Lines: history a team imports, of which
the board's "today" holds a day's share (``--span-days 0.8`` puts all of it in today: a stress of the reads), starts
``shiftboard collect``, waits until it holds the cache, starts ``--boards`` headless boards
(``tests.bench.board_probe``: the real Textual app with its own refresh loop), waits until each has refreshed once,
and only then moves the generated file under the files source's glob, so the million-record import runs while every
board reads. After ``--minutes`` it stops every process group and reports, from the boards' refresh logs and from
/proc: refreshes per board, p50/p95/max refresh duration, the longest gap between refreshes against the interval
(on time: gap <= interval + that refresh's duration + 1 s), errors and "database is locked" in any log, the
collector's records per second, CPU and RSS; and writes them to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import harness
from tests.bench.harness import fmt_s, percentile

REFRESH_S = 2.0
SAMPLE_EVERY_S = 5.0


def write_records(path: Path, count: int, end: float, span_s: float, seed: int = 11) -> None:
    """``count`` valid records (half contacts, 30 % cases, 10 % agent states, 10 % ratings) over the
    ``span_s`` seconds before ``end`` (every time they hold, replies and ends included, is at most ``end``), one JSON
    object per line, written as generated so memory stays small."""
    start = end - span_s - 1200  # the latest time written is 1200 s after a record's own time
    records = harness.mixed_records(count, start, span_s / count, seed=seed, solved_share=0.97, solve_after_s=1200)
    with path.open("w", encoding="utf-8") as out:
        out.writelines(harness.jsonl_line(record) for record in records)


def write_config(folder: Path) -> Path:
    (folder / "import").mkdir()
    return harness.write_config(folder, speed=20, refresh_s=REFRESH_S, import_glob=folder / "import" / "*.jsonl")


def records_total(cache: Path) -> dict[str, int]:
    """Records each source has committed so far (sync_state.records_total), from a read-only connection."""
    try:
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True, timeout=10) as conn:
            return dict(conn.execute("SELECT source, records_total FROM sync_state").fetchall())
    except sqlite3.Error:
        return {}


def run(minutes: float, boards: int, records: int, span_days: float) -> dict:
    seconds = minutes * 60
    with tempfile.TemporaryDirectory(prefix="shiftboard-load-") as tmp, harness.processes() as procs:
        folder = Path(tmp)
        config = write_config(folder)
        cache = folder / "cache.sqlite"
        staged = folder / "export.jsonl"
        began = time.perf_counter()
        write_records(staged, records, time.time() - 1800, span_days * 86400)
        print(f"generated {records:,} records in {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)

        collector = procs.start(
            "collector",
            harness.python_module("shiftboard", "--config", str(config), "collect"),
            folder,
            limit_s=seconds + 900,
        )
        harness.wait_for(
            lambda: "sim" in records_total(cache) or collector.popen.poll() is not None, 180, "the collector"
        )
        if collector.popen.poll() is not None:
            raise RuntimeError(f"collector exited: {collector.stderr_path.read_text()}")

        logs = [folder / f"board{n:02d}.jsonl" for n in range(boards)]
        probes = [
            procs.start(
                f"board{n:02d}",
                harness.python_module(
                    "tests.bench.board_probe",
                    *("--config", str(config), "--log", str(log), "--seconds", str(seconds + 300)),
                ),
                folder,
            )
            for n, log in enumerate(logs)
        ]
        harness.wait_for(
            lambda: all(
                (log.exists() and log.stat().st_size > 0) or p.popen.poll() is not None
                for log, p in zip(logs, probes, strict=True)
            ),
            300,
            "every board's first refresh",
            every=1.0,
        )
        dead = [p for p in probes if p.popen.poll() is not None]
        if dead:
            raise RuntimeError(f"{dead[0].name} exited before its first refresh: {dead[0].stderr_path.read_text()}")

        # Every board is up: now the million-record import starts, while they read.
        started = time.time()
        cpu_start = harness.cpu_seconds(collector.pid) or 0.0
        totals_start = records_total(cache)
        staged.rename(folder / "import" / "export.jsonl")
        samples: list[dict] = []
        import_done_at: float | None = None
        end = time.monotonic() + seconds
        while time.monotonic() < end and collector.popen.poll() is None:
            totals = records_total(cache)
            sample = {
                "t": time.time() - started,
                "collector_kib": harness.rss_kib(collector.pid),
                "totals": totals,
                "cache_bytes": harness.cache_bytes(cache),
            }
            samples.append(sample)
            if import_done_at is None and totals.get("import", 0) >= records:
                import_done_at = sample["t"]
            print(json.dumps(sample), file=sys.stderr, flush=True)
            time.sleep(min(SAMPLE_EVERY_S, max(0.0, end - time.monotonic())))
        finished = time.time()
        cpu_end = harness.cpu_seconds(collector.pid)
        totals_end = records_total(cache)
        alive = sum(p.popen.poll() is None for p in probes)
        collector_alive = collector.popen.poll() is None
        procs.stop_all()

        summaries = [
            harness.summarize_board(p.name, harness.read_refreshes(log), started, finished)
            for p, log in zip(probes, logs, strict=True)
        ]
        needles = (harness.LOCKED, "StoreError", "Traceback")
        log_hits = {p.name: harness.count_in_file(p.stderr_path, needles) for p in procs.started}
        collector_tail = collector.stderr_path.read_text(errors="replace")[-1500:]
        board_tails = {p.name: p.stderr_path.read_text(errors="replace")[-800:] for p in probes if log_hits.get(p.name)}
    return {
        "minutes": minutes,
        "boards": boards,
        "records": records,
        "span_days": span_days,
        "elapsed_s": finished - started,
        "summaries": summaries,
        "samples": samples,
        "import_done_at": import_done_at,
        "totals_start": totals_start,
        "totals_end": totals_end,
        "collector_cpu_s": (cpu_end or 0.0) - cpu_start,
        "collector_alive": collector_alive,
        "boards_alive": alive,
        "log_hits": log_hits,
        "collector_tail": collector_tail,
        "board_tails": board_tails,
    }


def report(result: dict, command: str) -> str:
    summaries = result["summaries"]
    elapsed = result["elapsed_s"]
    durations = [d for s in summaries for d in s.durations]
    total_refreshes = sum(s.refreshes for s in summaries)
    errors = sum(s.errors for s in summaries)
    locked = sum(s.locked for s in summaries)
    late = sum(s.late for s in summaries)
    start, end = result["totals_start"], result["totals_end"]
    written = {name: end.get(name, 0) - start.get(name, 0) for name in end}
    rss = [s["collector_kib"] for s in result["samples"] if s["collector_kib"] is not None]
    done = result["import_done_at"]
    lines = [
        "# Load: one collector writing fast, many boards reading",
        "",
        f"- Date: {harness.now_utc()}",
        f"- Machine: {harness.machine()}",
        f"- Command: `{command}`",
        f"- Setup: `shiftboard collect` with a simulator at speed 20 and a files source importing "
        f"{result['records']:,} JSON Lines records spread over {result['span_days']:g} days (dropped in once every "
        f"board had refreshed); {result['boards']} "
        f"headless boards (`tests.bench.board_probe`, the real app and refresh loop), refresh every {REFRESH_S:g} s. "
        f"Measured window {elapsed / 60:.1f} min.",
        f"- Still running at the end: collector {'yes' if result['collector_alive'] else 'NO'}, boards "
        f"{result['boards_alive']}/{result['boards']}.",
        "",
        "## Figures",
        "",
        f"- Refreshes: {total_refreshes} in all; per board min {min(s.refreshes for s in summaries)}, max "
        f"{max(s.refreshes for s in summaries)}.",
    ]
    if durations:
        lines.append(
            f"- Refresh duration (read + show), all boards: p50 {fmt_s(percentile(durations, 50))}, p95 "
            f"{fmt_s(percentile(durations, 95))}, max {fmt_s(max(durations))}."
        )
    gaps = [g for s in summaries for g in s.gaps]
    if gaps:
        lines.append(
            f"- Time between two refreshes of one board (how often a viewer sees new figures), all boards: p50 "
            f"{fmt_s(percentile(gaps, 50))}, p95 {fmt_s(percentile(gaps, 95))} (interval {REFRESH_S:g} s; a commit "
            "starts a read sooner)."
        )
    lines += [
        f"- Longest gap between two refreshes of one board: {fmt_s(max(s.max_gap for s in summaries))} "
        f"(interval {REFRESH_S:g} s); late refreshes (gap > interval + duration + {harness.ON_TIME_SLACK_S:g} s): "
        f"{late} of {total_refreshes}.",
        f"- Read errors on boards: {errors}; of them 'database is locked': {locked}. Lines with 'database is locked', "
        f"StoreError or Traceback in any process's stderr: {sum(result['log_hits'].values())}.",
        f"- Collector: {sum(written.values()):,} records committed in the window "
        f"({sum(written.values()) / elapsed:,.0f}/s): import {written.get('import', 0):,}"
        + (f", all {result['records']:,} in {done:.0f} s ({result['records'] / done:,.0f}/s)" if done else ", NOT done")
        + f"; simulator {written.get('sim', 0):,} ({written.get('sim', 0) / elapsed:,.1f}/s).",
        f"- Collector CPU {result['collector_cpu_s']:.0f} s in {elapsed:.0f} s "
        f"({result['collector_cpu_s'] / elapsed * 100:.0f} % of one core); RSS "
        + (
            f"{rss[0] / 1024:.0f} MiB at start, {rss[-1] / 1024:.0f} MiB at end, max {max(rss) / 1024:.0f} MiB."
            if rss
            else "not sampled."
        ),
        "",
        "## Per board",
        "",
        "| board | refreshes | p50 | p95 | max | longest gap | late | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        if not s.durations:
            lines.append(f"| {s.name} | 0 | — | — | — | — | — | {s.errors} |")
            continue
        lines.append(
            f"| {s.name} | {s.refreshes} | {fmt_s(percentile(s.durations, 50))} | {fmt_s(percentile(s.durations, 95))}"
            f" | {fmt_s(max(s.durations))} | {fmt_s(s.max_gap)} | {s.late} | {s.errors} |"
        )
    samples = [e for s in summaries for e in s.error_samples]
    if samples:
        lines += ["", "Error samples:", "", *(f"- `{e}`" for e in sorted(set(samples))[:5])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--span-days", type=float, default=60.0, help="days the records are spread over")
    parser.add_argument("--out", type=Path, default=Path("docs/load.md"))
    args = parser.parse_args(argv)
    command = shlex.join(["python", "-m", "tests.bench.load", *(argv if argv is not None else sys.argv[1:])])
    result = run(args.minutes, args.boards, args.records, args.span_days)
    text = report(result, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(f"--- collector stderr (tail) ---\n{result['collector_tail']}", file=sys.stderr)
    for name, tail in result["board_tails"].items():
        print(f"--- {name} stderr (tail) ---\n{tail}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
