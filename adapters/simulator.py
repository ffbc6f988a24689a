"""The built-in simulated contact centre (``kind = "simulator"``): the source shiftboard runs with no config file.

The model itself is in ``_contact_centre.py``. This module turns it into a source:

- A run starts at an *origin*: UTC midnight of the first fetch's day minus 12 h, so any local "today" within ±12 h of
  UTC is filled at once. The first fetch simulates from the origin up to ``at`` (12–36 h of model time) in steps of
  :data:`HISTORY_STEP_S` of model time, and returns each step's changes in pages of at most :data:`PAGE_SIZE`
  records (``more`` until the last); a record that changes in two steps is sent in both. The same seed, parameters
  and origin give the same records, ids included ("20261122-1a2b-billing-000123": day, run fingerprint, queue,
  number), so two processes writing one cache agree instead of doubling.
- The cursor (JSON) holds the run: origin, seed, parameters, the clock mapping and the model time already emitted.
  Each fetch advances the model to ``at`` and emits what was created or changed since the cursor, in its latest
  state (a contact answered later is sent again: the cache upserts by id). A process that starts from a stored
  cursor re-simulates the run up to it without emitting, then carries on.
- ``speed`` S makes S model seconds pass per wall second after the first fetch. Record times stay on the wall axis,
  so at S = 10 a 5-minute call lasts 30 wall seconds. The part simulated by the first fetch is always at speed 1.
- Between polls the adapter waits for the model's next event rather than the full interval (but at least
  :data:`MIN_POLL_GAP_S`), so a change in the model reaches the cache moments after it happens.
- A run older than 48 h (or whose seed or parameters changed) is replaced by a new one. The old run's open cases
  are sent as deleted, its waiting and ongoing contacts as ended, its agents as offline; the new run then sends only
  what is open at the switch and what changes after it, so the cache's history is not counted twice.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator

from shiftboard.adapters._contact_centre import (
    DEFAULT_QUEUES,
    Clock,
    Params,
    QueueSpec,
    Run,
    slug,
    to_batch,
)
from shiftboard.adapters.base import Adapter, Cursor, FetchResult, SourceSettings, check_time_zone

log = logging.getLogger(__name__)

DEFAULT_SEED = 20261122
#: Records per page: each page is one transaction in the cache.
PAGE_SIZE = 20_000
#: A run is replaced once ``at`` is this far past its origin.
RUN_LIFETIME_S = 48 * 3600.0
CURSOR_VERSION = 1
#: Model time simulated per step of a long fetch. The first fetch's 12–36 h are simulated and sent in 4 h steps: holding
#: every record of 36 h at once (and a copy of each) left about 16 MB more resident in the process after the fetch;
#: in 4 h steps 10 MB, for 5 % more records sent (those that change in two steps go twice) and 8 % more CPU. Shorter
#: steps save little more memory for much more CPU (1 h: 9 MB, +45 % CPU).
HISTORY_STEP_S = 4 * 3600.0
#: Shortest wait between polls when the model's next event comes sooner than the interval: a change reaches the cache
#: within this much of happening, and a busy model (a high ``speed``) is polled at most twice a second.
MIN_POLL_GAP_S = 0.5
#: A poll for an event comes this long after it: a fetch runs the model up to, not including, its moment.
EVENT_MARGIN_S = 0.002


class SimulatorSettings(SourceSettings):
    """Keys of a ``kind = "simulator"`` source."""

    # 5 s, not 1: the simulator polls just after each event of its model, so the interval only bounds the quiet
    # spells; at 1 s, polls that brought nothing were two-thirds of the polls at the model's busy hour and half
    # the collector thread's CPU (docs/benchmarks.md, session 17). 5 s keeps the header's "updated just now".
    interval_s: float = Field(
        5.0, ge=1.0, description="Longest wait between polls; the simulator also polls just after each model event."
    )
    seed: int = Field(DEFAULT_SEED, description="Random seed: the same seed gives the same contact centre.")
    speed: float = Field(
        1.0, gt=0, le=3600, description="Model seconds per wall second after the first fetch (1 = real time)."
    )
    timezone: str | None = Field(
        None, description="IANA zone whose local day the arrival curve and shifts follow; default: this machine's."
    )
    queues: tuple[QueueSpec, ...] | None = Field(
        None, description="Queue definitions ([[sources.queues]] tables); default: Billing, Tech support, Sales."
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return check_time_zone(value)

    @field_validator("queues")
    @classmethod
    def _unique(cls, value: tuple[QueueSpec, ...] | None) -> tuple[QueueSpec, ...] | None:
        if value is not None:
            if not value:
                raise ValueError("give at least one queue, or leave queues out for the default three")
            slugs = [slug(q.name) for q in value]
            if len(set(slugs)) != len(slugs):
                raise ValueError("queue names must be unique, ignoring case and punctuation (they make record ids)")
        return value


def run_origin(at: float) -> float:
    """The origin of a run first fetched at ``at``: UTC midnight of that day minus 12 hours."""
    midnight = datetime.fromtimestamp(at, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp() - 12 * 3600


def utc_offset(zone: str | None, moment: float) -> int:
    """Seconds east of UTC of ``zone`` (None: this machine's zone) at ``moment``, fixed for a run."""
    tz = ZoneInfo(zone) if zone else datetime.fromtimestamp(moment).astimezone().tzinfo
    offset = datetime.fromtimestamp(moment, tz=tz).utcoffset()
    return int(offset.total_seconds()) if offset else 0


class SimulatorAdapter(Adapter):
    """Serves the simulated contact centre through the ordinary fetch/cursor contract."""

    kind = "simulator"
    Settings = SimulatorSettings
    settings: SimulatorSettings
    #: Its cursor is the model time emitted: from an older one the same run is simulated again (same seed, same ids)
    #: and re-sends the same records, which the cache upserts.
    idle_polls_may_wait = True

    def __init__(self, settings: SourceSettings, context: Any = None) -> None:
        super().__init__(settings, context)
        #: The run in memory, reused while the cursor we are given is the one we left it at.
        self._run: Run | None = None
        self._run_key: tuple[Any, ...] | None = None
        #: Records of the page sequence in progress: (cursor key it belongs to, records).
        self._pending: tuple[tuple[Any, ...], list[Any]] | None = None
        # The collector hands back the cursor of the last fetch unchanged, and its parameters (a dict shared by the
        # cursors of one run) stay the same object: what was checked of them is not checked again. An idle poll
        # every second spent half its time validating and serialising the same parameters.
        #: The cursor the last fetch returned: valid, since this adapter made it.
        self._returned: Cursor | None = None
        #: (parameters, origin) found equal to the settings' parameters for that origin (``_stale``).
        self._params_current: tuple[dict[str, Any], float] | None = None
        #: (parameters, their JSON with sorted keys) for ``_run_key``.
        self._params_text: tuple[dict[str, Any], str] | None = None

    # -- parameters ---------------------------------------------------------------------------------------

    def params_for(self, origin: float) -> Params:
        """The model parameters of a run with this origin."""
        settings = self.settings
        return Params(
            queues=settings.queues or DEFAULT_QUEUES,
            utc_offset_s=utc_offset(settings.timezone, origin + 12 * 3600),
        )

    def _new_state(self, at: float) -> dict[str, Any]:
        origin = run_origin(at)
        segments = [[0.0, origin, 1.0]]
        if self.settings.speed != 1.0:
            segments.append([at - origin, at, self.settings.speed])
        return {
            "v": CURSOR_VERSION,
            "seed": self.settings.seed,
            "params": self.params_for(origin).model_dump(mode="json"),
            "clock": segments,
            "done": 0.0,
            "page": {"to": at - origin, "skip": 0, "baseline": False},
        }

    # -- fetch --------------------------------------------------------------------------------------------

    def wait(self, stop: threading.Event, seconds: float) -> None:
        """Wait ``seconds`` or, when the model's next event comes sooner, until just after it."""
        stop.wait(self.next_poll_in(seconds))

    def next_poll_in(self, seconds: float) -> float:
        """Seconds until the next poll: ``seconds``, or less when the run in memory (as the last fetch left it) has
        an event due sooner; never under :data:`MIN_POLL_GAP_S`."""
        run = self._run
        if run is None or self._pending is not None:
            return seconds
        due = run.wall(run.next_event()) + EVENT_MARGIN_S - self.context.clock()
        return min(seconds, max(MIN_POLL_GAP_S, due))

    def fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        result = self._fetch(cursor, at)
        self._returned = result.cursor
        return result

    def _fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        state = dict(cursor) if cursor is not None and cursor is self._returned else _valid(cursor)
        if state is None:
            if cursor is not None:
                log.warning("%s: unreadable simulator cursor; starting a new run", self.name)
            state = self._new_state(at)
        if state["page"] is None:
            clock = Clock(state["clock"])
            if self._stale(state, clock, at):
                return self._switch_runs(state, clock, at)
            if self.settings.speed != clock.speed:
                state["clock"] = clock.with_speed(state["done"], self.settings.speed).segments
                clock = Clock(state["clock"])
            target = clock.sim(at)
            if target <= state["done"]:
                return FetchResult(to_batch([]), state, more=False)
            state["page"] = {"to": target, "skip": 0, "baseline": False}
        return self._emit_page(state)

    def _stale(self, state: dict[str, Any], clock: Clock, at: float) -> bool:
        if state["seed"] != self.settings.seed:
            return True
        if at - clock.origin > RUN_LIFETIME_S:
            return True
        params, current = state["params"], self._params_current
        if current is not None and current[0] is params and current[1] == clock.origin:
            return False
        if Params.model_validate(params) != self.params_for(clock.origin):
            return True
        self._params_current = (params, clock.origin)
        return False

    def _emit_page(self, state: dict[str, Any]) -> FetchResult:
        page = state["page"]
        end = min(page["to"], state["done"] + HISTORY_STEP_S)
        key = (self._key(state), state["done"], end, page["baseline"])
        if self._pending is None or self._pending[0] != key:
            self._pending = None  # the last step's records go before this step's are made
            run = self._run_at(state, state["done"])
            records = run.baseline() if page["baseline"] else []
            if state["done"] > 0:
                run.take()  # changes before the cursor were emitted by earlier fetches
            run.advance(end)
            records = _merge(records, run.take())
            self._pending = (key, records)
        records = self._pending[1]
        skip = page["skip"]
        chunk = records[skip : skip + PAGE_SIZE]
        state = dict(state)
        if skip + PAGE_SIZE < len(records):
            state["page"] = {**page, "skip": skip + PAGE_SIZE}
            return FetchResult(to_batch(chunk), state, more=True)
        state["done"] = end
        self._pending = None
        if end < page["to"]:
            state["page"] = {"to": page["to"], "skip": 0, "baseline": False}
            return FetchResult(to_batch(chunk), state, more=True)
        state["page"] = None
        return FetchResult(to_batch(chunk), state, more=False)

    def _run_at(self, state: dict[str, Any], sim: float) -> Run:
        """The run the cursor describes, at model time ``sim``: the one in memory, or re-simulated from its origin."""
        key = self._key(state)
        run = self._run
        if run is None or self._run_key != key or run.now > sim:
            run = Run(
                Params.model_validate(state["params"]),
                state["seed"],
                Clock(state["clock"]),
                self.name,
                realtime=True,
            )
            self._run, self._run_key = run, key
        run.advance(sim)
        return run

    def _key(self, state: dict[str, Any]) -> tuple[Any, ...]:
        """What identifies the cursor's run: its seed, parameters and clock."""
        params, known = state["params"], self._params_text
        if known is None or known[0] is not params:
            # Sorted keys: a cursor read back from the cache has its keys sorted.
            known = self._params_text = (params, json.dumps(params, sort_keys=True))
        return (state["seed"], known[1], tuple(tuple(s) for s in state["clock"]))

    def _switch_runs(self, state: dict[str, Any], clock: Clock, at: float) -> FetchResult:
        """End the cursor's run (its open items closed at its last emitted moment) and set up a new one."""
        old = self._run_at(state, state["done"])
        old.take()
        closing = old.closing()
        ended_at = clock.wall(state["done"])
        fresh = self._new_state(at)
        new_clock = Clock(fresh["clock"])
        since = new_clock.sim(ended_at)
        if since > 0:
            # The new run sends what is open at the switch and what changes after it, not its whole history.
            fresh["done"] = since
            fresh["page"] = {"to": max(new_clock.sim(at), since), "skip": 0, "baseline": True}
        log.info("%s: run of %s ends; a new run starts", self.name, _day(clock.origin))
        self._run, self._run_key, self._pending = None, None, None
        return FetchResult(to_batch(closing), fresh, more=True)


def _valid(cursor: Cursor | None) -> dict[str, Any] | None:
    """The cursor as this version writes it, or None if it is missing or from something else."""
    if not isinstance(cursor, dict) or cursor.get("v") != CURSOR_VERSION:
        return None
    try:
        Params.model_validate(cursor["params"])
        segments = cursor["clock"]
        if not segments or any(len(s) != 3 or not all(math.isfinite(float(v)) for v in s) for s in segments):
            return None
        float(cursor["done"])
        int(cursor["seed"])
        page = cursor["page"]
        if page is not None and not {"to", "skip", "baseline"} <= set(page):
            return None
    except (KeyError, TypeError, ValueError, ValidationError):
        return None
    return dict(cursor)


def _record_key(record: Any) -> tuple[Any, ...]:
    return (type(record).__name__, getattr(record, "id", None) or (record.agent, record.since))


def _merge(first: list[Any], then: list[Any]) -> list[Any]:
    """``first`` then ``then``, a record in both kept once, in its later version."""
    later = {_record_key(r): r for r in then}
    merged = [later.pop(_record_key(r), r) for r in first]
    return merged + [r for r in then if _record_key(r) in later]


def _day(origin: float) -> str:
    return datetime.fromtimestamp(origin + 12 * 3600, tz=UTC).strftime("%Y-%m-%d")


ADAPTER = SimulatorAdapter
