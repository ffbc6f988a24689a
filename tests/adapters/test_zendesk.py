"""The Zendesk source against the local Zendesk emulator: a real Collector writing a real SQLite cache.

Expected values come from the emulator's seeded ground truth through the plain mappings below (the reference's
tables), never from the adapter.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import pytest

from shiftboard.adapters.zendesk import ZendeskAdapter, ZendeskSettings
from shiftboard.collector import Collector
from shiftboard.config import MetricsSettings
from shiftboard.health import health
from shiftboard.metrics import compute
from shiftboard.store import Store
from tests.emulators.clock import FakeClock
from tests.emulators.server import EmulatorServer, Fault
from tests.emulators.zendesk import ZendeskEmulator, generate

NOW = 1795359600.0  # 2026-11-22T15:00:00Z
TOKEN = "zd-api-token-123"
ENV = {"ZD_TOKEN": TOKEN, "ZD_OAUTH": "zd-oauth-abc"}

STATUS = {"new": "new", "open": "open", "pending": "pending", "hold": "on_hold", "solved": "solved",
          "closed": "closed", "deleted": "deleted"}  # fmt: skip
CHANNEL = {"email": "email", "web": "web", "api": "api", "voice": "voice", "chat": "chat",
           "native_messaging": "messaging", "sms": "messaging", "carrier_pigeon": "other",
           4: "email", 0: "web"}  # fmt: skip
GROUPS = {101: "Billing", 102: "Technical", None: "Support"}


def epoch(text: str | None) -> float | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def agent_state(row: dict) -> str:
    if "agent_state" in row:
        if row["agent_state"] == "online":
            return {"on_call": "busy", "wrap_up": "wrap_up", None: "available"}[row["call_status"]]
        return {"away": "away", "transfers_only": "away", "offline": "offline"}[row["agent_state"]]
    return {"available": "available", "on_call": "busy", "wrap_up": "wrap_up", "away": "away",
            "transfers_only": "away", "offline": "offline"}[row["status_code"]]  # fmt: skip


class Rig:
    """An emulator served on loopback, a clock shared with it, and the source's settings."""

    def __init__(self, emulator: ZendeskEmulator, server: EmulatorServer, clock: FakeClock) -> None:
        self.emulator = emulator
        self.server = server
        self.clock = clock
        self.context = clock.context(ENV)
        self.waits: list[float] = self.context.waits  # type: ignore[attr-defined]

    def settings(self, **overrides: object) -> ZendeskSettings:
        values: dict[str, object] = {
            "name": "zd",
            "kind": "zendesk",
            "url": self.server.url,
            "email": "sup@example.com",
            "token_env": "ZD_TOKEN",
            "history_days": 7,
            "max_retries": 4,
        }
        values.update(overrides)
        return ZendeskSettings(**values)

    def sync(self, store: Store, settings: ZendeskSettings | None = None):
        collector = Collector(store, [settings or self.settings()], context=self.context)
        try:
            return collector.sync_once(at=self.clock())[0]
        finally:
            for runner in collector.runners:
                runner.close()

    def requests_to(self, fragment: str) -> int:
        return sum(1 for r in self.server.requests if fragment in r.path)


@pytest.fixture
def rig() -> Iterator[Rig]:
    clock = FakeClock(NOW)
    emulator = ZendeskEmulator(generate(seed=7, now=NOW), clock=clock)
    with EmulatorServer(emulator) as server:
        yield Rig(emulator, server, clock)


def expected_cases(data, *, deleted_metrics: bool = True) -> dict[str, tuple]:
    """The normalized cases; ``deleted_metrics`` False when metrics come per ticket (deleted ones have none)."""
    result = {}
    for ident, t in data.tickets.items():
        m = data.metrics[ident]
        if not deleted_metrics and t["status"] == "deleted":
            m = {"reply_time_in_minutes": {"calendar": None}, "solved_at": None, "replies": None, "reopens": None}
        created = epoch(t["created_at"])
        reply = m["reply_time_in_minutes"]["calendar"]
        result[str(ident)] = (
            GROUPS[t["group_id"]],
            STATUS[t["status"]],
            t["priority"] or "normal",
            created,
            CHANNEL[t["via"]["channel"]],
            None if reply is None else created + reply * 60,
            epoch(m["solved_at"]),
            m["replies"],
            m["reopens"],
            t["subject"],
        )
    return result


def stored_cases(store: Store) -> dict[str, tuple]:
    rows = store.query(
        "SELECT id, queue, status, priority, created_at, channel, first_reply_at, solved_at, agent_replies, reopens,"
        " subject FROM cases WHERE source = 'zd'"
    )
    return {r["id"]: tuple(r)[1:] for r in rows}


def expected_contacts(data) -> dict[str, tuple]:
    result = {}
    for c in data.calls:
        if c["direction"] != "inbound":
            continue
        offered = epoch(c["created_at"])
        status = c["completion_status"].lower()
        answered = offered + c["wait_time"] if status == "completed" else None
        abandoned = offered + c["wait_time"] if status.startswith("abandoned") else None
        ended = offered + c["duration"] if status in ("completed", "voicemail") else None
        agent = str(c["agent_id"]) if answered is not None else None
        result[str(c["id"])] = (
            "Talk",
            offered,
            answered,
            abandoned,
            ended,
            agent,
            c["wrap_up_time"],
            str(c["customer_id"]),
        )
    return result


def stored_contacts(store: Store) -> dict[str, tuple]:
    rows = store.query(
        "SELECT id, queue, offered_at, answered_at, abandoned_at, ended_at, agent, wrap_up_s, customer FROM contacts"
        " WHERE source = 'zd'"
    )
    return {r["id"]: tuple(r)[1:] for r in rows}


def test_full_sync_equals_the_emulator_data_under_429s_and_5xx(rig: Rig, store: Store) -> None:
    rig.server.inject(
        Fault("429", retry_after=7, path="/incremental/tickets"),
        Fault("500", path="/incremental/tickets"),
        Fault("503", path="/satisfaction_ratings"),
        Fault("429", retry_after=3, path="/incremental/calls"),
        Fault("502", path="/agents_activity"),
        Fault("500", path="/current_queue_activity"),
    )

    outcome = rig.sync(store)

    assert outcome.error is None
    data = rig.emulator.data
    assert stored_cases(store) == expected_cases(data)
    # Retry-After was honoured: the recorded waits include exactly the asked-for pauses.
    assert 7 in rig.waits and 3 in rig.waits
    ratings = {
        r["id"]: (r["kind"], r["score"], r["scale_min"], r["scale_max"], r["case_id"], r["rated_at"])
        for r in store.query("SELECT * FROM ratings WHERE source = 'zd'")
    }
    assert ratings == {
        str(r["id"]): ("csat", 1.0 if r["score"] == "good" else 0.0, 0.0, 1.0, str(r["ticket_id"]),
                       epoch(r["updated_at"]))
        for r in data.ratings
        if r["score"] in ("good", "bad")
    }  # fmt: skip
    assert stored_contacts(store) == expected_contacts(data)
    agents = {r["agent"]: (r["state"], r["name"]) for r in store.query("SELECT * FROM agent_states")}
    assert agents == {str(a["agent_id"]): (agent_state(a), a["name"]) for a in data.agents}
    [snapshot] = store.query("SELECT * FROM queue_snapshots")
    activity = data.queue_activity
    assert (snapshot["queue"], snapshot["at"], snapshot["waiting"], snapshot["longest_wait_s"]) == (
        "Talk",
        NOW,
        activity["calls_waiting"],
        activity["longest_wait_time"],
    )
    assert snapshot["agents_online"] == activity["agents_online"]
    assert snapshot["agents_available"] == sum(1 for a in data.agents if agent_state(a) == "available")
    # Nothing twice: one row per source record, and the export was read once, page by page.
    assert store.counts()["cases"] == len(data.tickets)
    assert rig.requests_to("/incremental/tickets/cursor") == math.ceil(len(data.stream) / 10) + 2  # + 429 + 500


def test_board_figures_equal_the_ground_truth(rig: Rig, store: Store) -> None:
    assert rig.sync(store).error is None
    data = rig.emulator.data
    since = NOW - 5 * 86400
    settings = MetricsSettings(timezone="UTC", service_level_threshold_s=20, short_abandon_s=5)
    # Agent states are stamped with the poll that saw them (NOW); figures count changes strictly before ``at``.
    at = NOW + 1
    figures = compute(store, settings, at=at, since=since)["queues"]["all"]

    tickets = list(data.tickets.values())
    open_tickets = [t for t in tickets if t["status"] in ("new", "open", "pending", "hold")]
    cases = figures["cases"]
    assert cases["backlog"]["open"] == len(open_tickets)
    assert cases["backlog"]["by_status"] == {
        "new": sum(t["status"] == "new" for t in open_tickets),
        "open": sum(t["status"] == "open" for t in open_tickets),
        "pending": sum(t["status"] == "pending" for t in open_tickets),
        "on_hold": sum(t["status"] == "hold" for t in open_tickets),
    }
    assert cases["backlog"]["by_priority"] == {
        p: sum((t["priority"] or "normal") == p for t in open_tickets) for p in ("low", "normal", "high", "urgent")
    }
    live = [t for t in tickets if t["status"] != "deleted"]
    assert cases["created"] == len(live)
    solved = [(t, data.metrics[t["id"]]) for t in live if data.metrics[t["id"]]["solved_at"]]
    assert cases["solved"] == len(solved)
    resolution = [epoch(m["solved_at"]) - epoch(t["created_at"]) for t, m in solved]
    assert cases["resolution_s"]["max"] == max(resolution)
    assert cases["resolution_s"]["avg"] == pytest.approx(sum(resolution) / len(resolution))
    replies = [
        data.metrics[t["id"]]["reply_time_in_minutes"]["calendar"] * 60
        for t in live
        if data.metrics[t["id"]]["reply_time_in_minutes"]["calendar"] is not None
        and since <= epoch(t["created_at"]) + data.metrics[t["id"]]["reply_time_in_minutes"]["calendar"] * 60 < at
    ]
    assert cases["first_reply_s"]["max"] == max(replies)
    assert cases["first_reply_s"]["avg"] == pytest.approx(sum(replies) / len(replies))

    inbound = [c for c in data.calls if c["direction"] == "inbound"]
    answered = [c["wait_time"] for c in inbound if c["completion_status"] == "completed"]
    abandoned = [c["wait_time"] for c in inbound if c["completion_status"].lower().startswith("abandoned")]
    contacts = figures["contacts"]
    assert contacts["offered"] == len(inbound)
    assert contacts["answered"] == len(answered)
    assert contacts["abandoned"] == len(abandoned)
    assert contacts["short_abandoned"] == sum(w <= 5 for w in abandoned)
    assert contacts["asa_s"] == pytest.approx(sum(answered) / len(answered))
    within = sum(w <= 20 for w in answered)
    short = sum(w <= 5 for w in abandoned)
    assert contacts["service_level_pct_by_policy"]["all_abandons"] == pytest.approx(
        100 * within / (len(answered) + len(abandoned))
    )
    assert contacts["service_level_pct"] == pytest.approx(100 * within / (len(answered) + len(abandoned) - short))
    # Finished calls come from the call export; who waits now comes from Talk's live queue activity.
    assert contacts["waiting_now"] == data.queue_activity["calls_waiting"]

    assert figures["agents"] == {
        s: Counter(agent_state(a) for a in data.agents).get(s, 0)
        for s in ("available", "busy", "wrap_up", "away", "offline")
    }


def test_expired_credentials_fail_the_health_line_and_keep_the_last_good_data(rig: Rig, store: Store) -> None:
    settings = rig.settings()
    assert rig.sync(store, settings).error is None
    before = store.counts()

    rig.emulator.expire_credentials()
    rig.clock.advance(60)
    outcome = rig.sync(store, settings)

    assert outcome.error is not None
    line = health(settings, store.sync_state("zd"), rig.clock())
    assert line.status == "failing"
    assert "401" in line.reason and "Couldn't authenticate you" in line.reason
    assert TOKEN not in line.reason and TOKEN not in line.describe(rig.clock())
    assert store.counts() == before
    # A 401 is not retried: one request, then the failure.
    assert rig.server.requests[-1].headers["authorization"].startswith("Basic ")


def test_wrong_token_is_refused_and_oauth_bearer_works(rig: Rig, store: Store) -> None:
    bad = rig.settings(name="zd", token_env="ZD_OAUTH")  # the OAuth token sent as an API token
    outcome = rig.sync(store, bad)
    assert outcome.error is not None and outcome.error.startswith("401")
    assert "zd-oauth-abc" not in outcome.error

    oauth = rig.settings(email=None, token_env="ZD_OAUTH")
    assert rig.sync(store, oauth).error is None
    assert rig.server.requests[-1].headers["authorization"] == "Bearer zd-oauth-abc"
    assert stored_cases(store) == expected_cases(rig.emulator.data)


@pytest.mark.parametrize("mode", ["same", "back"])
def test_a_repeated_cursor_does_not_loop(rig: Rig, store: Store, mode: str) -> None:
    rig.emulator.loop_mode = mode
    settings = rig.settings(ratings=False, talk=False, talk_history="off")

    outcome = rig.sync(store, settings)
    assert outcome.error is None
    assert stored_cases(store) == expected_cases(rig.emulator.data)
    pages = math.ceil(len(rig.emulator.data.stream) / 10)
    assert rig.requests_to("/incremental/tickets/cursor") <= pages + 2

    # The next sync resumes from the stored cursor, and stops again at once.
    requests = rig.requests_to("/incremental/tickets/cursor")
    assert rig.sync(store, settings).error is None
    assert rig.requests_to("/incremental/tickets/cursor") - requests <= 2


def test_a_changed_ticket_arrives_on_the_next_sync_without_duplicates(rig: Rig, store: Store) -> None:
    settings = rig.settings(talk=False, talk_history="off")
    assert rig.sync(store, settings).error is None
    ident = next(i for i, t in rig.emulator.data.tickets.items() if t["status"] == "open")
    rig.clock.advance(300)
    rig.emulator.update_ticket(ident, status="pending", priority="urgent")
    rig.clock.advance(120)

    assert rig.sync(store, settings).error is None
    assert stored_cases(store) == expected_cases(rig.emulator.data)
    assert stored_cases(store)[str(ident)][1:3] == ("pending", "urgent")
    assert store.counts()["cases"] == len(rig.emulator.data.tickets)


def test_metrics_without_the_sideload_come_from_the_per_ticket_endpoint(rig: Rig, store: Store) -> None:
    rig.emulator.sideload_metrics = False
    assert rig.sync(store, rig.settings(ratings=False, talk=False, talk_history="off")).error is None
    assert stored_cases(store) == expected_cases(rig.emulator.data, deleted_metrics=False)
    assert rig.requests_to("/metrics") == sum(1 for t in rig.emulator.data.stream if t["status"] != "deleted")


@pytest.mark.parametrize("last_page", ["self", "null"])
def test_talk_calls_export_ends_whichever_way_the_last_page_says_so(rig: Rig, store: Store, last_page: str) -> None:
    rig.emulator.calls_last_page = last_page
    settings = rig.settings(tickets=False, ratings=False, talk=False)
    assert rig.sync(store, settings).error is None
    assert stored_contacts(store) == expected_contacts(rig.emulator.data)
    pages = math.ceil(len(rig.emulator.data.calls) / 6)  # pages overlap by one call (inclusive start_time)
    assert rig.requests_to("/incremental/calls") <= pages + 2


def test_slow_answers_time_out_and_are_retried(rig: Rig, store: Store) -> None:
    rig.server.inject(Fault("slow", delay_s=1.0))
    settings = rig.settings(timeout_s=0.2, ratings=False, talk=False, talk_history="off")
    assert rig.sync(store, settings).error is None
    assert stored_cases(store) == expected_cases(rig.emulator.data)
    assert len(rig.waits) >= 1

    rig.server.inject(Fault("slow", delay_s=1.0))
    outcome = rig.sync(store, rig.settings(timeout_s=0.2, max_retries=0))
    assert outcome.error == "timed out after 0.2 s"
    assert health(rig.settings(), store.sync_state("zd"), rig.clock()).status == "failing"


def test_truncated_json_fails_the_sync_and_the_next_sync_loses_nothing(rig: Rig, store: Store) -> None:
    settings = rig.settings()
    rig.server.inject(*[Fault("truncated", path="/satisfaction_ratings")] * 20)  # past any retry budget
    outcome = rig.sync(store, settings)
    rig.server.faults.clear()
    assert outcome.error is not None and outcome.error.startswith("answer is not JSON")
    # The ticket pages committed before the cut answer stay.
    assert stored_cases(store) == expected_cases(rig.emulator.data)
    assert store.counts()["ratings"] == 0

    rig.server.inject(*[Fault("html", path="/current_queue_activity")] * 20)
    assert rig.sync(store, settings).error is not None
    rig.server.faults.clear()
    assert rig.sync(store, settings).error is None
    assert stored_cases(store) == expected_cases(rig.emulator.data)
    assert store.counts()["ratings"] == sum(r["score"] in ("good", "bad") for r in rig.emulator.data.ratings)
    assert stored_contacts(store) == expected_contacts(rig.emulator.data)


def test_paced_by_rate_limit_headers_and_export_limit_429(rig: Rig, store: Store) -> None:
    rig.emulator.rate_limit = 12
    rig.emulator.export_rate_limit = 2
    outcome = rig.sync(store, rig.settings(rate_limit_reserve=8))
    assert outcome.error is None
    # Below the reserve the adapter spaces its requests by 60 / X-Rate-Limit seconds.
    assert 60 / 12 in rig.waits
    # The export budget ran out: each of the emulator's 429s asked for a wait and got exactly it.
    assert rig.emulator.retry_after_served
    assert all(asked in rig.waits for asked in rig.emulator.retry_after_served)
    assert stored_cases(store) == expected_cases(rig.emulator.data)


def test_talk_overview_fills_the_snapshot_cumulative_fields(rig: Rig, store: Store) -> None:
    settings = rig.settings(tickets=False, ratings=False, talk_history="overview")
    assert rig.sync(store, settings).error is None
    overview = rig.emulator.data.account_overview
    [row] = store.query("SELECT * FROM queue_snapshots")
    assert row["window_start"] == NOW - NOW % 86400
    assert row["offered"] == overview["total_inbound_calls"]
    assert row["abandoned"] == overview["total_calls_abandoned_in_queue"]
    answered = (
        overview["total_inbound_calls"] - overview["total_calls_abandoned_in_queue"] - overview["total_voicemails"]
    )
    assert row["answered"] == answered
    assert row["wait_total_s"] == pytest.approx(overview["average_time_to_answer"] * answered)
    assert store.counts()["contacts"] == 0


def test_a_forbidden_csat_endpoint_is_skipped_with_a_reason_and_the_rest_still_syncs(rig: Rig, store: Store) -> None:
    rig.emulator.ratings_forbidden = True
    assert rig.sync(store).error is None
    assert stored_cases(store) == expected_cases(rig.emulator.data)
    assert stored_contacts(store) == expected_contacts(rig.emulator.data)
    assert store.counts()["ratings"] == 0
    state = store.sync_state("zd")
    assert state.skipped_total == 1
    assert state.last_skipped_sample.startswith("ratings: 403 Forbidden")
    assert "turn ratings off" in state.last_skipped_sample


def test_a_malformed_ticket_is_skipped_with_its_id_and_the_rest_is_kept(rig: Rig, store: Store) -> None:
    good = expected_cases(rig.emulator.data)
    last = rig.emulator.data.stream[-1]
    rig.emulator.data.stream.append({**last, "id": 9999, "status": "sparkly"})
    rig.emulator.data.stream.append({**last, "id": 9998, "created_at": "yesterday"})
    rig.emulator.data.metrics[9999] = rig.emulator.data.metrics[9998] = rig.emulator.data.metrics[last["id"]]

    assert rig.sync(store, rig.settings(ratings=False, talk=False, talk_history="off")).error is None
    assert stored_cases(store) == good
    state = store.sync_state("zd")
    assert state.skipped_total == 2
    assert state.last_skipped_sample == "ticket 9998: not an ISO-8601 time: 'yesterday'"


def test_check_reaches_the_account(rig: Rig) -> None:
    adapter = ZendeskAdapter(rig.settings(), rig.context)
    try:
        assert adapter.check() == "reachable, 2 groups on the first page"
    finally:
        adapter.close()


def test_settings_derive_url_from_subdomain_and_require_one() -> None:
    settings = ZendeskSettings(name="z", kind="zendesk", subdomain="acme", token_env="T", email="a@b.c")
    assert settings.url == "https://acme.zendesk.com"
    assert ZendeskSettings(name="z", kind="zendesk", url="https://acme.zendesk.com/api/v2/").url == (
        "https://acme.zendesk.com"
    )
    with pytest.raises(ValueError, match="subdomain"):
        ZendeskSettings(name="z", kind="zendesk")
    with pytest.raises(ValueError, match="subdomain"):
        ZendeskSettings(name="z", kind="zendesk", subdomain="acme.evil.com/")
