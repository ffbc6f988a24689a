"""A SimPy model of a 24/7 contact centre: the simulator source's engine (the adapter is in simulator.py).

The model runs on its own clock, seconds since the run's ``origin``; a :class:`Clock` maps that onto the wall axis
(UTC epoch seconds) that every record uses. What it models, per queue (parameters: ../shared/reference/metrics.md
§11):

- Calls and chats arrive as a non-homogeneous Poisson process: a time-of-day curve (never zero, so the board is alive
  at night) times a day-to-day busyness factor (Gamma, mean 1, as in the SSJ call-centre example). Arrivals are
  drawn interval by interval (15 min), restarting the exponential gaps at each boundary, which is exact for a
  piecewise-constant rate and never jumps over a short busy interval.
- Handle time is lognormal with a given mean and CV (exponential for the Erlang C check), then wrap-up.
- Agents work shifts sized from the arrival curve (square-root staffing plus shrinkage), take planned breaks and
  the odd short "away"; their state changes (available, busy, wrap_up, away, offline) are AgentState records.
- Customers have patience (exponential, plus a few who hang up within seconds): a caller not answered in time
  abandons. A queue holds at most ``capacity`` waiting contacts; the next caller is blocked.
- Email, web and chat cases move through new → open/pending/on_hold → solved → closed, with first replies, agent
  replies, reopenings and ratings (CSAT mostly, some NPS and CES).

Everything random comes from named ``random.Random`` streams derived from the seed, so one seed and one origin give
the same records however the run is stepped.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import json
import math
import operator
import random
from collections import deque
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

import simpy
import simpy.rt
from pydantic import BaseModel, ConfigDict, Field

from shiftboard.model import AgentState, Batch, Case, Contact, Rating

DAY_S = 86400.0
#: Arrivals are drawn per interval of this length at the interval's rate.
ARRIVAL_INTERVAL_S = 900.0
#: Share of the peak arrival rate at each hour of the local day (0 = midnight). A 24/7 centre: never empty.
DAY_CURVE: tuple[float, ...] = (
    0.16, 0.13, 0.11, 0.10, 0.11, 0.16, 0.28, 0.48, 0.74, 0.93, 1.00, 0.98,
    0.86, 0.90, 0.95, 0.92, 0.84, 0.70, 0.55, 0.45, 0.37, 0.30, 0.24, 0.19,
)  # fmt: skip
#: Shape of the day-to-day busyness factor Gamma(k, 1/k): mean 1, CV 1/sqrt(k) (about 20 %).
DAY_FACTOR_SHAPE = 25.0
#: Shift length and the local hours shifts may start at.
SHIFT_S = 8.5 * 3600
#: Square-root staffing: agents on duty = A + beta * sqrt(A), A the offered load in Erlangs.
STAFFING_BETA = 0.3
#: Share of a shift spent on breaks and away, added on top of the staffing requirement.
SHRINKAGE = 0.14
#: Customer numbers are drawn from a pool this size, so some customers call again.
CUSTOMER_POOL = 40_000


class QueueSpec(BaseModel):
    """One simulated queue. Rates are per hour at the busiest time of day; the day curve scales them down."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Queue name shown on the board.")
    calls_per_hour: float = Field(ge=0, description="Calls offered per hour at the daily peak.")
    chats_per_hour: float = Field(0.0, ge=0, description="Chats offered per hour at the daily peak.")
    cases_per_hour: float = Field(0.0, ge=0, description="Email/web/chat cases created per hour at the peak.")
    handle_s: float = Field(270.0, gt=0, description="Mean talk time of a call, seconds.")
    handle_cv: float = Field(0.8, ge=0, description="Coefficient of variation of talk time (lognormal).")
    chat_handle_s: float = Field(420.0, gt=0, description="Mean handling time of a chat, seconds.")
    wrap_up_s: float = Field(30.0, ge=0, description="Mean after-contact work, seconds (0: none).")
    patience_s: float | None = Field(
        240.0, gt=0, description="Mean customer patience while waiting (exponential); unset: nobody abandons."
    )
    impatient_pct: float = Field(
        3.0, ge=0, le=100, description="Percent of customers who hang up within 5 s unless answered at once."
    )
    capacity: int | None = Field(
        25, ge=0, description="Contacts that may wait at once; the next is blocked. Unset: no limit."
    )
    agents: int | None = Field(
        None, ge=1, description="Agents on duty around the clock; unset: shifts staffed from the arrival curve."
    )


DEFAULT_QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec(
        name="Billing", calls_per_hour=70, chats_per_hour=25, cases_per_hour=12,
        handle_s=270, handle_cv=0.8, chat_handle_s=420, wrap_up_s=30, patience_s=200, capacity=12,
    ),
    QueueSpec(
        name="Tech support", calls_per_hour=90, chats_per_hour=35, cases_per_hour=16,
        handle_s=420, handle_cv=0.9, chat_handle_s=600, wrap_up_s=45, patience_s=300, capacity=25,
    ),
    QueueSpec(
        name="Sales", calls_per_hour=50, chats_per_hour=30, cases_per_hour=6,
        handle_s=300, handle_cv=0.7, chat_handle_s=360, wrap_up_s=20, patience_s=150, capacity=6,
    ),
)  # fmt: skip


class Params(BaseModel):
    """Everything that shapes a run besides its seed and origin. Kept in the adapter's cursor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    queues: tuple[QueueSpec, ...] = DEFAULT_QUEUES
    #: Offset of the centre's local time from UTC, seconds: the day curve and shifts follow local time.
    utc_offset_s: int = 0
    #: False: every hour has the peak rate (for checks against theory).
    day_curve: bool = True
    #: False: no day-to-day busyness factor.
    day_factor: bool = True
    #: False: agents take no breaks and never go away.
    breaks: bool = True
    handle_distribution: Literal["lognormal", "exponential"] = "lognormal"

    def fingerprint(self, seed: int) -> str:
        """Four hex digits that tell runs of different parameters or seeds apart in record ids."""
        text = json.dumps([seed, self.model_dump(mode="json")], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:4]


@dataclass(slots=True)
class Clock:
    """Maps model time (seconds since origin) onto the wall axis, piecewise: ``[sim_start, wall_start, speed]``.

    The first segment is ``[0, origin, 1]``; a segment with speed S makes S model seconds pass per wall second.
    """

    segments: list[list[float]]
    _starts: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self._starts = [s[0] for s in self.segments]

    @property
    def origin(self) -> float:
        return self.segments[0][1]

    @property
    def speed(self) -> float:
        return self.segments[-1][2]

    def wall(self, sim: float) -> float:
        """Wall time of model time ``sim``."""
        if len(self.segments) == 1:
            return self.segments[0][1] + sim
        start, wall_start, speed = self.segments[max(0, bisect.bisect_right(self._starts, sim) - 1)]
        return wall_start + (sim - start) / speed

    def sim(self, wall: float) -> float:
        """Model time of wall time ``wall``."""
        index = 0
        for i, segment in enumerate(self.segments):
            if segment[1] <= wall:
                index = i
        start, wall_start, speed = self.segments[index]
        return start + (wall - wall_start) * speed

    def with_speed(self, sim: float, speed: float) -> Clock:
        """This clock, running at ``speed`` from model time ``sim`` on."""
        if speed == self.speed:
            return self
        kept = [s for s in self.segments if s[0] < sim] or self.segments[:1]
        return Clock([*map(list, kept), [sim, self.wall(sim), speed]])


def lognormal(rng: random.Random, mean: float, cv: float) -> float:
    """A lognormal draw with the given mean and coefficient of variation (metrics.md §11.3)."""
    if cv <= 0:
        return mean
    sigma = math.sqrt(math.log(1 + cv * cv))
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def curve_at(local_s: float) -> float:
    """The day curve at a local time of day, interpolated linearly between hour midpoints."""
    hour = (local_s % DAY_S) / 3600.0 - 0.5
    low = math.floor(hour)
    weight = hour - low
    return DAY_CURVE[low % 24] * (1 - weight) + DAY_CURVE[(low + 1) % 24] * weight


def staffing_plan(spec: QueueSpec, params: Params) -> list[float]:
    """Local start times (seconds after midnight) of one shift per agent, covering each hour's requirement.

    The requirement at each hour is square-root staffing on the hour's offered load, grossed up for shrinkage.
    Shifts are placed greedily from 06:00 round the clock: at the first under-covered hour a shift starts.
    Hand-written because it is ten lines and no staffing library covers shift placement.
    """
    if spec.agents is not None:
        return []
    need = []
    for hour in range(24):
        scale = curve_at(hour * 3600 + 1800) if params.day_curve else 1.0
        load = scale * (spec.calls_per_hour * (spec.handle_s + spec.wrap_up_s)) / 3600
        load += scale * (spec.chats_per_hour * (spec.chat_handle_s + spec.wrap_up_s)) / 3600
        agents = load + STAFFING_BETA * math.sqrt(load) if load > 0 else 1
        if params.breaks:
            agents /= 1 - SHRINKAGE
        need.append(max(1, math.ceil(agents)))
    cover = [0] * 24
    starts: list[float] = []
    shift_hours = int(SHIFT_S // 3600)
    for step in range(24):
        hour = (6 + step) % 24
        while cover[hour] < need[hour]:
            starts.append(hour * 3600.0)
            for k in range(shift_hours):
                cover[(hour + k) % 24] += 1
    return starts


def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "queue"


FIRST_NAMES = (
    "Ana", "Ben", "Chloé", "Dev", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira", "Liam", "Mia",
    "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wen", "Xavier", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Silva", "Okafor", "Martin", "Patel", "Novak", "Haddad", "Lee", "Berg", "Costa", "Weber", "Sato", "Murphy",
    "Rossi", "Cohen", "Ivanova", "Ruiz", "Taylor", "Jensen", "Khan", "Nilsen", "Ali", "Horvat", "Zhou", "Dubois",
    "Fischer", "Kowalski",
)  # fmt: skip


def agent_name(number: int) -> str:
    """A distinct name for each of the first 676 agents of a run."""
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    return f"{first} {LAST_NAMES[(7 * number + number // len(FIRST_NAMES)) % len(LAST_NAMES)]}"


SUBJECTS = {
    "billing": ("Invoice amount looks wrong", "Refund not received", "Change payment method", "Double charge",
                "VAT number on invoice", "Cancel subscription"),
    "tech-support": ("Cannot log in", "App crashes on start", "Sync stuck at 99%", "Error 500 on export",
                     "Password reset email missing", "Slow dashboard", "API returns 429"),
    "sales": ("Quote for 50 seats", "Upgrade to annual plan", "Discount for non-profit", "Trial extension",
              "Question about pricing tiers"),
}  # fmt: skip
GOOD_COMMENTS = ("Quick and friendly, thanks!", "Solved in one go.", "Great help", "Very patient agent.")
BAD_COMMENTS = ("Took far too long.", "Had to explain twice.", "Still not fixed", "Nobody called back.")
NEUTRAL_COMMENTS = ("OK", "Fine, but slow at first.", "It works now.")
CASE_CHANNELS = (("email", 0.6), ("web", 0.25), ("chat", 0.15))
CASE_PRIORITIES = (("low", 0.2), ("normal", 0.6), ("high", 0.15), ("urgent", 0.05))
#: Mean time to first reply by priority, seconds.
FIRST_REPLY_S = {"urgent": 1200.0, "high": 2700.0, "normal": 9000.0, "low": 18000.0}


def _pick(rng: random.Random, weighted: Iterable[tuple[str, float]]) -> str:
    items = list(weighted)
    return rng.choices([v for v, _ in items], [w for _, w in items])[0]


@dataclass(slots=True, eq=False)
class _Agent:
    id: str
    name: str
    queue: _Queue
    shift_start_local: float | None  # None: on duty around the clock
    state: str = "offline"
    last: AgentState | None = None
    wake: simpy.Event | None = None


@dataclass(slots=True, eq=False)
class _Queue:
    spec: QueueSpec
    slug: str
    waiting: deque[Contact] = field(default_factory=deque)
    idle: deque[_Agent] = field(default_factory=deque)
    agents: list[_Agent] = field(default_factory=list)
    contacts: int = 0
    cases: int = 0
    ratings: int = 0
    rng: random.Random = field(default_factory=random.Random)
    patience_rng: random.Random = field(default_factory=random.Random)
    service_rng: random.Random = field(default_factory=random.Random)


Key = tuple[str, ...]


class Run:
    """One run of the model from ``clock.origin``: step it with :meth:`advance`, collect changes with :meth:`take`.

    ``realtime`` runs it on ``simpy.rt.RealtimeEnvironment`` (factor 1/speed, not strict). Each advance pins that
    environment's real-time anchor so the target is "now": a fetch never sleeps, whatever moment it asks for.
    """

    def __init__(self, params: Params, seed: int, clock: Clock, source: str, *, realtime: bool = False) -> None:
        self.params = params
        self.seed = seed
        self.clock = clock
        self.source = source
        self.env: simpy.Environment = (
            simpy.rt.RealtimeEnvironment(factor=1.0 / clock.speed, strict=False) if realtime else simpy.Environment()
        )
        day = datetime.fromtimestamp(clock.origin + DAY_S / 2, tz=UTC).strftime("%Y%m%d")
        self.tag = f"{day}-{params.fingerprint(seed)}"
        self.changed: dict[Key, Any] = {}
        self.active_contacts: dict[str, Contact] = {}
        self.open_cases: dict[str, Case] = {}
        self.queues = [_Queue(spec, slug(spec.name)) for spec in params.queues]
        for queue in self.queues:
            self._start_queue(queue)

    # -- stepping -----------------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return float(self.env.now)

    def advance(self, target: float) -> None:
        """Run the model up to (not including) model time ``target``."""
        if target <= self.env.now:
            return
        env = self.env
        if isinstance(env, simpy.rt.RealtimeEnvironment):
            env.env_start = env.now
            env.real_start = simpy.rt.monotonic() - (target - env.now) * env.factor
        # The model allocates many small objects that live until they are emitted; CPython's cyclic collector
        # rescans them over and over (a 14-day run took 2.7 times longer). Pause it for the step; whatever cycles
        # the step leaves are collected once it is back on.
        paused = gc.isenabled()
        gc.disable()
        try:
            env.run(until=target)
            # SimPy puts the event that stopped the run back at the head of its queue (at ``target``, no callbacks
            # left); drop it so that peek() shows the model's own next event.
            if env.peek() == env.now:
                env.step()
        finally:
            if paused:
                gc.enable()

    def next_event(self) -> float:
        """Model time of the next scheduled event (inf if none): nothing in the run changes before it."""
        return float(self.env.peek())

    def take(self, *, copies: bool = True) -> list[Any]:
        """Every record created or changed since the last take, in the order they first changed.

        Copies by default, since the run goes on changing its records; ``copies=False`` when the run is finished.
        """
        records = [_copy(r) for r in self.changed.values()] if copies else list(self.changed.values())
        self.changed.clear()
        return records

    def baseline(self) -> list[Any]:
        """What is open now: waiting and ongoing contacts, open cases, and each agent's state as of now."""
        at = self.wall()
        records: list[Any] = [_copy(c) for c in self.active_contacts.values()]
        records += [_copy(c) for c in self.open_cases.values()]
        for queue in self.queues:
            for agent in queue.agents:
                records.append(AgentState(self.source, agent.id, agent.state, at, agent.name, (queue.spec.name,)))
        return records

    def closing(self) -> list[Any]:
        """Records that end this run at its current time: open cases deleted, contacts ended, agents offline."""
        at = self.wall()
        records: list[Any] = []
        for contact in self.active_contacts.values():
            records.append(_copy(contact))
            records[-1].ended_at = at
        for case in self.open_cases.values():
            records.append(_copy(case))
            records[-1].status = "deleted"
            records[-1].updated_at = at
        for queue in self.queues:
            for agent in queue.agents:
                if agent.state != "offline":
                    records.append(AgentState(self.source, agent.id, "offline", at, agent.name, (queue.spec.name,)))
        return records

    # -- helpers ------------------------------------------------------------------------------------------

    def wall(self, sim: float | None = None) -> float:
        return self.clock.wall(self.env.now if sim is None else sim)

    def _rng(self, *name: str) -> random.Random:
        return random.Random("/".join((str(self.seed), *name)))

    def _touch(self, key: Key, record: Any) -> None:
        self.changed[key] = record

    def _local(self, sim: float) -> float:
        return self.clock.origin + sim + self.params.utc_offset_s

    def _wait(self, until: float) -> simpy.Event:
        return self.env.timeout(max(0.0, until - self.env.now))

    # -- arrivals -----------------------------------------------------------------------------------------

    def _start_queue(self, queue: _Queue) -> None:
        spec, env = queue.spec, self.env
        factors: dict[int, float] = {}

        def rate(sim: float, per_hour: float) -> float:
            if per_hour <= 0:
                return 0.0
            local = self._local(sim)
            scale = curve_at(local) if self.params.day_curve else 1.0
            if self.params.day_factor:
                day = int(local // DAY_S)
                if day not in factors:  # a stream per day: the factor cannot depend on how the run is stepped
                    rng = self._rng(queue.slug, "day", str(day))
                    factors[day] = rng.gammavariate(DAY_FACTOR_SHAPE, 1 / DAY_FACTOR_SHAPE)
                scale *= factors[day]
            return per_hour * scale / 3600.0

        queue.rng = self._rng(queue.slug, "customers")
        queue.patience_rng = self._rng(queue.slug, "patience")
        queue.service_rng = self._rng(queue.slug, "service")
        self._start_agents(queue)
        case_rng = self._rng(queue.slug, "case-life")
        self._initial_backlog(queue, case_rng)
        env.process(self._arrivals(lambda t: rate(t, spec.calls_per_hour), self._rng(queue.slug, "calls"),
                                   lambda: self._offer(queue, "voice")))  # fmt: skip
        env.process(self._arrivals(lambda t: rate(t, spec.chats_per_hour), self._rng(queue.slug, "chats"),
                                   lambda: self._offer(queue, "chat")))  # fmt: skip
        env.process(self._arrivals(lambda t: rate(t, spec.cases_per_hour), self._rng(queue.slug, "cases"),
                                   lambda: env.process(self._case_life(queue, case_rng, None))))  # fmt: skip

    def _arrivals(
        self, rate: Callable[[float], float], rng: random.Random, arrive: Callable[[], object]
    ) -> Generator[simpy.Event, Any, None]:
        """Poisson arrivals at a rate that is constant within each interval; gaps restart at each boundary."""
        start = 0.0
        while True:
            end = start + ARRIVAL_INTERVAL_S
            per_s = rate(start + ARRIVAL_INTERVAL_S / 2)
            moment = start
            while per_s > 0:
                moment += rng.expovariate(per_s)
                if moment >= end:
                    break
                yield self._wait(moment)
                arrive()
            yield self._wait(end)
            start = end

    # -- contacts -----------------------------------------------------------------------------------------

    def _offer(self, queue: _Queue, channel: str) -> None:
        rng = queue.rng
        queue.contacts += 1
        contact = Contact(
            self.source,
            f"{self.tag}-{queue.slug}-{queue.contacts:06d}",
            queue.spec.name,
            self.wall(),
            channel=channel,
            customer=f"C{rng.randrange(CUSTOMER_POOL):05d}",
        )
        key = ("contact", contact.id)
        if queue.idle:
            agent = queue.idle.popleft()
            contact.answered_at = contact.offered_at
            contact.agent = agent.id
            self.active_contacts[contact.id] = contact
            self._touch(key, contact)
            assert agent.wake is not None
            agent.wake.succeed(contact)
            return
        capacity = queue.spec.capacity
        if capacity is not None and len(queue.waiting) >= capacity:
            contact.blocked = True
            self._touch(key, contact)
            return
        queue.waiting.append(contact)
        self.active_contacts[contact.id] = contact
        self._touch(key, contact)
        spec = queue.spec
        patience_rng = queue.patience_rng
        if spec.impatient_pct and patience_rng.random() < spec.impatient_pct / 100:
            patience: float | None = patience_rng.uniform(0.5, 5.0)
        elif spec.patience_s is not None:
            patience = patience_rng.expovariate(1 / spec.patience_s)
        else:
            patience = None
        if patience is not None:
            self.env.timeout(patience).callbacks.append(lambda _event: self._abandon(queue, contact))

    def _abandon(self, queue: _Queue, contact: Contact) -> None:
        if contact.answered_at is not None or contact.abandoned_at is not None:
            return
        queue.waiting.remove(contact)
        contact.abandoned_at = self.wall()
        del self.active_contacts[contact.id]
        self._touch(("contact", contact.id), contact)

    def _handle(self, agent: _Agent, contact: Contact) -> Generator[simpy.Event, Any, None]:
        spec, rng = agent.queue.spec, agent.queue.service_rng
        self._set_state(agent, "busy")
        mean = spec.handle_s if contact.channel == "voice" else spec.chat_handle_s
        if self.params.handle_distribution == "exponential":
            talk = rng.expovariate(1 / mean)
        else:
            talk = lognormal(rng, mean, spec.handle_cv)
        wrap = lognormal(rng, spec.wrap_up_s, 0.5) if spec.wrap_up_s > 0 else 0.0
        yield self.env.timeout(talk)
        now = self.env.now
        contact.ended_at = self.wall()
        contact.wrap_up_s = self.wall(now + wrap) - contact.ended_at
        if contact.channel == "voice" and rng.random() < 0.2:
            contact.hold_s = min(talk * rng.uniform(0.05, 0.3), talk)
        del self.active_contacts[contact.id]
        self._touch(("contact", contact.id), contact)
        if contact.channel == "chat" and rng.random() < 0.15:
            self._rate(agent.queue, rng, rng.uniform(30, 600), agent.id, None, kind="csat")
        if wrap > 0:
            self._set_state(agent, "wrap_up")
            yield self.env.timeout(wrap)

    # -- agents -------------------------------------------------------------------------------------------

    def _start_agents(self, queue: _Queue) -> None:
        spec = queue.spec
        starts: list[float | None] = list(staffing_plan(spec, self.params))
        if spec.agents is not None:
            starts = [None] * spec.agents
        rng = self._rng(queue.slug, "agents")
        for number, start in enumerate(starts, 1):
            name = agent_name(sum(len(q.agents) for q in self.queues))
            agent = _Agent(f"{queue.slug}-{number:02d}", name, queue, start)
            queue.agents.append(agent)
            self.env.process(self._agent_life(agent, random.Random(rng.random())))

    def _shifts(self, agent: _Agent, rng: random.Random) -> Iterable[tuple[float, float]]:
        """(start, end) in model time of each of the agent's shifts, from the one in progress at origin."""
        if agent.shift_start_local is None:
            yield 0.0, math.inf
            return
        local_origin = self._local(0.0)
        first = local_origin - local_origin % DAY_S + agent.shift_start_local - DAY_S
        day = 0
        while True:
            start = first + day * DAY_S - local_origin
            late = rng.uniform(-120, 300)
            day += 1
            if start + SHIFT_S > 0:
                yield max(0.0, start + late), start + SHIFT_S + rng.uniform(0, 600)

    def _breaks(self, start: float, end: float, rng: random.Random) -> list[tuple[float, float]]:
        """Planned breaks of one shift: two short ones, a lunch, and now and then a few minutes away."""
        if not self.params.breaks or math.isinf(end):
            return []
        length = end - start
        plan = [
            (start + length * 0.25 + rng.uniform(-900, 900), rng.uniform(600, 900)),
            (start + length * 0.5 + rng.uniform(-900, 900), rng.uniform(1500, 2100)),
            (start + length * 0.78 + rng.uniform(-900, 900), rng.uniform(600, 900)),
        ]
        for _ in range(rng.choice((0, 1, 1, 2))):
            plan.append((start + rng.uniform(0.05, 0.95) * length, rng.uniform(120, 420)))
        return sorted((at, duration) for at, duration in plan if start < at < end)

    def _agent_life(self, agent: _Agent, rng: random.Random) -> Generator[simpy.Event, Any, None]:
        env, queue = self.env, agent.queue
        for start, end in self._shifts(agent, rng):
            plan = deque(self._breaks(start, end, rng))
            if start > env.now:
                yield self._wait(start)
            for moment in [at for at, _ in plan] + ([end] if not math.isinf(end) else []):
                env.timeout(max(0.0, moment - env.now)).callbacks.append(lambda _e, a=agent: self._nudge(a))
            while env.now < end:
                if plan and plan[0][0] <= env.now:
                    _, duration = plan.popleft()
                    self._set_state(agent, "away")
                    yield env.timeout(duration)
                    continue
                contact = self._next_waiting(queue)
                if contact is None:
                    self._set_state(agent, "available")
                    agent.wake = env.event()
                    queue.idle.append(agent)
                    contact = yield agent.wake
                    agent.wake = None
                    if contact is None:
                        continue
                yield from self._handle(agent, contact)
            self._set_state(agent, "offline")

    def _nudge(self, agent: _Agent) -> None:
        """A break or the shift's end is due: an idle agent stops waiting for a contact."""
        if agent.wake is not None and not agent.wake.triggered:
            agent.queue.idle.remove(agent)
            agent.wake.succeed(None)

    def _next_waiting(self, queue: _Queue) -> Contact | None:
        if not queue.waiting:
            return None
        contact = queue.waiting.popleft()
        contact.answered_at = self.wall()
        self._touch(("contact", contact.id), contact)
        return contact

    def _set_state(self, agent: _Agent, state: str) -> None:
        if agent.state == state:
            return
        agent.state = state
        since = self.wall()
        if agent.last is not None and agent.last.since == since:
            agent.last.state = state  # two changes at one instant: the record keeps the latter
            self._touch(("agent", agent.id, repr(since)), agent.last)
            return
        record = AgentState(self.source, agent.id, state, since, agent.name, (agent.queue.spec.name,))
        agent.last = record
        self._touch(("agent", agent.id, repr(since)), record)

    # -- cases and ratings --------------------------------------------------------------------------------

    def _new_case(self, queue: _Queue, rng: random.Random, created_at: float) -> Case:
        queue.cases += 1
        case = Case(
            self.source,
            f"{self.tag}-{queue.slug}-T{queue.cases:05d}",
            queue.spec.name,
            "new",
            _pick(rng, CASE_PRIORITIES),
            created_at,
            channel=_pick(rng, CASE_CHANNELS),
            subject=rng.choice(SUBJECTS.get(queue.slug, ("Question",))),
            customer=f"C{rng.randrange(CUSTOMER_POOL):05d}",
            updated_at=created_at,
            agent_replies=0,
            reopens=0,
        )
        self.open_cases[case.id] = case
        self._touch(("case", case.id), case)
        return case

    def _initial_backlog(self, queue: _Queue, rng: random.Random) -> None:
        """Cases already open at the origin, created up to five days before it, so the backlog has an age."""
        count = round(queue.spec.cases_per_hour * 2)
        origin = self.clock.origin
        for _ in range(count):
            case = self._new_case(queue, rng, origin - rng.uniform(600, 5 * DAY_S))
            age = origin - case.created_at
            if age > FIRST_REPLY_S[case.priority] or rng.random() < 0.5:
                case.first_reply_at = case.created_at + min(age, lognormal(rng, FIRST_REPLY_S[case.priority], 1.0))
                case.agent_replies = 1 + int(age // DAY_S)
                case.status = _pick(rng, (("open", 0.3), ("pending", 0.5), ("on_hold", 0.2)))
                case.assignee = rng.choice(queue.agents or [None]).id if queue.agents else None
            self.env.process(self._case_life(queue, rng, case))

    def _case_life(self, queue: _Queue, rng: random.Random, case: Case | None) -> Generator[simpy.Event, Any, None]:
        env = self.env
        if case is None:
            case = self._new_case(queue, rng, self.wall())
        key = ("case", case.id)

        def change(status: str) -> None:
            case.status = status
            case.updated_at = self.wall()
            self._touch(key, case)

        if case.first_reply_at is None:
            yield env.timeout(lognormal(rng, FIRST_REPLY_S[case.priority], 1.0))
            case.first_reply_at = self.wall()
            case.agent_replies = (case.agent_replies or 0) + 1
            if queue.agents:
                case.assignee = rng.choice(queue.agents).id
            change(_pick(rng, (("open", 0.2), ("pending", 0.65), ("on_hold", 0.15))))
        while True:
            if case.status == "pending":
                yield env.timeout(lognormal(rng, 3 * 3600, 1.2))  # the customer answers
                change("open")
            elif case.status == "on_hold":
                yield env.timeout(lognormal(rng, 6 * 3600, 1.0))  # a third party answers
                change("open")
            yield env.timeout(lognormal(rng, 1.5 * 3600, 1.0))  # an agent replies
            case.agent_replies = (case.agent_replies or 0) + 1
            if rng.random() < 0.65:
                case.solved_at = self.wall()
                change("solved")
                if rng.random() < 0.3:
                    self._rate(queue, rng, lognormal(rng, 2 * 3600, 1.0), case.assignee, case.id)
                yield env.timeout(lognormal(rng, 10 * 3600, 1.0))
                if rng.random() < 0.1:  # the customer writes back: reopened
                    case.reopens = (case.reopens or 0) + 1
                    case.solved_at = None
                    change("open")
                    continue
                yield env.timeout(DAY_S)
                change("closed")
                del self.open_cases[case.id]
                return
            change(_pick(rng, (("pending", 0.8), ("on_hold", 0.2))))

    def _rate(
        self, queue: _Queue, rng: random.Random, delay: float, agent: str | None, case_id: str | None,
        kind: str | None = None,
    ) -> None:  # fmt: skip
        """A satisfaction rating: CSAT 1–5 mostly, some NPS 0–10 and CES 1–7, sometimes with a short comment."""
        kind = kind or _pick(rng, (("csat", 0.8), ("nps", 0.1), ("ces", 0.1)))
        if kind == "csat":
            score, low, high = float(_pick(rng, (("5", 45), ("4", 30), ("3", 10), ("2", 7), ("1", 8)))), 1.0, 5.0
        elif kind == "nps":
            score, low, high = float(min(10, max(0, round(rng.gauss(8, 2.2))))), 0.0, 10.0
        else:
            score, low, high = float(min(7, max(1, round(rng.gauss(5.4, 1.4))))), 1.0, 7.0
        comment = None
        if rng.random() < 0.35:
            share = (score - low) / (high - low)
            pool = GOOD_COMMENTS if share >= 0.75 else BAD_COMMENTS if share < 0.45 else NEUTRAL_COMMENTS
            comment = rng.choice(pool)
        queue.ratings += 1
        number = queue.ratings

        def arrive(_event: object) -> None:
            rating = Rating(
                self.source,
                f"{self.tag}-{queue.slug}-R{number:05d}",
                kind,
                score,
                high,
                self.wall(),
                scale_min=low,
                case_id=case_id,
                queue=queue.spec.name,
                agent=agent,
                comment=comment,
            )
            self._touch(("rating", rating.id), rating)

        # The customer answers the survey ``delay`` seconds later; the rating exists from then on.
        self.env.timeout(delay).callbacks.append(arrive)


_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    kind: operator.attrgetter(*(f.name for f in fields(kind))) for kind in (AgentState, Case, Contact, Rating)
}


def _copy(record: Any) -> Any:
    """A shallow copy of a record; twice as fast as copy.copy, which matters for a first fetch of 20,000 records."""
    kind = type(record)
    return kind(*_GETTERS[kind](record))


def to_batch(records: Iterable[Any]) -> Batch:
    """Sort records into a Batch by type."""
    batch = Batch()
    for record in records:
        if isinstance(record, Contact):
            batch.contacts.append(record)
        elif isinstance(record, AgentState):
            batch.agent_states.append(record)
        elif isinstance(record, Case):
            batch.cases.append(record)
        elif isinstance(record, Rating):
            batch.ratings.append(record)
    return batch


def simulate(params: Params, start: float, end: float, seed: int, source: str = "simulator") -> Batch:
    """Run the model from ``start`` (its origin, UTC epoch seconds) to ``end`` at speed 1; every record, final state.

    Offline and deterministic: the same arguments give the same batch.
    """
    run = Run(params, seed, Clock([[0.0, start, 1.0]]), source)
    run.advance(end - start)
    return to_batch(run.take(copies=False))
