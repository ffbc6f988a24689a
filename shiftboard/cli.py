"""The ``shiftboard`` command: the board by default, and headless commands for incidents and scripts.

Exit codes: 0 fine, 1 a check failed (doctor), 2 bad arguments or configuration, 3 the cache cannot be used.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import logging
import math
import shlex
import signal
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftboard.errors import ConfigError
from shiftboard.store import Store, StoreError
from shiftboard.text import clean, escape_bidi_json

# The configuration, the collector and the metrics are imported where a command uses them: the board's process
# draws its first frame before it imports the configuration's library (see run_board).
if TYPE_CHECKING:
    from shiftboard.config import Settings
    from shiftboard.tui.first_read import FirstRead
    from shiftboard.tui.launch import Start

EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_CACHE = 3


class UsageError(Exception):
    """A bad argument; exit code 2."""


def parse_moment(text: str, settings: Settings) -> float:
    """An ISO-8601 moment as epoch seconds; without an offset it is read in the board's time zone."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at/--since: not an ISO-8601 time: {text!r} (e.g. 2026-11-22T14:30:00+01:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.metrics.zone())
    return moment.timestamp()


def build_parser() -> argparse.ArgumentParser:
    def options(default: Any) -> argparse.ArgumentParser:
        shared = argparse.ArgumentParser(add_help=False)
        shared.add_argument("--config", type=Path, metavar="FILE", default=default, help="configuration file (TOML)")
        shared.add_argument("-v", "--verbose", action="store_true", default=default, help="log more to stderr")
        return shared

    # The subcommands' copies default to SUPPRESS so they keep what was given before the command name
    # (`shiftboard --config F snapshot`) instead of resetting it.
    common = options(argparse.SUPPRESS)

    parser = argparse.ArgumentParser(
        prog="shiftboard",
        description="A live operations board for customer-support shift supervisors.",
        parents=[options(None)],
    )
    parser.set_defaults(verbose=False)
    parser.add_argument("--at", metavar="ISO", help="open the board at a past moment")
    _display_options(parser, None)
    parser.add_argument("--privacy", action="store_true", help="mask customers and subjects on the board (p toggles)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    board = commands.add_parser("board", parents=[common], help="open the live board (the default)")
    board.add_argument("--at", metavar="ISO", default=argparse.SUPPRESS, help="open the board at a past moment")
    _display_options(board, argparse.SUPPRESS)
    board.add_argument(
        "--privacy", action="store_true", default=argparse.SUPPRESS, help="mask customers and subjects (p toggles)"
    )

    snapshot = commands.add_parser("snapshot", parents=[common], help="sync once and print every figure")
    snapshot.add_argument("--json", action="store_true", help="print JSON (keys documented in the README)")
    snapshot.add_argument("--at", metavar="ISO", help="the moment to report (default: now)")
    snapshot.add_argument("--since", metavar="ISO", help="window start (default: [metrics] window)")
    snapshot.add_argument("--no-sync", action="store_true", help="report from the cache without syncing")

    staffing = commands.add_parser(
        "staffing", parents=[common], help="agents needed for a load (Erlang C)", description=STAFFING_HELP
    )
    staffing.add_argument("--calls-per-hour", required=True, metavar="X", help="arrivals per hour")
    staffing.add_argument("--aht", required=True, metavar="S", help="average handle time, seconds")
    staffing.add_argument("--target", default="80/20", metavar="PCT/S", help="service level target (default 80/20)")
    staffing.add_argument("--shrinkage", default="0", metavar="F", help="share of paid time off the phones, 0–<1")
    staffing.add_argument("--max-occupancy", metavar="F", help="cap on occupancy A/N, e.g. 0.85")
    staffing.add_argument("--json", action="store_true", help="print JSON")

    collect = commands.add_parser("collect", parents=[common], help="run the sources headless into the cache")
    collect.add_argument("--metrics-port", type=_port, metavar="PORT", help="serve figures for Prometheus on PORT")
    collect.add_argument(
        "--metrics-host", default="127.0.0.1", metavar="HOST", help="address for --metrics-port (default 127.0.0.1)"
    )

    serve = commands.add_parser("serve", parents=[common], help="serve the board to a browser (textual-serve)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    commands.add_parser("doctor", parents=[common], help="check the config, each source and the cache")
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {port}")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    # Starting allocates a few hundred thousand objects that live as long as the process (modules, classes, config
    # models): the cyclic collector scans them again and again while they pile up and frees next to nothing (about
    # 60 ms of CPU, a tenth of the board's start-up). It is off until the command is set up (``_settled``).
    gc.disable()
    try:
        return _main(argv)
    finally:
        _settled()


def _settled() -> None:
    """Start-up is over: what exists now stays out of later collections (``gc.freeze``), and collecting resumes."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "staffing":
            # Pure arithmetic: no configuration or cache needed.
            return run_staffing(args)
        command = args.command or "board"
        if command == "board":
            return run_board(args)  # checks the configuration itself, off the process that draws where it can
        from shiftboard.config import check_environment, load_settings

        settings = load_settings(args.config)
        if command != "doctor":  # doctor reports a missing token among its findings instead of refusing to run
            check_environment(settings)
        _settled()
        if command == "snapshot":
            return run_snapshot(settings, args)
        if command == "collect":
            return run_collect(settings, args)
        if command == "serve":
            return run_serve(settings, args)
        if command == "doctor":
            return run_doctor(settings)
        parser.error(f"unknown command {command}")
    except ConfigError as error:
        for problem in error.problems:
            print(f"shiftboard: config: {problem}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as error:
        print(f"shiftboard: {error}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as error:
        print(f"shiftboard: {error}", file=sys.stderr)
        return EXIT_CACHE
    except KeyboardInterrupt:
        return 130
    return 0


def open_store(settings: Settings, *, readonly: bool = False) -> Store:
    return Store(settings.cache.resolved_path(), readonly=readonly)


def _display_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """How the board is drawn: wall mode, ASCII only, a theme (given before or after ``board``)."""
    flag = False if default is None else default
    parser.add_argument("--wall", action="store_true", default=flag, help="open in wall mode (w toggles it)")
    parser.add_argument("--ascii", action="store_true", default=flag, help="draw with ASCII only (no Unicode glyphs)")
    parser.add_argument("--theme", metavar="NAME", default=default, help="Textual theme, e.g. ansi-dark, textual-dark")


def prepare_board(args: argparse.Namespace) -> Start:
    """Everything the board needs before its first frame, checked: the configuration and its tokens and keys
    (ConfigError), ``--at`` (UsageError), the cache created or migrated (StoreError)."""
    from shiftboard.config import check_environment, load_settings
    from shiftboard.tui.launch import Start
    from shiftboard.tui.look import BoardConfig

    settings = load_settings(args.config)
    check_environment(settings)
    # "is not None": an empty --at is a mistake to report, not a request for "now".
    at = parse_moment(args.at, settings) if getattr(args, "at", None) is not None else None
    sources = settings.source_settings()
    check_keys(settings)  # imports Textual only when [keys] remaps something
    path = settings.cache.resolved_path()
    new_cache = not path.exists()
    Store(path).close()  # created or migrated here, where a problem raises StoreError
    return Start(path, at, BoardConfig.of(settings, sources), new_cache=new_cache)


def run_board(args: argparse.Namespace) -> int:
    # Textual- and pydantic-free: the child forked here validates the configuration and reads the cache on the
    # other core while this process imports Textual below (tui/launch.py).
    from shiftboard.tui.launch import Launch, can_fork

    prepare = functools.partial(prepare_board, args)
    launch = Launch(prepare, time.time) if can_fork() else None
    # Imported here so headless commands never pay for (or depend on) Textual.
    from shiftboard.tui.app import ShiftboardApp

    start = launch.start() if launch is not None else None
    if launch is not None and start is not None:
        first_read: Launch | FirstRead = launch
    else:  # no fork, or the child could not prepare: here, where a problem raises and is reported
        if launch is not None:
            launch.close()
        from shiftboard.tui.first_read import FirstRead

        start = prepare()
        settings, sources = start.config.settings, start.config.sources
        first_read = FirstRead(start.path, settings, sources, start.at, time.time)
    store = Store(start.path)
    app = ShiftboardApp(
        start.config,
        store,
        at=start.at,
        wall=getattr(args, "wall", False),
        ascii_only=getattr(args, "ascii", False),
        theme=getattr(args, "theme", None),
        privacy=bool(getattr(args, "privacy", False)),
        first_read=first_read,
        new_cache=start.new_cache,
    )
    _settled()
    try:
        app.run()
    finally:
        first_read.close()
        store.close()
    return app.return_code or 0


def check_keys(settings: Settings) -> None:
    """Refuse a ``[keys]`` entry that names no binding (ConfigError: one line each, exit 2)."""
    if not settings.keys:
        return
    from shiftboard.tui.keymap import keymap_problems

    problems = keymap_problems(settings.keys, settings.origin)
    if problems:
        raise ConfigError(problems)


def snapshot_data(settings: Settings, store: Store, at: float, since: float | None) -> dict[str, Any]:
    """The snapshot document: figures per queue plus each source's health."""
    from shiftboard import metrics
    from shiftboard.health import health

    data = metrics.compute(store, settings.metrics, at, since, costs=settings.costs)
    states = {s.source: s for s in store.sync_states()}
    data["sources"] = [health(s, states.get(s.name), at).as_json() for s in settings.source_settings()]
    return {"at": data["at"], "since": data["since"], "sources": data["sources"], "queues": data["queues"]}


def run_snapshot(settings: Settings, args: argparse.Namespace) -> int:
    at = parse_moment(args.at, settings) if args.at is not None else time.time()
    since = parse_moment(args.since, settings) if args.since is not None else None
    if since is not None and since >= at:
        raise UsageError("--since must be before --at")
    from shiftboard.collector import Collector

    sources = settings.source_settings()
    with open_store(settings) as store:
        if not args.no_sync:
            Collector(store, sources).sync_once(at)
        data = snapshot_data(settings, store, at, since)
    if args.json:
        sys.stdout.write(escape_bidi_json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")
    else:
        sys.stdout.write(format_snapshot(data))
    return 0


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}{unit}"
    return f"{value}{unit}"


def format_snapshot(data: dict[str, Any]) -> str:
    """The snapshot as a plain-text table: one column per queue."""
    queues = data["queues"]
    names = list(queues)
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, path: tuple[str, ...], unit: str = "") -> None:
        values = []
        for name in names:
            value: Any = queues[name]
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            values.append(_fmt(value, unit))
        rows.append((label, values))

    add("waiting now", ("contacts", "waiting_now"))
    add("longest wait", ("contacts", "longest_wait_s"), " s")
    add("offered", ("contacts", "offered"))
    add("answered", ("contacts", "answered"))
    add("service level", ("contacts", "service_level_pct"), " %")
    add("ASA", ("contacts", "asa_s"), " s")
    add("wait p90", ("contacts", "wait_p90_s"), " s")
    add("abandoned", ("contacts", "abandoned"))
    add("abandon rate", ("contacts", "abandon_rate_pct"), " %")
    add("blocked", ("contacts", "blocked"))
    add("AHT", ("contacts", "aht_s"), " s")
    add("open cases", ("cases", "backlog", "open"))
    add("oldest open", ("cases", "backlog", "oldest_age_s"), " s")
    add("first reply p90", ("cases", "first_reply_s", "p90"), " s")
    add("SLA breached", ("cases", "sla", "breached"))
    add("SLA at risk", ("cases", "sla", "at_risk"))
    add("CSAT", ("satisfaction", "csat_pct"), " %")
    for state in ("available", "busy", "wrap_up", "away", "offline"):
        add(f"agents {state.replace('_', '-')}", ("agents", state))
    add("agents needed", ("staffing", "agents_needed"))
    add("occupancy", ("contacts", "occupancy_pct"), " %")
    add("availability", ("availability_pct",), " %")
    headers = ["", *(clean(n, 24) for n in names)]
    table = [headers, *([label, *values] for label, values in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = [f"shiftboard snapshot at {data['at']} (window since {data['since']})"]
    for source in data["sources"]:
        detail = source["error"] or f"last success {source['last_success_at'] or 'never'}"
        lines.append(f"  source {clean(source['name'], 40)} ({source['kind']}): {source['status']}, {clean(detail)}")
    lines.append("")
    for row in table:
        lines.append(
            "  ".join(
                cell.rjust(width) if i else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    return "\n".join(lines) + "\n"


STAFFING_HELP = (
    "Agents needed to answer TARGET percent of contacts within its seconds, under Erlang C (M/M/N: Poisson "
    "arrivals, exponential handle times, nobody abandons), and what that number gives: expected service level, "
    "ASA (mean wait over all contacts), probability of waiting, occupancy, and agents to schedule after shrinkage."
)


def _number(name: str, text: str, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if math.isnan(value) or below or above:
        lo = f"{'above' if low_open else 'at least'} {low:g}"
        hi = "" if math.isinf(high) else f" and {'below' if high_open else 'at most'} {high:g}"
        raise UsageError(f"{name}: expected a number {lo}{hi}, got {text!r}")
    return value


def parse_target(text: str) -> tuple[float, float]:
    """``80/20`` → (0.8, 20.0): percent within seconds."""
    parts = text.split("/")
    if len(parts) != 2:
        raise UsageError(f"--target: expected PERCENT/SECONDS such as 80/20, got {text!r}")
    percent = _number("--target", parts[0], 0, 100, low_open=True, high_open=True)
    seconds = _number("--target", parts[1], 0, math.inf)
    return percent / 100, seconds


def run_staffing(args: argparse.Namespace) -> int:
    from shiftboard.erlang import staffing

    calls = _number("--calls-per-hour", args.calls_per_hour, 0, math.inf, low_open=True)
    aht = _number("--aht", args.aht, 0, math.inf, low_open=True)
    target, threshold = parse_target(args.target)
    shrinkage = _number("--shrinkage", args.shrinkage, 0, 1, high_open=True)
    max_occ = (
        None if args.max_occupancy is None else _number("--max-occupancy", args.max_occupancy, 0, 1, low_open=True)
    )
    try:
        result = staffing(calls, aht, target, threshold, shrinkage, max_occ)
    except ValueError as error:
        raise UsageError(str(error)) from None
    data = {
        "calls_per_hour": calls,
        "aht_s": aht,
        "target_pct": target * 100,
        "threshold_s": threshold,
        "shrinkage": shrinkage,
        "max_occupancy": max_occ,
        "traffic_erlangs": result.traffic_erlangs,
        "agents": result.agents,
        "scheduled_agents": result.scheduled,
        "service_level_pct": result.service_level * 100,
        "asa_s": result.asa_s,
        "p_wait_pct": result.p_wait * 100,
        "occupancy_pct": result.occupancy * 100,
    }
    if args.json:
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    lines = [
        f"load: {calls:g} contacts/hour × {aht:g} s = {result.traffic_erlangs:.2f} Erlangs",
        f"agents needed: {result.agents} (target {target * 100:g} % within {threshold:g} s"
        + ("" if max_occ is None else f", occupancy at most {max_occ * 100:g} %")
        + ")",
        f"  service level: {result.service_level * 100:.1f} % within {threshold:g} s",
        f"  ASA: {result.asa_s:.1f} s (mean wait over all contacts)",
        f"  P(wait): {result.p_wait * 100:.1f} %",
        f"  occupancy: {result.occupancy * 100:.1f} %",
        f"scheduled agents: {result.scheduled} (shrinkage {shrinkage * 100:g} %)",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def run_collect(settings: Settings, args: argparse.Namespace) -> int:
    from shiftboard.cache_lock import CollectorLock
    from shiftboard.collector import Collector

    sources = settings.source_settings()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    lock = CollectorLock(settings.cache.resolved_path())
    with open_store(settings) as store:
        if not lock.acquire():
            raise UsageError(f"another collector is already writing {store.path} (lock {lock.path})")
        collector = Collector(store, sources, retention_days=settings.cache.retention_days)
        print(
            f"shiftboard: collecting {len(collector.runners)} source(s) into {store.path}; Ctrl+C stops",
            file=sys.stderr,
            flush=True,
        )
        exporter = None
        if args.metrics_port is not None:
            from shiftboard.exporter import serve_metrics

            reader = open_store(settings, readonly=True)
            try:
                exporter, _ = serve_metrics(settings, reader, args.metrics_port, args.metrics_host, time.time)
            except OSError as error:
                raise UsageError(
                    f"--metrics-port: cannot listen on {args.metrics_host}:{args.metrics_port}: {error.strerror}"
                ) from None
            host, port = exporter.server_address[:2]
            print(f"shiftboard: Prometheus figures on http://{host}:{port}/metrics", file=sys.stderr, flush=True)
        try:
            collector.run(stop)
        finally:
            if exporter is not None:
                exporter.shutdown()
            lock.release()
        if collector.fatal is not None:
            raise collector.fatal
    return 0


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Serve the board to browsers. Each browser gets its own board process; they all read one cache, which this
    process fills by running the collector (unless another collector already does)."""
    from textual_serve.server import Server

    from shiftboard.cache_lock import CollectorLock
    from shiftboard.collector import Collector

    check_keys(settings)  # each browser's board would refuse them; say so once, here
    sources = settings.source_settings()
    command = [sys.executable, "-m", "shiftboard", "board"]
    if settings.origin is not None:
        command += ["--config", str(settings.origin.resolve())]
    stop = threading.Event()
    lock = CollectorLock(settings.cache.resolved_path())
    with open_store(settings) as store:
        collector_thread = None
        if lock.acquire():
            collector = Collector(store, sources, retention_days=settings.cache.retention_days)
            collector_thread = threading.Thread(target=collector.run, args=(stop,), daemon=True)
            collector_thread.start()
        scope = (
            "this machine only"
            if args.host in ("127.0.0.1", "localhost", "::1")
            else "the network: put an authenticating proxy in front, textual-serve has no login"
        )
        print(f"shiftboard: serving the board on http://{args.host}:{args.port} ({scope})", file=sys.stderr, flush=True)
        try:
            Server(shlex.join(command), host=args.host, port=args.port, title="shiftboard").serve()
        finally:
            stop.set()
            if collector_thread is not None:
                collector_thread.join(timeout=10)
            lock.release()
    return 0


def run_doctor(settings: Settings) -> int:
    """One line per check, each saying what to fix; exit 2 when a source's token variable is unset (a configuration
    problem, as for every command), else 1 when any check FAILs (WARN is advice)."""
    from shiftboard import doctor
    from shiftboard.config import check_environment

    key_problems: list[str] = []
    if settings.keys:
        from shiftboard.tui.keymap import keymap_problems

        key_problems = keymap_problems(settings.keys, settings.origin)
    try:
        check_environment(settings)
        environment_ok = True
    except ConfigError as error:
        # Said the way every command says it (exit 2), and the report below still names the fix per source.
        for problem in error.problems:
            print(f"shiftboard: config: {problem}", file=sys.stderr, flush=True)
        environment_ok = False
    findings = doctor.run(settings, key_problems)
    for finding in findings:
        print(finding.line(), flush=True)
    if not environment_ok:
        return EXIT_USAGE
    return EXIT_CHECK_FAILED if any(f.status == doctor.FAIL for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
