"""The collector: polls every source on its own schedule and writes what it fetches into the cache.

Each source runs in its own thread, so a slow or failing source never holds up another. A sync drains the
source page by page; every page is committed with its cursor in one transaction. Failures are recorded on the
source's health line; consecutive failures back off exponentially, and past ``circuit_failures`` the source is only
probed every ``circuit_probe_s`` seconds (an open circuit) until it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from shiftboard.adapters import adapter_class
from shiftboard.adapters.base import Adapter, AdapterContext, FetchResult, SourceError, SourceSettings
from shiftboard.store import Store, StoreError

log = logging.getLogger(__name__)

#: Longest pause between retries of a failing source before its circuit opens.
MAX_BACKOFF_S = 120.0
#: Pages fetched in one sync before yielding to the schedule (bounds one sync's length on a huge backlog).
MAX_PAGES_PER_SYNC = 10_000
PRUNE_EVERY_S = 3600.0
#: A poll that brings nothing (one page: no record, nothing skipped, no further page) from a source whose adapter
#: allows it (``Adapter.idle_polls_may_wait``: the simulator) is written (its cursor and the time of success) only
#: once the source's last write is this old. Every commit makes each open board read the cache again, so a source
#: polled every second writes every other idle poll instead of every one. Polls are at most an interval apart and no
#: interval is under 1 s, so the recorded success is never more than 2.5 s old (plus a poll's own time) when the next
#: is written: under the 3 intervals after which health calls a source stale. Sources polled every 1.5 s or more
#: still write every poll. A cursor not yet written is safe to lose for such an adapter: fetching again from the
#: written one brings the same records. The last page of a sync of several pages is always written: its cursor may
#: close a round (sources that read several endpoints in turn), which a restarted process would otherwise repeat.
IDLE_WRITE_S = 1.5


@dataclass(slots=True)
class SyncOutcome:
    """What one sync of one source did."""

    source: str
    records: int = 0
    skipped: int = 0
    pages: int = 0
    error: str | None = None


class SourceRunner:
    """One source: its adapter, cursor and failure count."""

    def __init__(
        self,
        settings: SourceSettings,
        store: Store,
        context: AdapterContext,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.context = context
        #: Called after each commit of this runner that can change what a board shows (a page that brought
        #: something, a failure noted, the first success after failures), in its thread. Not after a healthy source's
        #: idle poll written for its time of success alone: a collecting board's timed refresh shows that age, and
        #: each announced commit costs such a board a read (an idle simulator writes every other second).
        self.on_commit = on_commit
        self._adapter: Adapter | None = None
        state = store.sync_state(settings.name)
        self.cursor = state.cursor if state else None
        self.failures = state.consecutive_failures if state else 0
        #: When this runner last wrote the source's sync state (its clock), None before its first write.
        self.written_at: float | None = None

    @property
    def adapter(self) -> Adapter:
        if self._adapter is None:
            self._adapter = adapter_class(self.settings.kind)(self.settings, self.context)
        return self._adapter

    def sync(self, at: float | None = None) -> SyncOutcome:
        """Fetch every page that is ready and commit each with its cursor. Never raises for a source fault."""
        outcome = SyncOutcome(self.settings.name)
        clock = self.context.clock
        try:
            for _ in range(MAX_PAGES_PER_SYNC):
                moment = clock() if at is None else at
                result = self.adapter.fetch(self.cursor, moment)
                now = clock()
                if self._must_write(result, now, first_page=outcome.pages == 0):
                    idle = self._idle(result) and not self.failures and self.written_at is not None
                    self.store.write_batch(self.settings.name, self.settings.kind, result.batch, result.cursor, now)
                    self.written_at = now
                    if not idle:
                        self._committed()
                self.cursor = result.cursor
                outcome.pages += 1
                outcome.records += len(result.batch)
                outcome.skipped += result.batch.skipped
                for sample in result.batch.skipped_samples:
                    log.warning("%s: skipped a record: %s", self.settings.name, sample)
                if not result.more:
                    break
            self.failures = 0
        except StoreError:
            raise
        except SourceError as error:
            outcome.error = str(error)
        except Exception as error:  # a bug or an API shape we did not foresee: keep the other sources going
            log.exception("%s: unexpected error during sync", self.settings.name)
            outcome.error = f"internal error: {type(error).__name__}: {error}"[:300]
        if outcome.error is not None:
            self.failures += 1
            log.warning("%s: sync failed (%d in a row): %s", self.settings.name, self.failures, outcome.error)
            self.store.record_failure(self.settings.name, self.settings.kind, outcome.error, clock())
            self._committed()
        return outcome

    def _committed(self) -> None:
        if self.on_commit is not None:
            self.on_commit()

    def _must_write(self, result: FetchResult, now: float, *, first_page: bool) -> bool:
        """Whether this page is written now; see IDLE_WRITE_S for the pages that may wait."""
        if not self.adapter.idle_polls_may_wait or not first_page or self.failures or self.written_at is None:
            return True
        if not self._idle(result):
            return True
        return now - self.written_at >= IDLE_WRITE_S

    @staticmethod
    def _idle(result: FetchResult) -> bool:
        """A page that brings nothing: no record, nothing skipped, no further page."""
        return not (result.more or len(result.batch) or result.batch.skipped)

    def next_delay(self) -> float:
        """Seconds until the next sync: the interval, backed off after failures, probing once the circuit opens."""
        interval = self.settings.interval_s
        if self.failures == 0:
            return interval
        if self.failures >= self.settings.circuit_failures:
            return self.settings.circuit_probe_s
        return min(interval * 2 ** (self.failures - 1), MAX_BACKOFF_S)

    def wake(self) -> None:
        """End the adapter's wait between polls, if it has one going (after ``stop`` is set)."""
        if self._adapter is not None:
            self._adapter.wake()

    def close(self) -> None:
        if self._adapter is not None:
            self._adapter.close()


class Collector:
    """All configured sources writing into one cache."""

    def __init__(
        self,
        store: Store,
        sources: list[SourceSettings],
        *,
        context: AdapterContext | None = None,
        retention_days: int | None = None,
        on_sync: Callable[[SyncOutcome], None] | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        """``on_sync``: called after each sync of a source; ``on_commit``: after each commit to the cache that can
        change what a board shows (a page that brought something, a failure noted or ended, a prune that removed
        rows; not a healthy source's idle poll, see ``SourceRunner.on_commit``), from the thread that made it: a
        board collecting in-process reads on it, with no watch of its own on the cache (tui/cache_watch.py is for
        other processes' commits)."""
        self.store = store
        self.context = context or AdapterContext()
        self.runners = [SourceRunner(s, store, self.context, on_commit) for s in sources if s.enabled]
        self.retention_days = retention_days
        self.on_sync = on_sync
        self.on_commit = on_commit
        self.fatal: StoreError | None = None

    def sync_once(self, at: float | None = None) -> list[SyncOutcome]:
        """Sync every source once, one after another (for ``snapshot`` and tests)."""
        return [runner.sync(at) for runner in self.runners]

    def prune(self) -> dict[str, int] | None:
        """Delete history past the retention period."""
        if self.retention_days is None:
            return None
        removed = self.store.prune(self.context.clock() - self.retention_days * 86400)
        if any(removed.values()):
            log.info("pruned %s", removed)
            if self.on_commit is not None:
                self.on_commit()
        return removed

    def run(self, stop: threading.Event) -> None:
        """Poll every source until ``stop`` is set. A cache that cannot be written stops everything."""
        threads = [
            threading.Thread(target=self._loop, args=(runner, stop), name=f"source:{runner.settings.name}")
            for runner in self.runners
        ]
        for thread in threads:
            thread.daemon = True
            thread.start()
        next_prune = time.monotonic()
        try:
            while not stop.is_set():
                if time.monotonic() >= next_prune:
                    try:
                        self.prune()
                    except StoreError as error:
                        self._fail(error, stop)
                    next_prune = time.monotonic() + PRUNE_EVERY_S
                # Woken by ``stop`` or at the next prune only, not every second: this thread idles in every board
                # that collects in-process.
                stop.wait(max(0.0, next_prune - time.monotonic()))
        finally:
            stop.set()
            for runner in self.runners:
                runner.wake()
            for thread in threads:
                thread.join(timeout=5)
            for runner in self.runners:
                runner.close()

    def _loop(self, runner: SourceRunner, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                outcome = runner.sync()
            except StoreError as error:
                self._fail(error, stop)
                return
            if self.on_sync is not None:
                self.on_sync(outcome)
            if runner.failures:
                stop.wait(runner.next_delay())  # backing off: no early wake-up
            else:
                runner.adapter.wait(stop, runner.next_delay())

    def _fail(self, error: StoreError, stop: threading.Event) -> None:
        log.error("cache write failed: %s", error)
        self.fatal = error
        stop.set()
