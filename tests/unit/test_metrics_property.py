"""Property test: random event logs imported through the files source (JSON Lines, the real Collector, a real
Store); compute() agrees with a plain reference.

The reference below is written straight from the definitions (README "Metrics"), record by record, and shares no
code with shiftboard.metrics: it walks every record for every figure, measures agent time and business hours by
counting whole seconds (all generated times are whole seconds), and finds percentiles by counting.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shiftboard.adapters.files import FilesSettings
from shiftboard.collector import Collector
from shiftboard.config import MetricsSettings
from shiftboard.metrics import compute
from shiftboard.model import AgentState, Case, Contact, Rating, format_time
from shiftboard.store import Store

BASE = 1_774_252_500  # Monday 2026-03-23 07:55:00 UTC: windows cross the 08:00 opening
SPAN = 3000
QUEUES = ("A", "B")
OPEN = ("new", "open", "pending", "on_hold")
SETTINGS = MetricsSettings(
    timezone="UTC",
    repeat_window_h=0.05,  # 180 s
    sla_at_risk_min=1,
    sla={
        "urgent": {"first_reply_min": 1, "resolution_min": 3},
        "high": {"first_reply_min": 2, "business_hours": True},
        "normal": {"resolution_min": 5},
    },
)
T, SHORT = 20, 5


# -- strategies ----------------------------------------------------------------------------------------------------

# A 10-second grid makes exact boundaries (repeat window, SLA due times, age buckets) common.
t = st.integers(0, SPAN // 10).map(lambda s: float(BASE + 10 * s))
maybe_d = st.one_of(st.none(), st.integers(0, 60))


@st.composite
def contacts(draw):
    out = []
    for i in range(draw(st.integers(0, 40))):
        offered = draw(t)
        kind = draw(st.sampled_from(["answered", "abandoned", "flowout", "waiting", "blocked"]))
        c = Contact(
            "s",
            f"c{i}",
            draw(st.sampled_from(QUEUES)),
            offered,
            channel=draw(st.sampled_from(["voice", "chat"])),
            customer=draw(st.sampled_from(["x", "y", "z", None])),
        )
        if kind == "blocked":
            c.blocked = True
        elif kind == "answered":
            c.answered_at = offered + draw(st.sampled_from([0, 5, 19, 20, 21, 40, 300]))
            talk = draw(maybe_d)
            c.ended_at = None if talk is None else c.answered_at + talk * 5
            c.wrap_up_s = draw(st.one_of(st.none(), st.integers(0, 30).map(float)))
        elif kind == "abandoned":
            c.abandoned_at = offered + draw(st.sampled_from([0, 4, 5, 6, 20, 21, 90]))
        elif kind == "flowout":
            c.ended_at = offered + draw(st.integers(1, 500))
        out.append(c)
    return out


@st.composite
def cases(draw):
    out = []
    for i in range(draw(st.integers(0, 25))):
        created = draw(t)
        status = draw(st.sampled_from([*OPEN, "solved", "closed", "deleted"]))
        fr = draw(st.one_of(st.none(), st.integers(0, 400)))
        solved = draw(st.one_of(st.none(), st.integers(0, 1500)))
        if status in OPEN and solved is not None and draw(st.booleans()):
            solved = None
        out.append(
            Case(
                "s",
                f"k{i}",
                draw(st.sampled_from(QUEUES)),
                status,
                draw(st.sampled_from(["low", "normal", "high", "urgent"])),
                created,
                channel=draw(st.sampled_from(["email", None])),
                assignee=draw(st.sampled_from(["ann", "bob", None])),
                first_reply_at=None if fr is None else created + fr,
                solved_at=None if solved is None else created + solved,
                agent_replies=draw(st.one_of(st.none(), st.integers(0, 3))),
                reopens=draw(st.one_of(st.none(), st.integers(0, 2))),
            )
        )
    return out


@st.composite
def ratings(draw, case_ids):
    out = []
    times = draw(st.lists(st.integers(0, SPAN), unique=True, max_size=15))
    for i, at in enumerate(times):
        kind, lo, hi = draw(
            st.sampled_from(
                [("csat", 1, 5), ("csat", 0, 1), ("csat", 1, 3), ("nps", 0, 10), ("ces", 1, 7), ("iqs", 1, 4)]
            )
        )
        out.append(
            Rating(
                "s",
                f"r{i}",
                kind,
                float(draw(st.integers(lo, hi))),
                float(hi),
                float(BASE + at),
                scale_min=float(lo),
                queue=draw(st.sampled_from([*QUEUES, None])),
                case_id=draw(st.sampled_from([None, *case_ids])) if case_ids else None,
                comment=draw(st.sampled_from([None, "ok", "bad\x1b[2J"])),
            )
        )
    return out


@st.composite
def agent_states(draw):
    out = []
    for agent in ("p", "q", "r"):
        queues = draw(st.sampled_from([(), ("A",), ("B",), ("A", "B")]))
        for since in draw(st.lists(st.integers(-500, SPAN), unique=True, max_size=6)):
            state = draw(st.sampled_from(["available", "busy", "wrap_up", "away", "offline"]))
            out.append(AgentState("s", agent, state, float(BASE + since), queues=queues))
    return out


@st.composite
def scenarios(draw):
    cs = draw(cases())
    return {
        "contacts": draw(contacts()),
        "cases": cs,
        "ratings": draw(ratings([c.id for c in cs])),
        "agent_states": draw(agent_states()),
        "at": float(BASE + draw(st.integers(1, SPAN + 100))),
        "back": draw(st.integers(1, SPAN + 100)),
    }


# -- the reference -------------------------------------------------------------------------------------------------


def nearest_rank(values, p):
    """The smallest value v with count(x ≤ v) ≥ p % of n."""
    for v in sorted(values):
        if 100 * sum(1 for x in values if x <= v) >= p * len(values):
            return v
    return None


def spread(values):
    return {
        "avg": sum(values) / len(values) if values else None,
        "p50": nearest_rank(values, 50),
        "p90": nearest_rank(values, 90),
        "max": max(values) if values else None,
    }


def ratio(a, b):
    return 100 * a / b if b else None


def is_open_second(s):
    day = (s // 86400 + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    return day < 5 and 8 * 3600 <= s % 86400 < 18 * 3600


def business_seconds(start, end):
    return float(sum(1 for s in range(int(start), int(end)) if is_open_second(s)))


def business_due(start, seconds):
    s, used = int(start), 0
    while used < seconds:
        used += is_open_second(s)
        s += 1
    return float(s)


def state_at(rows, agent, moment):
    mine = [r for r in rows if r.agent == agent and r.since < moment]
    return max(mine, key=lambda r: r.since) if mine else None


def states_by_second(rows, agent, start, end):
    """The agent's state row during each whole second [s, s + 1) of [start, end)."""
    mine = sorted((r for r in rows if r.agent == agent), key=lambda r: r.since)
    out, current, i = [], None, 0
    for s in range(start, end):
        while i < len(mine) and mine[i].since <= s:
            current = mine[i]
            i += 1
        out.append(current)
    return out


def serves(row, queue):
    return queue is None or not row.queues or queue in row.queues


def reference(sc, since, at, queue):
    inq = (lambda x: True) if queue is None else (lambda x: x == queue)
    cs = [c for c in sc["contacts"] if inq(c.queue)]
    offered = [c for c in cs if not c.blocked and since <= c.offered_at < at]
    answered = [c for c in offered if c.answered_at is not None and c.answered_at < at]
    abandoned = [c for c in offered if c not in answered and c.abandoned_at is not None and c.abandoned_at < at]
    wa = [c.answered_at - c.offered_at for c in answered]
    wb = [c.abandoned_at - c.offered_at for c in abandoned]
    within = sum(1 for w in wa if w <= T)
    ab_within = sum(1 for w in wb if w <= T)
    short = sum(1 for w in wb if w <= SHORT)
    n = len(wa) + len(wb)
    waiting = [
        c
        for c in cs
        if not c.blocked
        and at - 86400 <= c.offered_at < at
        and all(x is None or x >= at for x in (c.answered_at, c.abandoned_at, c.ended_at))
    ]

    def handled(lo):
        return [
            c.ended_at - c.answered_at + (c.wrap_up_s or 0)
            for c in cs
            if not c.blocked
            and c.answered_at is not None
            and c.ended_at is not None
            and c.answered_at <= c.ended_at
            and lo <= c.ended_at < at
        ]

    h = handled(since)
    w = SETTINGS.repeat_window_h * 3600
    repeats = [
        c
        for c in offered
        if c.customer is not None
        and any(d.customer == c.customer and c.offered_at - w <= d.offered_at < c.offered_at for d in sc["contacts"])
    ]
    contacts = {
        "offered": len(offered),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "short_abandoned": short,
        "blocked": sum(1 for c in cs if c.blocked and since <= c.offered_at < at),
        "waiting_now": len(waiting),
        "longest_wait_s": at - min(c.offered_at for c in waiting) if waiting else None,
        "service_level_pct_by_policy": {
            "answered_only": ratio(within, len(wa)),
            "all_abandons": ratio(within, n),
            "exclude_short": ratio(within, n - short),
            "abandoned_after_threshold": ratio(within, n - ab_within),
            "abandons_within_threshold_met": ratio(within + ab_within, n),
        },
        "asa_s": sum(wa) / len(wa) if wa else None,
        "wait_p50_s": nearest_rank(wa, 50),
        "wait_p90_s": nearest_rank(wa, 90),
        "wait_max_s": max(wa) if wa else None,
        "abandon_rate_pct": ratio(len(wb), n),
        "aht_s": sum(h) / len(h) if h else None,
        "by_channel": dict(Counter(c.channel for c in offered)),
        "repeat_contacts": len(repeats),
    }

    ks = [k for k in sc["cases"] if inq(k.queue) and k.status != "deleted"]
    open_ = [
        k for k in ks if k.created_at < at and (k.status in OPEN or (k.solved_at is not None and k.solved_at >= at))
    ]
    solved = [k for k in ks if k.solved_at is not None and since <= k.solved_at < at]
    created = [k for k in ks if since <= k.created_at < at]
    replied = [k for k in ks if k.first_reply_at is not None and since <= k.first_reply_at < at]
    known = [k for k in solved if k.agent_replies is not None]
    ages = [at - k.created_at for k in open_]
    breached = at_risk = 0
    upcoming = []
    for k in open_:
        target = SETTINGS.sla.get(k.priority)
        if target is None:
            continue
        dues = []
        for minutes, applies in (
            (target.first_reply_min, k.first_reply_at is None or k.first_reply_at >= at),
            (target.resolution_min, True),
        ):
            if minutes is not None and applies:
                s = minutes * 60
                dues.append(business_due(k.created_at, s) if target.business_hours else k.created_at + s)
        if not dues:
            continue
        left = min(dues) - at
        if left <= 0:
            breached += 1
        else:
            at_risk += left <= SETTINGS.sla_at_risk_min * 60
            upcoming.append(left)
    cases = {
        "created": len(created),
        "solved": len(solved),
        "open": len(open_),
        "by_status": {s: sum(1 for k in open_ if (k.status if k.status in OPEN else "open") == s) for s in OPEN},
        "by_priority": Counter(k.priority for k in open_),
        "by_assignee": Counter(k.assignee or "(unassigned)" for k in open_),
        "by_age": [
            sum(1 for a in ages if a < 3600),
            sum(1 for a in ages if 3600 <= a < 4 * 3600),
            sum(1 for a in ages if 4 * 3600 <= a < 86400),
            sum(1 for a in ages if a >= 86400),
        ],
        "oldest_age_s": max(ages) if ages else None,
        "first_reply_s": spread([k.first_reply_at - k.created_at for k in replied]),
        "first_reply_business_s": spread([business_seconds(k.created_at, k.first_reply_at) for k in replied]),
        "resolution_s": spread([k.solved_at - k.created_at for k in solved]),
        "fcr_pct": ratio(sum(1 for k in known if k.agent_replies <= 1 and not k.reopens), len(known)),
        "reopen_rate_pct": ratio(sum(1 for k in solved if k.reopens), len(solved)),
        "resolution_rate_pct": ratio(
            sum(1 for k in created if k.solved_at is not None and k.solved_at < at), len(created)
        ),
        "sla": {"breached": breached, "at_risk": at_risk, "next_breach_s": min(upcoming) if upcoming else None},
    }

    case_queue = {k.id: k.queue for k in sc["cases"]}
    rs = [
        r
        for r in sc["ratings"]
        if since <= r.rated_at < at and (queue is None or (r.queue or case_queue.get(r.case_id)) == queue)
    ]

    def norm(r):
        return (r.score - r.scale_min) / (r.scale_max - r.scale_min)

    csat = [r for r in rs if r.kind == "csat"]
    good = sum(
        1
        for r in csat
        if (r.score == r.scale_max if r.scale_max - r.scale_min + 1 <= 3 else r.score >= r.scale_max - 1)
    )
    nps = [r.score for r in rs if r.kind == "nps"]
    ces = [r.score for r in rs if r.kind == "ces"]
    iqs = [norm(r) * 100 for r in rs if r.kind == "iqs"]
    commented = sorted((r for r in rs if r.comment), key=lambda r: -r.rated_at)[:10]
    satisfaction = {
        "csat_pct": ratio(good, len(csat)),
        "csat_responses": len(csat),
        "nps": ratio(sum(1 for s in nps if s >= 9) - sum(1 for s in nps if s <= 6), len(nps)),
        "nps_responses": len(nps),
        "ces_avg": sum(ces) / len(ces) if ces else None,
        "iqs_avg": sum(iqs) / len(iqs) if iqs else None,
        "comments": [r.comment for r in sorted(commented, key=lambda r: (norm(r), -r.rated_at))],
    }

    rows = sc["agent_states"]
    agents = sorted({r.agent for r in rows})
    states = Counter()
    for a in agents:
        now = state_at(rows, a, at)
        if now is not None and serves(now, queue):
            states[now.state] += 1
    busy = idle = open_s = covered = 0
    seconds = [states_by_second(rows, a, int(since), int(at)) for a in agents]
    for i, s in enumerate(range(int(since), int(at))):
        current = [x[i] for x in seconds if x[i] is not None and serves(x[i], queue)]
        busy += sum(1 for x in current if x.state in ("busy", "wrap_up"))
        idle += sum(1 for x in current if x.state == "available")
        if is_open_second(s):
            open_s += 1
            covered += any(x.state == "available" for x in current)
    hour = [c for c in cs if not c.blocked and at - 3600 <= c.offered_at < at]
    hh = handled(at - 3600)
    return {
        "contacts": contacts,
        "occupancy_pct": ratio(busy, busy + idle),
        "availability_pct": ratio(covered, open_s),
        "cases": cases,
        "satisfaction": satisfaction,
        "agents": {s: states[s] for s in ("available", "busy", "wrap_up", "away", "offline")},
        "logged_in": sum(v for k, v in states.items() if k != "offline"),
        "arrivals": len(hour),
        "aht_hour": sum(hh) / len(hh) if hh else None,
    }


def same(actual, expected):
    if isinstance(expected, float) and actual is not None:
        return actual == pytest.approx(expected, rel=1e-9, abs=1e-9)
    return actual == expected


def check(got, want, path):
    for key, value in want.items():
        if isinstance(value, dict) and not isinstance(value, Counter):
            check(got[key], value, f"{path}.{key}")
        else:
            assert same(got[key], value), f"{path}.{key}: compute() {got[key]!r}, reference {value!r}"


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else format_time(seconds)


def as_jsonl(sc) -> str:
    """The scenario as a JSON Lines export in the files source's documented format (README, "Files")."""
    rows = [
        {
            "type": "contact",
            "id": c.id,
            "queue": c.queue,
            "channel": c.channel,
            "customer": c.customer,
            "offered_at": _iso(c.offered_at),
            "answered_at": _iso(c.answered_at),
            "ended_at": _iso(c.ended_at),
            "abandoned_at": _iso(c.abandoned_at),
            "blocked": c.blocked,
            "wrap_up_s": c.wrap_up_s,
        }
        for c in sc["contacts"]
    ]
    rows += [
        {
            "type": "case",
            "id": c.id,
            "queue": c.queue,
            "status": c.status,
            "priority": c.priority,
            "channel": c.channel,
            "assignee": c.assignee,
            "created_at": _iso(c.created_at),
            "first_reply_at": _iso(c.first_reply_at),
            "solved_at": _iso(c.solved_at),
            "agent_replies": c.agent_replies,
            "reopens": c.reopens,
        }
        for c in sc["cases"]
    ]
    rows += [
        {
            "type": "rating",
            "id": r.id,
            "kind": r.kind,
            "score": r.score,
            "scale_min": r.scale_min,
            "scale_max": r.scale_max,
            "case_id": r.case_id,
            "queue": r.queue,
            "rated_at": _iso(r.rated_at),
            "comment": r.comment,
        }
        for r in sc["ratings"]
    ]
    rows += [
        {"type": "agent_state", "agent": a.agent, "state": a.state, "since": _iso(a.since), "queues": list(a.queues)}
        for a in sc["agent_states"]
    ]
    return "".join(json.dumps(row) + "\n" for row in rows)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_compute_agrees_with_the_reference(sc):
    at = sc["at"]
    since = at - sc["back"]
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "cache.sqlite") as store:
        (Path(folder) / "export.jsonl").write_text(as_jsonl(sc), encoding="utf-8")
        source = FilesSettings(name="s", kind="files", path=str(Path(folder) / "*.jsonl"))
        outcome = Collector(store, [source]).sync_once(at)[0]
        assert (outcome.error, outcome.skipped) == (None, 0)
        data = compute(store, SETTINGS, at, since)
    for queue in (None, *QUEUES):
        want = reference(sc, since, at, queue)
        name = queue or "all"
        if name not in data["queues"]:
            # A queue appears once anything refers to it; with nothing, every figure of the reference is empty.
            assert want["contacts"]["offered"] == 0 and want["cases"]["open"] == 0
            continue
        q = data["queues"][name]
        check(q["contacts"], want["contacts"], f"{name}.contacts")
        assert same(q["contacts"]["occupancy_pct"], want["occupancy_pct"]), name
        assert same(q["availability_pct"], want["availability_pct"]), name
        c, wc = q["cases"], want["cases"]
        for key in (
            "created",
            "solved",
            "first_reply_s",
            "first_reply_business_s",
            "resolution_s",
            "fcr_pct",
            "reopen_rate_pct",
            "resolution_rate_pct",
            "sla",
        ):
            check({key: c[key]}, {key: wc[key]}, f"{name}.cases")
        b = c["backlog"]
        assert b["open"] == wc["open"]
        assert b["by_status"] == wc["by_status"]
        assert {k: v for k, v in b["by_priority"].items() if v} == dict(wc["by_priority"])
        assert b["by_assignee"] == dict(wc["by_assignee"])
        assert list(b["by_age"].values()) == wc["by_age"]
        assert same(b["oldest_age_s"], wc["oldest_age_s"])
        s, ws = q["satisfaction"], want["satisfaction"]
        assert [x["comment"] for x in s["comments"]] == ws.pop("comments")
        check(s, ws, f"{name}.satisfaction")
        assert q["agents"] == want["agents"]
        assert q["staffing"]["agents_logged_in"] == want["logged_in"]
        assert q["staffing"]["arrivals_per_hour"] == want["arrivals"]
        assert same(q["staffing"]["aht_s"], want["aht_hour"])
        assert not math.isnan(q["contacts"]["offered"])
