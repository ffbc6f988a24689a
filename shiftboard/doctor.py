"""``shiftboard doctor``: check the config, each source and the cache, and say what to fix, one line each.

Each source is checked with ``Adapter.check()`` (reachability and credentials) in its own thread with a deadline, and
with retries off, so an unreachable source answers in about ``timeout_s`` and never hangs the command. The cache is
opened read-only: doctor never creates, migrates or writes it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shiftboard.adapters import adapter_class
from shiftboard.adapters.base import Adapter, ConfigurationError, SourceError, SourceSettings
from shiftboard.config import Settings
from shiftboard.health import ago, health
from shiftboard.store import SCHEMA_VERSION, Store, StoreError
from shiftboard.text import clean

OK, WARN, FAIL = "ok", "WARN", "FAIL"
#: Seconds a source check may take beyond its own ``timeout_s`` (connecting, TLS, reading a token file).
CHECK_GRACE_S = 3.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the report: what was checked, its status (ok, WARN, FAIL), what was found, and what to fix."""

    subject: str
    status: str
    text: str
    fix: str | None = None

    def line(self) -> str:
        fix = f" — fix: {self.fix}" if self.fix else ""
        return f"{self.subject}: {self.status} {self.text}{fix}"


def check_config(settings: Settings, sources: Sequence[SourceSettings], key_problems: Sequence[str]) -> list[Finding]:
    """The config was read and validated (else the command already stopped with exit 2); ``[keys]`` ids checked."""
    where = str(settings.origin) if settings.origin else "no config file, built-in simulator"
    findings = [Finding("config", OK, f"{where}; {len(sources)} source(s)")]
    findings += [
        Finding("config", FAIL, clean(problem), "use a binding id listed in the README, Keys")
        for problem in key_problems
    ]
    return findings


def _fix_for(error: SourceError, source: SourceSettings) -> str:
    """What to do about a failed check, from its reason (adapters' reasons never contain secrets)."""
    reason = str(error)
    url = getattr(source, "url", None)
    token_env = getattr(source, "token_env", None)
    if "environment variable" in reason and "is not set" in reason and token_env:
        return f"export {token_env}=<token> in the environment that runs shiftboard"
    if "token_file" in reason or "chmod" in reason:
        return "point token_file at a file only its owner can read (chmod 600)"
    if "cannot connect" in reason or "timed out" in reason or "no answer" in reason:
        where = f"url = {url!r}" if url else "the source's address"
        return f"check {where} (service up? address and port right? proxy or firewall?), or raise timeout_s"
    if "401" in reason:
        return f"the token was refused: renew it in {token_env or 'the token source'}"
    if "403" in reason:
        return "give the token's user read access to this endpoint"
    if "404" in reason:
        return f"check url = {url!r}" if url else "check the source's settings"
    if isinstance(error, ConfigurationError):
        return "fix this source's keys in the config"
    return "see the reason; the board shows the same on the health line"


def check_source(
    source: SourceSettings, make: Callable[[SourceSettings], Adapter] | None = None, grace_s: float = CHECK_GRACE_S
) -> Finding:
    """Reach one source and prove its credentials, with retries off and a deadline of ``timeout_s`` + grace."""
    subject = f"source {clean(source.name, 40)} ({source.kind})"
    if not source.enabled:
        return Finding(subject, OK, "disabled (enabled = false); not checked")
    if "max_retries" in type(source).model_fields:
        source = source.model_copy(update={"max_retries": 0})  # one try: doctor reports, the collector retries
    make = make or (lambda s: adapter_class(s.kind)(s))
    outcome: list[str | BaseException] = []

    def run() -> None:
        adapter = None
        try:
            adapter = make(source)
            outcome.append(adapter.check())
        except BaseException as error:  # reported below, whatever it is
            outcome.append(error)
        finally:
            if adapter is not None:
                adapter.close()

    # A daemon thread: a check stuck past the deadline must not keep the command from exiting.
    thread = threading.Thread(target=run, name=f"doctor-{source.name}", daemon=True)
    deadline = source.timeout_s + grace_s
    thread.start()
    thread.join(deadline)
    if not outcome:
        error: BaseException = SourceError(f"no answer within {deadline:g} s")
    else:
        result = outcome[0]
        if isinstance(result, str):
            return Finding(subject, OK, clean(result, 200))
        error = result
    if not isinstance(error, SourceError):
        error = SourceError(f"{type(error).__name__}: {error}")
    return Finding(subject, FAIL, clean(str(error), 200), _fix_for(error, source))


def check_sources(sources: Sequence[SourceSettings]) -> list[Finding]:
    """Every source at once (each in its own thread), reported in config order."""
    results: dict[int, Finding] = {}
    threads = []
    for index, source in enumerate(sources):
        thread = threading.Thread(target=lambda i=index, s=source: results.__setitem__(i, check_source(s)), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return [results[i] for i in range(len(sources))]


def _size(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            total += os.stat(f"{path}{suffix}").st_size
    return total


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def check_cache(path: Path, sources: Sequence[SourceSettings], now: float | None = None) -> list[Finding]:
    """The cache file: where, writable, schema, size, records; and each source's last sync and staleness."""
    now = time.time() if now is None else now
    folder = path.parent
    if not path.exists():
        nearest = next((p for p in (folder, *folder.parents) if p.exists()), folder)
        if os.access(nearest, os.W_OK):
            return [Finding("cache", WARN, f"{path} does not exist yet", "run `shiftboard collect` or the board")]
        return [Finding("cache", FAIL, f"{path} cannot be created: {nearest} is not writable", "set [cache] path")]
    writable = os.access(path, os.W_OK) and os.access(folder, os.W_OK)
    try:
        store = Store(path, readonly=True)
    except StoreError as error:
        return [Finding("cache", FAIL, clean(str(error)), "see the reason")]
    with store:
        try:
            counts = store.counts()
            states = {state.source: state for state in store.sync_states()}
        except StoreError as error:
            return [Finding("cache", FAIL, clean(str(error)), "see the reason")]
    records = sum(counts.values())
    detail = ", ".join(f"{table} {count:,}" for table, count in counts.items())
    text = (
        f"{path}: {'writable' if writable else 'NOT writable'}, schema {SCHEMA_VERSION} (current), "
        f"{_megabytes(_size(path))}, {records:,} records ({detail})"
    )
    findings = [
        Finding("cache", OK, text)
        if writable
        else Finding("cache", FAIL, text, f"make {path} and its folder writable by the collector's user")
    ]
    for source in sources:
        subject = f"cache: source {clean(source.name, 40)}"
        state = states.get(source.name)
        item = health(source, state, now)
        if state is None or item.last_success_at is None:
            reason = f"; last error: {item.reason}" if item.reason else ""
            findings.append(
                Finding(subject, WARN, f"never synced{reason}", "run `shiftboard collect` (or open the board)")
            )
            continue
        last = f"last sync {_stamp(item.last_success_at)} ({ago(now - item.last_success_at)} ago)"
        if item.status == "failing":
            since = ago(now - (item.failing_since or now))
            findings.append(
                Finding(
                    subject,
                    FAIL,
                    f"failing for {since}: {item.reason}; {last}, failing since "
                    f"{_stamp(item.failing_since or now)}, {item.skipped_total:,} malformed records skipped",
                    "see its source line",
                )
            )
        elif item.status == "stale":
            findings.append(
                Finding(
                    subject,
                    WARN,
                    f"stale: {last}, polled every {source.interval_s:g} s",
                    "is a collector running? start `shiftboard collect` or the board",
                )
            )
        else:
            skipped = f", {item.skipped_total:,} malformed records skipped" if item.skipped_total else ""
            findings.append(Finding(subject, OK, f"{last}, {item.records_total:,} records{skipped}"))
    configured = {source.name for source in sources}
    for name in sorted(set(states) - configured):
        findings.append(
            Finding(
                f"cache: source {clean(name, 40)}",
                WARN,
                "in the cache but not in the config",
                "none needed if it was removed on purpose; its records age out with [cache] retention_days",
            )
        )
    return findings


def run(settings: Settings, key_problems: Sequence[str] = ()) -> list[Finding]:
    """Every check, in the order they are shown."""
    sources = settings.source_settings()
    findings = check_config(settings, sources, key_problems)
    findings += check_sources(sources)
    findings += check_cache(settings.cache.resolved_path(), sources)
    return findings
