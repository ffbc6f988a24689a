"""LiveAgent (ladesk) API v3: tickets, agents' online status and calls.

Contract: ../shared/reference/helpdesk-apis.md §4. The API key goes in the ``apikey`` header. Lists page with
``_page``/``_perPage`` and filter with ``_filters`` (a JSON array of ``[column, operator, value]``); ``/calls``
also offers ``_cursor``. Lists are bare JSON arrays: a page shorter than ``_perPage`` is the last.

LiveAgent allows 180 requests a minute per key; every request waits its turn in a token bucket (``Pacer``), and a
429 is retried after its Retry-After by the shared HTTP client.

One sync runs four phases, one page per ``fetch``: tickets, agents (with their activity), calls, then done. Agents'
states have no "since" in the API, so the adapter records a new state only when it differs from the last one it saw
(kept in the cursor), stamped with the moment it noticed.

What the reference leaves open (UNCONFIRMED), read tolerantly:
- whether ``_filters`` accepts a date range on tickets: the window is also applied to the rows themselves, so a
  filter the API ignores only costs pages, and one it rejects (400) is dropped for the rest of this run;
- the time zone of v3 date strings: a time with an offset is taken as is, an epoch number as epoch, and a naive
  ``YYYY-MM-DD HH:MM:SS`` is read in ``timezone`` (default UTC; LiveAgent's v1 documents America/Los_Angeles);
- where ``/calls`` returns the next ``_cursor``: a ``Next-Page-Cursor`` header or a ``rel="next"`` link when present,
  else the window moves forward by ``date_created``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from shiftboard.adapters.base import AdapterContext, Cursor, FetchResult, HttpSourceSettings, SourceError
from shiftboard.adapters.http import HttpAdapter, Pacer, decode_json
from shiftboard.model import AgentState, Batch, Case, Contact, parse_time
from shiftboard.text import clean

STATUSES = {
    "I": "new",
    "N": "new",
    "C": "open",
    "T": "open",
    "P": "open",
    "A": "pending",
    "W": "on_hold",
    "R": "solved",
    "L": "closed",
    "X": "deleted",
    "B": "deleted",
}
CHANNELS = {
    "E": "email",
    "M": "web",
    "B": "web",
    "I": "web",
    "S": "web",
    "Q": "web",
    "C": "voice",
    "W": "voice",
    "F": "social",
    "A": "social",
    "T": "social",
}
ONLINE = {"F": "offline", "P": "away", "N": "available", "C": "available"}
PHASES = ("tickets", "agents", "calls")
#: A call still unfinished after this long no longer holds the calls window back.
OPEN_CALL_HORIZON_S = 86400.0


class LiveAgentSettings(HttpSourceSettings):
    """A LiveAgent account. ``url`` is ``https://<account>.ladesk.com``; ``token_env`` names the v3 API key."""

    per_page: int = Field(100, ge=1, le=1000, description="Rows per page (_perPage).")
    initial_days: float = Field(30.0, gt=0, description="How far back the first sync reads tickets and calls.")
    requests_per_minute: float = Field(170.0, gt=0, le=180, description="Pace of requests (LiveAgent: 180/min).")
    burst: int = Field(10, ge=1, description="Requests that may go at once before the pace applies.")
    timezone: str = Field("UTC", description="Zone of date strings that carry no offset.")
    calls: bool = Field(True, description="Read calls (as contacts).")
    calls_queue: str = Field("phone", min_length=1, description="Queue name given to calls.")
    agents: bool = Field(True, description="Read agents' online status and activity.")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class LiveAgentAdapter(HttpAdapter):
    """Reads one LiveAgent account."""

    kind = "liveagent"
    Settings = LiveAgentSettings
    settings: LiveAgentSettings

    def __init__(self, settings: LiveAgentSettings, context: AdapterContext | None = None) -> None:
        super().__init__(settings, context)
        # burst - 1 + per-minute ≤ 180 keeps any 60-second span within LiveAgent's limit.
        self.pacer = Pacer(settings.requests_per_minute, self.context, burst=settings.burst)
        self._zone = ZoneInfo(settings.timezone)
        self._filters_ok = True

    def credentials(self) -> dict[str, Any]:
        return {"headers": {"apikey": self.secret("API key")}}

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        self.pacer.wait()
        return self.client.request("GET", path, params=params)

    def _rows(self, response: Any, what: str) -> list[Any]:
        body = decode_json(response)
        if not isinstance(body, list):
            raise SourceError(f"{what}: expected a JSON array, got {type(body).__name__}")
        return body

    # -- the sync ------------------------------------------------------------------------------------------

    def fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        state = dict(cursor or {})
        phase = state.get("phase") if state.get("phase") in PHASES else "tickets"
        batch = Batch()
        if phase == "tickets":
            done = self._tickets_page(state, at, batch)
        elif phase == "agents":
            done = not self.settings.agents or self._agents(state, at, batch)
        else:
            done = not self.settings.calls or self._calls_page(state, at, batch)
        more = True
        if done:
            following = PHASES.index(phase) + 1
            state["phase"] = PHASES[following] if following < len(PHASES) else "tickets"
            more = following < len(PHASES)
        return FetchResult(batch, state, more)

    # -- tickets -------------------------------------------------------------------------------------------

    def _tickets_page(self, state: Cursor, at: float, batch: Batch) -> bool:
        since = float(state.get("tickets_since", at - self.settings.initial_days * 86400))
        page = int(state.get("tickets_page", 1))
        params: dict[str, Any] = {
            "_page": page,
            "_perPage": self.settings.per_page,
            "_sortField": "date_changed",
            "_sortDir": "ASC",
        }
        if self._filters_ok:
            params["_filters"] = json.dumps([["date_changed", "D>=", self._format(since)]])
        try:
            response = self._get("/api/v3/tickets", params)
        except SourceError as error:
            if self._filters_ok and str(error).startswith("400"):
                self._filters_ok = False  # the API refuses this filter: read unfiltered, window applied below
                return False
            raise
        rows = self._rows(response, "tickets")
        newest = state.get("tickets_max")
        for row in rows:
            case = self._case(row, batch)
            if case is None:
                continue
            changed = case.updated_at if case.updated_at is not None else case.created_at
            if changed < since:
                continue  # outside the window: an ignored filter sent it
            batch.cases.append(case)
            newest = changed if newest is None else max(newest, changed)
        if newest is not None:
            state["tickets_max"] = newest
        if len(rows) >= self.settings.per_page:
            state["tickets_page"] = page + 1
            return False
        if newest is not None:
            # One second of overlap: whether the filter includes its own second is not documented.
            state["tickets_since"] = max(since, newest - 1)
        state.pop("tickets_page", None)
        state.pop("tickets_max", None)
        return True

    def _case(self, row: Any, batch: Batch) -> Case | None:
        ident = row.get("id") if isinstance(row, dict) else None
        if not isinstance(ident, str) or not ident:
            batch.skip(f"ticket {clean(ident, 40)}: no id")
            return None
        status = STATUSES.get(str(row.get("status")))
        if status is None:
            batch.skip(f"ticket {clean(ident, 40)}: unknown status {clean(row.get('status'), 10)!r}")
            return None
        try:
            created = self._time(row.get("date_created"))
            if created is None:
                raise ValueError("no date_created")
            changed = self._time(row.get("date_changed"))
            resolved = self._time(row.get("date_resolved"))
        except ValueError as error:
            batch.skip(f"ticket {clean(ident, 40)}: {error}")
            return None
        return Case(
            source=self.name,
            id=clean(ident, 80),
            queue=clean(row.get("departmentid"), 80) or "none",
            status=status,
            # The v3 ticket has no priority field (UNCONFIRMED whether a custom field carries one).
            priority="normal",
            created_at=created,
            channel=CHANNELS.get(str(row.get("channel_type")), "other"),
            subject=clean(row.get("subject"), 300) or None,
            customer=clean(row.get("owner_email") or row.get("owner_contactid"), 120) or None,
            assignee=clean(row.get("agentid"), 80) or None,
            solved_at=resolved if status in ("solved", "closed") else None,
            updated_at=changed,
        )

    # -- agents --------------------------------------------------------------------------------------------

    def _agents(self, state: Cursor, at: float, batch: Batch) -> bool:
        """All agents (every page) and their activity; records a state only when it changed."""
        agents = self._all("/api/v3/agents", "agents")
        busy: set[str] = set()
        for row in self._all("/api/v3/agents/activity", "agents activity"):
            if isinstance(row, dict) and row.get("agent_status") == "B" and row.get("id") is not None:
                busy.add(str(row["id"]))
        known: dict[str, list[Any]] = dict(state.get("agents") or {})
        for row in agents:
            ident = row.get("id") if isinstance(row, dict) else None
            if not ident:
                batch.skip("agent: no id")
                continue
            if row.get("status") == "X":
                continue  # a deleted agent
            online = ONLINE.get(str(row.get("online_status")))
            if online is None:
                batch.skip(f"agent {clean(ident, 40)}: unknown online_status {clean(row.get('online_status'), 10)!r}")
                continue
            agent = clean(ident, 80)
            state_now = "busy" if online == "available" and agent in busy else online
            if agent in known and known[agent][0] == state_now:
                continue
            known[agent] = [state_now, at]
            batch.agent_states.append(
                AgentState(source=self.name, agent=agent, state=state_now, since=at, name=clean(row.get("name"), 80))
            )
        state["agents"] = known
        return True

    def _all(self, path: str, what: str) -> list[Any]:
        found: list[Any] = []
        for page in range(1, 1000):
            rows = self._rows(self._get(path, {"_page": page, "_perPage": self.settings.per_page}), what)
            found.extend(rows)
            if len(rows) < self.settings.per_page:
                break
        return found

    # -- calls ---------------------------------------------------------------------------------------------

    def _calls_page(self, state: Cursor, at: float, batch: Batch) -> bool:
        since = float(state.get("calls_since", at - self.settings.initial_days * 86400))
        params: dict[str, Any] = {
            "_perPage": self.settings.per_page,
            "_sortField": "date_created",
            "_sortDir": "ASC",
            "_filters": json.dumps([["date_created", "D>=", self._format(since)]]),
        }
        if state.get("calls_cursor"):
            params["_cursor"] = state["calls_cursor"]
        response = self._get("/api/v3/calls", params)
        rows = self._rows(response, "calls")
        newest = state.get("calls_max")
        oldest_open = state.get("calls_open")
        for row in rows:
            contact = self._contact(row, batch)
            if contact is None or contact.offered_at < since:
                continue
            batch.contacts.append(contact)
            newest = contact.offered_at if newest is None else max(newest, contact.offered_at)
            if contact.ended_at is None and at - contact.offered_at < OPEN_CALL_HORIZON_S:
                oldest_open = contact.offered_at if oldest_open is None else min(oldest_open, contact.offered_at)
        state["calls_max"], state["calls_open"] = newest, oldest_open
        following = _next_cursor(response)
        if len(rows) >= self.settings.per_page:
            if following:
                state["calls_cursor"] = following
            else:  # no cursor offered: move the window to the newest call read (re-read at its second)
                state.pop("calls_cursor", None)
                state["calls_since"] = newest if newest is not None and newest > since else since + 1
            return False
        # Caught up. Calls still ringing or queued are read again next time, until they end.
        end = newest if newest is not None else since
        state["calls_since"] = min(end, oldest_open) if oldest_open is not None else end
        for key in ("calls_cursor", "calls_max", "calls_open"):
            state.pop(key, None)
        return True

    def _contact(self, row: Any, batch: Batch) -> Contact | None:
        ident = row.get("id") if isinstance(row, dict) else None
        if not ident:
            batch.skip("call: no id")
            return None
        if row.get("type") not in (None, "I"):
            return None  # outgoing and internal calls are never offered to a queue
        try:
            offered = self._time(row.get("date_created"))
            if offered is None:
                raise ValueError("no date_created")
            answered = self._time(row.get("date_answered"))
            finished = self._time(row.get("date_finished"))
        except ValueError as error:
            batch.skip(f"call {clean(ident, 40)}: {error}")
            return None
        return Contact(
            source=self.name,
            id=clean(ident, 80),
            queue=self.settings.calls_queue,
            offered_at=offered,
            channel="voice",
            customer=clean(row.get("from_number"), 40) or None,
            answered_at=answered,
            ended_at=finished,
            abandoned_at=finished if answered is None else None,
        )

    # -- times ---------------------------------------------------------------------------------------------

    def _time(self, value: object) -> float | None:
        """An epoch number, an ISO time with offset, or a naive ``YYYY-MM-DD HH:MM:SS`` in ``timezone``."""
        if value is None or value == "" or value == "0000-00-00 00:00:00":
            return None
        if isinstance(value, str) and len(value) == 19 and value[10] in " T":
            try:
                naive = datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"not a time: {clean(value, 40)!r}") from None
            return naive.replace(tzinfo=self._zone).timestamp()
        return parse_time(value)

    def _format(self, seconds: float) -> str:
        return datetime.fromtimestamp(seconds, tz=self._zone).strftime("%Y-%m-%d %H:%M:%S")


def _next_cursor(response: Any) -> str | None:
    header = response.headers.get("Next-Page-Cursor")
    if header:
        return str(header)
    target = response.links.get("next", {}).get("url")
    if target:
        values = parse_qs(urlsplit(target).query).get("_cursor")
        if values:
            return values[0]
    return None


ADAPTER = LiveAgentAdapter
