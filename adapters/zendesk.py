"""Zendesk Support and Talk: tickets, ticket metrics, CSAT ratings, Talk queue, agents and calls.

Contract: ../shared/reference/helpdesk-apis.md §1 (Support) and §2 (Talk). One sync walks these streams in order,
one HTTP page per ``fetch`` so every page is committed with its cursor:

1. groups (names for the ``queue`` of tickets and ratings; kept in memory, refreshed each sync),
2. tickets through the cursor-based incremental export with ``include=metric_sets``,
3. satisfaction ratings (legacy CSAT, cursor paged) since the newest one seen,
4. Talk calls through the incremental calls export (→ Contact), unless ``talk_history = "overview"``,
5. Talk now: current queue activity + agents activity (+ the account overview) → one QueueSnapshot and AgentStates.

Requests are paced by ``X-Rate-Limit-Remaining``: when it falls to ``rate_limit_reserve`` or below, the adapter
waits before its next request (see ``pace_delay``); 429 + Retry-After is honoured by HttpClient.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import Field, field_validator, model_validator

from shiftboard.adapters.base import (
    AdapterContext,
    ConfigurationError,
    Cursor,
    FetchResult,
    HttpSourceSettings,
    SourceError,
)
from shiftboard.adapters.http import HttpAdapter
from shiftboard.model import AgentState, Batch, Case, Contact, QueueSnapshot, Rating, parse_time

log = logging.getLogger(__name__)

STATUSES = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "hold": "on_hold",
    "solved": "solved",
    "closed": "closed",
    "deleted": "deleted",
}
PRIORITIES = {"low": "low", "normal": "normal", "high": "high", "urgent": "urgent"}
# via.channel strings beyond the common ones are UNCONFIRMED (reference §1, §12.1): anything unknown is "other".
CHANNELS = {
    "email": "email",
    "mail": "email",
    "web": "web",
    "web_form": "web",
    "web_widget": "web",
    "help_center": "web",
    "api": "api",
    "web_service": "api",
    "voice": "voice",
    "phone": "voice",
    "phone_call_inbound": "voice",
    "phone_call_outbound": "voice",
    "voicemail": "voice",
    "chat": "chat",
    "chat_transcript": "chat",
    "native_messaging": "messaging",
    "messaging": "messaging",
    "sms": "messaging",
    "whatsapp": "messaging",
    "twitter": "social",
    "facebook": "social",
    "instagram_dm": "social",
}
# Zendesk also sends via.channel as an integer "via id"; only ids verified in the via-types table are mapped.
VIA_IDS = {0: "web", 4: "email", 5: "api", 29: "chat", 33: "voice", 34: "voice", 35: "voice", 44: "voice"}
#: Streams whose 403/404 is skipped (with a reason) instead of failing the sync, and the key that turns each off.
OPTIONAL_PHASES = {"ratings": "ratings", "calls": "talk_history", "talk": "talk"}


class ZendeskSettings(HttpSourceSettings):
    """A Zendesk account: ``url = "https://<subdomain>.zendesk.com"`` (or ``subdomain``), token from the environment.

    With ``email`` set the token is an API token (``{email}/token:{token}`` basic auth); without it, the token is
    an OAuth access token sent as a bearer token.
    """

    url: str = Field(description="https://<subdomain>.zendesk.com (or set subdomain).")
    subdomain: str | None = Field(None, description="The account's subdomain; sets url when url is not given.")
    email: str | None = Field(None, description="The API token's user; leave out to send the token as OAuth bearer.")
    history_days: float = Field(7.0, gt=0, le=366, description="How far back the first sync reads tickets and calls.")
    tickets: bool = Field(True, description="Read tickets and ticket metrics (incremental export).")
    ratings: bool = Field(True, description="Read legacy CSAT satisfaction ratings (needs an admin token).")
    talk: bool = Field(True, description="Read Zendesk Talk queue activity and agents.")
    talk_history: Literal["calls", "overview", "off"] = Field(
        "calls", description="Talk history: per-call incremental stats, the day's account overview, or nothing."
    )
    talk_queue: str = Field("Talk", min_length=1, description="Queue name for Talk calls, agents and snapshots.")
    default_queue: str = Field("Support", min_length=1, description="Queue of tickets without a group.")
    account_timezone: str = Field(
        "UTC", description="The account's time zone (Talk overview counts from its midnight)."
    )
    rate_limit_reserve: int = Field(
        10, ge=0, description="Slow down when X-Rate-Limit-Remaining falls to this many requests or fewer."
    )

    @model_validator(mode="before")
    @classmethod
    def _url_from_subdomain(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("url"):
            subdomain = data.get("subdomain")
            if not subdomain:
                raise ValueError("set url (https://<subdomain>.zendesk.com) or subdomain")
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", str(subdomain)):
                raise ValueError(f"subdomain must be letters, digits and dashes, got {str(subdomain)[:40]!r}")
            data = {**data, "url": f"https://{subdomain}.zendesk.com"}
        return data

    @field_validator("url")
    @classmethod
    def _strip_api_suffix(cls, value: str) -> str:
        value = value.rstrip("/")
        return value[: -len("/api/v2")] if value.endswith("/api/v2") else value

    @field_validator("account_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


def pace_delay(headers: httpx.Headers, reserve: int) -> float:
    """Seconds to wait before the next request, from the last answer's rate-limit headers.

    Nothing while ``X-Rate-Limit-Remaining`` (or ``ratelimit-remaining``) is above ``reserve``. At or below it: the
    seconds until the budget resets when ``ratelimit-reset`` says so (at most 60), else one request's share of the
    minute (60 / ``X-Rate-Limit``), so the remaining budget is spread instead of spent in a burst.
    """
    remaining = _header_int(headers, "X-Rate-Limit-Remaining", "ratelimit-remaining")
    if remaining is None or remaining > reserve:
        return 0.0
    reset = _header_int(headers, "ratelimit-reset")
    if reset is not None:
        return float(min(max(reset, 0), 60))
    limit = _header_int(headers, "X-Rate-Limit", "ratelimit-limit")
    return 60.0 / limit if limit else 1.0


def _header_int(headers: httpx.Headers, *names: str) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            try:
                return int(float(value))
            except ValueError:
                continue
    return None


class ZendeskAdapter(HttpAdapter):
    """Zendesk Support tickets/metrics/CSAT and Zendesk Talk queue, agents and calls."""

    kind = "zendesk"
    Settings = ZendeskSettings

    def __init__(self, settings: ZendeskSettings, context: AdapterContext | None = None) -> None:  # type: ignore[override]
        super().__init__(settings, context)
        self.settings: ZendeskSettings = settings
        self._groups: dict[str, str] = {}
        #: Export cursors seen during the current sync: a cursor that comes back means the export is looping.
        self._seen_cursors: set[str] = set()

    # -- plumbing ------------------------------------------------------------------------------------------

    def credentials(self) -> dict[str, Any]:
        token = self.secret()
        if self.settings.email:
            return {"auth": (f"{self.settings.email}/token", token)}
        return {"headers": {"Authorization": f"Bearer {token}"}}

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.client.get_json(path, params=params)
        delay = pace_delay(self.client.last_headers, self.settings.rate_limit_reserve)
        if delay > 0:
            self.context.sleep(delay)
        if not isinstance(body, dict):
            raise SourceError(f"unexpected answer from {path}: expected a JSON object")
        return body

    def _enabled_phases(self) -> list[str]:
        s = self.settings
        phases = ["groups"] if (s.tickets or s.ratings) else []
        phases += ["tickets"] if s.tickets else []
        phases += ["ratings"] if s.ratings else []
        phases += ["calls"] if s.talk_history == "calls" else []
        phases += ["talk"] if (s.talk or s.talk_history == "overview") else []
        if not phases:
            raise ConfigurationError("nothing to read: tickets, ratings and talk are all off")
        return phases

    def check(self) -> str:
        """Prove the credentials: list the account's groups (any agent may)."""
        body = self._get("/api/v2/groups.json")
        return f"reachable, {len(body.get('groups') or [])} groups on the first page"

    # -- the sync ------------------------------------------------------------------------------------------

    def fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        """One page of the current stream; ``more`` stays True until the last stream of this sync is read."""
        state: dict[str, Any] = dict(cursor or {})
        phases = self._enabled_phases()
        phase = state.get("phase")
        if phase not in phases:
            phase = phases[0]
        if phase == phases[0]:
            self._seen_cursors.clear()
        batch = Batch()
        handler = getattr(self, f"_fetch_{phase}")
        try:
            phase_done = handler(state, at, batch)
        except SourceError as error:
            # CSAT needs an admin token and Talk needs a Talk plan: a 403/404 there must not hide the tickets and
            # the rest. The stream is skipped with a reason on the health line's skipped count; tickets still fail.
            if phase not in OPTIONAL_PHASES or not str(error).startswith(("403", "404")):
                raise
            batch.skip(f"{phase}: {error}; turn {OPTIONAL_PHASES[phase]} off to stop asking")
            state.pop("ratings_after", None)
            phase_done = True
        if not phase_done:
            state["phase"] = phase
            return FetchResult(batch, state, more=True)
        index = phases.index(phase)
        if index + 1 < len(phases):
            state["phase"] = phases[index + 1]
            return FetchResult(batch, state, more=True)
        state["phase"] = phases[0]
        return FetchResult(batch, state, more=False)

    def _fetch_groups(self, state: dict[str, Any], at: float, batch: Batch) -> bool:
        groups: dict[str, str] = {}
        params: dict[str, Any] | None = None
        for _ in range(1000):
            body = self._get("/api/v2/groups.json", params)
            for group in body.get("groups") or []:
                if isinstance(group, dict) and group.get("id") is not None:
                    groups[str(group["id"])] = str(group.get("name") or f"group {group['id']}")
            params = _next_params(body.get("next_page"), params)
            if params is None:
                break
        self._groups = groups
        return True

    def _queue_for_group(self, group_id: Any) -> str:
        if group_id is None:
            return self.settings.default_queue
        return self._groups.get(str(group_id), f"group {group_id}")

    def _fetch_tickets(self, state: dict[str, Any], at: float, batch: Batch) -> bool:
        sent = state.get("tickets_cursor")
        params: dict[str, Any] = {"include": "metric_sets"}
        if sent:
            params["cursor"] = sent
            self._seen_cursors.add(sent)
        else:
            # start_time must be at least a minute in the past (reference §1).
            params["start_time"] = int(min(at - 60, at - self.settings.history_days * 86400))
        body = self._get("/api/v2/incremental/tickets/cursor.json", params)
        tickets = body.get("tickets")
        if not isinstance(tickets, list):
            raise SourceError("incremental ticket export: answer has no tickets list")
        metrics = _metric_sets(body)
        sideloaded = "metric_sets" in body
        for ticket in tickets:
            if not isinstance(ticket, dict):
                batch.skip("ticket: not an object")
                continue
            metric = metrics.get(str(ticket.get("id")))
            if metric is None and not sideloaded and isinstance(ticket.get("metric_set"), dict):
                metric = ticket["metric_set"]
            if metric is None and not sideloaded and ticket.get("id") is not None and ticket.get("status") != "deleted":
                # Tolerant reading: an account or proxy that ignores include=metric_sets still has the per-ticket
                # metrics endpoint; ask it, a page at a time.
                metric = self._ticket_metric(ticket["id"])
            case = self._case(ticket, metric, batch)
            if case is not None:
                batch.cases.append(case)
        after = body.get("after_cursor")
        end = bool(body.get("end_of_stream"))
        if after and end:
            state["tickets_cursor"] = after
            return True
        if after:
            looping = after == sent or after in self._seen_cursors
            self._seen_cursors.add(after)
            state["tickets_cursor"] = after
            if looping:
                # A cursor that comes back (zenpy #451, zendesk_api_client_rb #168): stop here and resume from it
                # on the next sync instead of asking for the same page forever.
                log.warning("%s: ticket export returned a cursor it already gave; resuming next sync", self.name)
                return True
            return False
        return True

    def _ticket_metric(self, ticket_id: Any) -> dict[str, Any] | None:
        try:
            body = self._get(f"/api/v2/tickets/{int(ticket_id)}/metrics.json")
        except (TypeError, ValueError):
            return None
        except SourceError as error:
            if str(error).startswith("404"):
                return None
            raise
        metric = body.get("ticket_metric")
        return metric if isinstance(metric, dict) else None

    def _case(self, ticket: dict[str, Any], metric: dict[str, Any] | None, batch: Batch) -> Case | None:
        ident = ticket.get("id")
        try:
            if ident is None:
                raise ValueError("no id")
            # With custom statuses active, ``status`` still holds the status category, which is what the board
            # needs; custom_status_id only names the tenant's finer label, so it is not looked up.
            status = STATUSES.get(str(ticket.get("status") or "").lower())
            if status is None:
                raise ValueError(f"unknown status {ticket.get('status')!r}")
            priority = PRIORITIES.get(str(ticket.get("priority") or "normal").lower())
            if priority is None:
                raise ValueError(f"unknown priority {ticket.get('priority')!r}")
            created = parse_time(ticket.get("created_at"))
            if created is None:
                raise ValueError("no created_at")
            first_reply_at = solved_at = None
            replies = reopens = None
            if metric:
                reply_min = _calendar_minutes(metric.get("reply_time_in_minutes"))
                if reply_min is not None:
                    first_reply_at = created + reply_min * 60
                solved_at = parse_time(metric.get("solved_at"))
                replies = _int_or_none(metric.get("replies"))
                reopens = _int_or_none(metric.get("reopens"))
            if solved_at is None and status in ("solved", "closed") and metric:
                full = _calendar_minutes(metric.get("full_resolution_time_in_minutes"))
                if full is not None:
                    solved_at = created + full * 60
            return Case(
                source=self.name,
                id=str(ident),
                queue=self._queue_for_group(ticket.get("group_id")),
                status=status,
                priority=priority,
                created_at=created,
                channel=channel_of(ticket.get("via")),
                subject=_str_or_none(ticket.get("subject")),
                customer=_str_or_none(ticket.get("requester_id")),
                assignee=_str_or_none(ticket.get("assignee_id")),
                first_reply_at=first_reply_at,
                solved_at=solved_at,
                updated_at=parse_time(ticket.get("updated_at")),
                agent_replies=replies,
                reopens=reopens,
            )
        except (ValueError, TypeError) as error:
            batch.skip(f"ticket {ident}: {error}")
            return None

    def _fetch_ratings(self, state: dict[str, Any], at: float, batch: Batch) -> bool:
        since = state.get("ratings_since")
        if since is None:
            since = int(at - self.settings.history_days * 86400)
        params: dict[str, Any] = {"page[size]": 100, "start_time": int(since)}
        if state.get("ratings_after"):
            params["page[after]"] = state["ratings_after"]
        body = self._get("/api/v2/satisfaction_ratings.json", params)
        newest = int(since)
        for item in body.get("satisfaction_ratings") or []:
            rating = self._rating(item, batch)
            try:
                created = parse_time(item.get("created_at")) if isinstance(item, dict) else None
            except ValueError:
                created = None  # _rating has counted it when it had no usable time
            if created is not None:
                newest = max(newest, int(created))
            if rating is not None:
                batch.ratings.append(rating)
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        after = meta.get("after_cursor")
        if meta.get("has_more") and after and after != state.get("ratings_after"):
            state["ratings_after"] = after
            state["ratings_next_since"] = max(newest, int(state.get("ratings_next_since") or 0))
            return False
        # Next sync asks again from the newest rating's second: the ones seen again are upserted, not doubled.
        state["ratings_since"] = max(newest, int(state.get("ratings_next_since") or 0))
        state.pop("ratings_after", None)
        state.pop("ratings_next_since", None)
        return True

    def _rating(self, item: Any, batch: Batch) -> Rating | None:
        if not isinstance(item, dict):
            batch.skip("satisfaction rating: not an object")
            return None
        ident = item.get("id")
        score = str(item.get("score") or "").lower()
        if score in ("offered", "unoffered"):
            return None  # a survey sent or not sent, not an answer
        if score not in ("good", "bad") or ident is None:
            batch.skip(f"satisfaction rating {ident}: unknown score {item.get('score')!r}")
            return None
        try:
            rated_at = parse_time(item.get("updated_at")) or parse_time(item.get("created_at"))
        except ValueError as error:
            batch.skip(f"satisfaction rating {ident}: {error}")
            return None
        if rated_at is None:
            batch.skip(f"satisfaction rating {ident}: no time")
            return None
        return Rating(
            source=self.name,
            id=str(ident),
            kind="csat",
            score=1.0 if score == "good" else 0.0,
            scale_min=0.0,
            scale_max=1.0,
            rated_at=rated_at,
            case_id=_str_or_none(item.get("ticket_id")),
            queue=self._queue_for_group(item.get("group_id")) if item.get("group_id") is not None else None,
            agent=_str_or_none(item.get("assignee_id")),
            comment=_str_or_none(item.get("comment")),
        )

    def _fetch_calls(self, state: dict[str, Any], at: float, batch: Batch) -> bool:
        start = state.get("calls_start")
        if start is None:
            start = int(at - self.settings.history_days * 86400)
        body = self._get("/api/v2/channels/voice/stats/incremental/calls.json", {"start_time": int(start)})
        calls = body.get("calls") or []
        for call in calls:
            contact = self._contact(call, batch)
            if contact is not None:
                batch.contacts.append(contact)
        end_time = _int_or_none(body.get("end_time"))
        next_params = _next_params(body.get("next_page"), None)
        next_start = _int_or_none((next_params or {}).get("start_time")) if next_params else None
        candidates = [t for t in (next_start, end_time) if t is not None]
        new_start = max(candidates) if candidates else None
        if new_start is not None and new_start > int(start):
            state["calls_start"] = new_start
        # The last page's next_page may point at itself (zenpy #489): the page is done when there is no next page,
        # the next page would start where this one did, or the page was empty.
        return not calls or next_params is None or new_start is None or new_start <= int(start)

    def _contact(self, call: Any, batch: Batch) -> Contact | None:
        if not isinstance(call, dict):
            batch.skip("call: not an object")
            return None
        ident = call.get("id")
        if str(call.get("direction") or "inbound").lower() != "inbound":
            return None  # outbound calls were never offered to a queue
        try:
            if ident is None:
                raise ValueError("no id")
            offered = parse_time(call.get("created_at"))
            if offered is None:
                raise ValueError("no created_at")
            wait = _float_or_none(call.get("wait_time"))
            if wait is None:
                wait = _float_or_none(call.get("time_to_answer"))
            duration = _float_or_none(call.get("duration"))
            status = call_outcome(call.get("completion_status"))
            answered_at = abandoned_at = ended_at = None
            blocked = False
            if status == "answered":
                answered_at = offered + (wait or 0.0)
                if duration is not None:
                    ended_at = offered + duration
            elif status == "abandoned":
                abandoned_at = offered + (wait if wait is not None else (duration or 0.0))
            elif status == "ended":
                if call.get("outside_business_hours") and not wait:
                    blocked = True
                ended_at = offered + (duration or wait or 0.0)
            elif status == "unknown":
                log.warning(
                    "%s: call %s has an unknown completion_status %r", self.name, ident, call.get("completion_status")
                )
                ended_at = offered + (duration or wait or 0.0)
            return Contact(
                source=self.name,
                id=str(ident),
                queue=self.settings.talk_queue,
                offered_at=offered,
                channel="voice",
                customer=_str_or_none(call.get("customer_id")),
                agent=_str_or_none(call.get("agent_id")) if answered_at is not None else None,
                answered_at=answered_at,
                ended_at=ended_at,
                abandoned_at=abandoned_at,
                blocked=blocked,
                hold_s=_float_or_none(call.get("hold_time")),
                wrap_up_s=_float_or_none(call.get("wrap_up_time")),
            )
        except (ValueError, TypeError) as error:
            batch.skip(f"call {ident}: {error}")
            return None

    def _fetch_talk(self, state: dict[str, Any], at: float, batch: Batch) -> bool:
        s = self.settings
        snapshot = QueueSnapshot(source=self.name, queue=s.talk_queue, at=at)
        if s.talk:
            body = self._get("/api/v2/channels/voice/stats/current_queue_activity.json")
            activity = body.get("current_queue_activity")
            if not isinstance(activity, dict):
                raise SourceError("current_queue_activity: answer has no current_queue_activity object")
            snapshot.waiting = _int_or_none(activity.get("calls_waiting"))
            snapshot.longest_wait_s = _float_or_none(activity.get("longest_wait_time"))
            snapshot.agents_online = _int_or_none(activity.get("agents_online"))
            known: dict[str, list[Any]] = dict(state.get("agents") or {})
            available = 0
            params: dict[str, Any] | None = None
            for _ in range(1000):
                page = self._get("/api/v2/channels/voice/stats/agents_activity.json", params)
                for item in page.get("agents_activity") or []:
                    agent = self._agent_state(item, at, known, batch)
                    if agent is not None:
                        batch.agent_states.append(agent)
                        available += agent.state == "available"
                params = _next_params(page.get("next_page"), params)
                if params is None:
                    break
            snapshot.agents_available = available
            state["agents"] = known
        if s.talk_history == "overview":
            body = self._get("/api/v2/channels/voice/stats/account_overview.json")
            overview = body.get("account_overview")
            if not isinstance(overview, dict):
                raise SourceError("account_overview: answer has no account_overview object")
            local = datetime.fromtimestamp(at, tz=ZoneInfo(s.account_timezone))
            snapshot.window_start = local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
            # total_inbound_calls is Professional+; total_calls (in and out) is the fallback on lower plans.
            inbound = overview.get("total_inbound_calls")
            snapshot.offered = _int_or_none(inbound if inbound is not None else overview.get("total_calls"))
            snapshot.abandoned = _int_or_none(overview.get("total_calls_abandoned_in_queue"))
            asa = _float_or_none(overview.get("average_time_to_answer"))
            if snapshot.offered is not None and snapshot.abandoned is not None:
                voicemails = _int_or_none(overview.get("total_voicemails")) or 0
                snapshot.answered = max(0, snapshot.offered - snapshot.abandoned - voicemails)
                if asa is not None:
                    snapshot.wait_total_s = asa * snapshot.answered
        batch.queue_snapshots.append(snapshot)
        return True

    def _agent_state(self, item: Any, at: float, known: dict[str, list[Any]], batch: Batch) -> AgentState | None:
        if not isinstance(item, dict) or item.get("agent_id") is None:
            batch.skip("agents_activity: entry without agent_id")
            return None
        ident = str(item["agent_id"])
        state = talk_agent_state(item)
        if state is None:
            batch.skip(f"agent {ident}: unknown agent_state {item.get('agent_state') or item.get('status_code')!r}")
            return None
        # The API gives no time of the last change: "since" is the first poll that saw this state.
        previous = known.get(ident)
        since = float(previous[1]) if previous and previous[0] == state else at
        known[ident] = [state, since]
        return AgentState(
            source=self.name,
            agent=ident,
            state=state,
            since=since,
            name=_str_or_none(item.get("name")),
            queues=(self.settings.talk_queue,),
        )


def channel_of(via: Any) -> str:
    """The normalized channel of a ticket's ``via`` (string via type or integer via id); "other" when unknown."""
    channel = via.get("channel") if isinstance(via, dict) else via
    if isinstance(channel, bool) or channel is None:
        return "other"
    if isinstance(channel, int):
        return VIA_IDS.get(channel, "other")
    return CHANNELS.get(str(channel).strip().lower(), "other")


def call_outcome(status: Any) -> str:
    """A Talk call's completion_status as answered / abandoned / ended / waiting / unknown.

    The API spellings are UNCONFIRMED (reference §2.4: only "completed" is in a schema; the help centre shows labels
    such as "Abandoned in queue"), so both "abandoned_in_queue" and "Abandoned in Queue" are read alike.
    """
    if status is None or status == "":
        return "waiting"
    text = re.sub(r"[\s-]+", "_", str(status).strip().lower())
    if text in ("completed", "answered"):
        return "answered"
    if text.startswith("abandoned"):
        return "abandoned"
    if text in ("not_answered", "failed", "pending_voicemail", "voicemail", "missed", "outside_business_hours"):
        return "ended"
    return "unknown"


def talk_agent_state(item: dict[str, Any]) -> str | None:
    """Normalized state from an agents_activity entry (``agent_state``/``call_status``, or older ``status_code``)."""
    agent_state = item.get("agent_state")
    call_status = item.get("call_status")
    if agent_state is None:
        code = str(item.get("status_code") or item.get("status") or "").strip().lower()
        legacy = {
            "available": "available",
            "online": "available",
            "on_call": "busy",
            "wrap_up": "wrap_up",
            "away": "away",
            "transfers_only": "away",
            "offline": "offline",
        }
        return legacy.get(code)
    agent_state = str(agent_state).strip().lower()
    if agent_state == "online":
        if call_status == "on_call":
            return "busy"
        if call_status == "wrap_up":
            return "wrap_up"
        return "available"
    return {"away": "away", "transfers_only": "away", "offline": "offline"}.get(agent_state)


def _metric_sets(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for key in ("metric_sets", "ticket_metrics"):
        for metric in body.get(key) or []:
            if isinstance(metric, dict) and metric.get("ticket_id") is not None:
                found[str(metric["ticket_id"])] = metric
    return found


def _next_params(next_page: Any, current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The query of a ``next_page`` URL, to ask the configured host (not whatever host the link names).

    None when there is no next page or it is the page just read.
    """
    if not next_page or not isinstance(next_page, str):
        return None
    query = {k: v[0] for k, v in parse_qs(urlsplit(next_page).query, keep_blank_values=True).items()}
    if current is not None and {k: str(v) for k, v in current.items()} == query:
        return None
    return query


def _calendar_minutes(value: Any) -> float | None:
    if isinstance(value, dict):
        value = value.get("calendar")
    return _float_or_none(value)


def _float_or_none(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    return float(value)


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    return int(value)


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


ADAPTER = ZendeskAdapter
