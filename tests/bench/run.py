"""``make bench``: run every tests/bench/bench_*.py and write docs/benchmarks.md.

Each module exposes ``run(quick: bool) -> list[dict]`` whose rows have the keys figure, value, goal and note.
Benchmarks report figures; they are not timed assertions in the test suite.

    python -m tests.bench.run [--quick] [--only NAME] [--skip NAME] [--output docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _machine() -> str:
    def out(*cmd: str) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"

    memory = out("free", "-h").splitlines()
    total = memory[1].split()[1] if len(memory) > 1 else "?"
    import sqlite3

    return (
        f"{out('nproc')} CPUs, {total} memory, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.release()}"
    )


#: A hand-written reading of the figures (goals met or not, and why) between these markers survives a re-run.
SUMMARY_START, SUMMARY_END = "<!-- summary -->", "<!-- /summary -->"


def _kept_summary(output: Path) -> str:
    """The summary block of the existing file, markers included, or "" when there is none."""
    try:
        text = output.read_text(encoding="utf-8")
    except OSError:
        return ""
    start, end = text.find(SUMMARY_START), text.find(SUMMARY_END)
    if start < 0 or end < start:
        return ""
    return text[start : end + len(SUMMARY_END)] + "\n\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the largest sizes")
    parser.add_argument("--only", metavar="NAME", help="run only bench_NAME.py")
    parser.add_argument("--skip", metavar="NAME", action="append", default=[], help="leave bench_NAME.py out")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    if args.only:
        names = [n for n in names if n == f"bench_{args.only}"]
    names = [n for n in names if n.removeprefix("bench_") not in args.skip]
    sections = []
    loads = [os.getloadavg()[0]]
    for name in names:
        module = importlib.import_module(f"tests.bench.{name}")
        if not callable(getattr(module, "run", None)):
            print(f"{name}: skipped, it has no run(quick) function (run it as python -m tests.bench.{name})")
            continue
        started = time.perf_counter()
        try:
            rows = module.run(args.quick)
        except Exception as error:  # one failing benchmark must not lose the others' figures
            rows = [{"figure": "failed", "value": type(error).__name__, "goal": "", "note": str(error)[:200]}]
        took = time.perf_counter() - started
        loads.append(os.getloadavg()[0])
        print(f"{name}: {len(rows)} figures in {took:.0f} s", file=sys.stderr)
        lines = [
            f"## {name}",
            "",
            (module.__doc__ or "").strip(),
            "",
            "| figure | value | goal | note |",
            "|---|---|---|---|",
        ]
        for row in rows:
            lines.append(f"| {row['figure']} | {row['value']} | {row.get('goal') or ''} | {row.get('note') or ''} |")
            print(f"  {row['figure']}: {row['value']}  (goal {row.get('goal') or '-'}) {row.get('note') or ''}")
        sections.append("\n".join(lines))
    command = "make bench" + (" BENCH_ARGS=--quick" if args.quick else "")
    header = [
        "# Benchmarks",
        "",
        f"Written by `{command}` (`python -m tests.bench.run{' --quick' if args.quick else ''}`) on "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}.",
        "",
        f"Machine: {_machine()}.",
        "",
        f"Load average (1 min) at the start and after each module: {', '.join(f'{x:.1f}' for x in loads)}. The machine "
        "is shared: when the load is above the number of CPUs, wall-clock figures are inflated by waiting for a CPU, "
        "so CPU-time figures are given beside them where they matter.",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    summary = _kept_summary(args.output)
    args.output.write_text(
        "\n".join(header) + "\n" + summary + "\n\n".join(sections) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
