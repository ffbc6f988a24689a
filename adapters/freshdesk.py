"""Freshdesk (API v2): tickets, satisfaction ratings and agents' availability.

Contract: ../shared/reference/helpdesk-apis.md §3. Basic auth with the API key as user name and "X" as password;
list endpoints page with ``page``/``per_page`` (max 100) and advertise the next page in the ``Link`` header.

Tickets are read with ``updated_since`` (always sent: without it Freshdesk returns only tickets created in the past
30 days), ``order_by=updated_at&order_type=asc``, following ``rel="next"`` links. Freshdesk refuses pages beyond the
300th, so after ``max_pages`` pages (or on that 400) the window restarts from the newest ``updated_at`` read so far.

One sync runs three phases, one page per ``fetch``: tickets, then satisfaction ratings, then agents. The cursor
holds the phase, the next link and each stream's window, so an interrupted sync resumes where it stopped.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import Field

from shiftboard.adapters.base import ConfigurationError, Cursor, FetchResult, HttpSourceSettings, SourceError
from shiftboard.adapters.http import HttpAdapter, decode_json
from shiftboard.model import AgentState, Batch, Case, Rating, format_time, parse_time
from shiftboard.text import clean

NormalStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed", "deleted"]

#: Freshdesk's built-in status codes. Other codes are custom statuses (mapped by ``status_map``).
STATUSES = {2: "open", 3: "pending", 4: "solved", 5: "closed"}
PRIORITIES = {1: "low", 2: "normal", 3: "high", 4: "urgent"}
#: ``source`` codes. 1/2/3/7/9/10 are documented today; 4 Forum, 5 Twitter, 6 Facebook are legacy codes and 15 (Web
#: Chat) is only reported by a third party (UNCONFIRMED). Unknown codes become "other" rather than a skipped ticket.
CHANNELS = {
    1: "email",
    2: "web",
    3: "voice",
    4: "web",
    5: "social",
    6: "social",
    7: "chat",
    9: "web",
    10: "email",
    15: "chat",
}
#: Satisfaction answers (``ratings.default_question``) onto a 1–7 scale. Only 103/100/-103 (the classic 3-point
#: survey) are well attested; the intermediate codes of 5- and 7-point surveys are UNCONFIRMED, so they are read as
#: the evenly spaced steps between, which keeps a 3-point answer at the same place on the scale.
RATING_SCALE = {-103: 1, -102: 2, -101: 3, 100: 4, 101: 5, 102: 6, 103: 7}
PAGE_CAP_S = "beyond the 300th page"
PHASES = ("tickets", "ratings", "agents")


class FreshdeskSettings(HttpSourceSettings):
    """A Freshdesk account. ``url`` is ``https://<domain>.freshdesk.com``; ``token_env`` names the API key."""

    per_page: int = Field(100, ge=1, le=100, description="Records per page (Freshdesk allows at most 100).")
    initial_days: float = Field(30.0, gt=0, description="How far back the first sync reads tickets and ratings.")
    max_pages: int = Field(300, ge=1, description="Pages read before the updated_since window restarts.")
    status_map: dict[int, NormalStatus] = Field(
        default_factory=dict, description="Status code → normalized status, for custom statuses (and overrides)."
    )
    custom_status: NormalStatus = Field("on_hold", description="Normalized status of a custom code not in status_map.")
    new_when_unanswered: bool = Field(True, description="An open ticket with no first response yet counts as new.")
    ratings: bool = Field(True, description="Read satisfaction ratings.")
    agents: bool = Field(True, description="Read agents' availability for assignment.")
    rate_limit_reserve: int = Field(
        0, ge=0, description="End the sync early when X-RateLimit-Remaining falls to this many calls."
    )


class FreshdeskAdapter(HttpAdapter):
    """Reads one Freshdesk account."""

    kind = "freshdesk"
    Settings = FreshdeskSettings
    settings: FreshdeskSettings

    def __init__(self, settings: FreshdeskSettings, context: Any = None) -> None:
        super().__init__(settings, context)
        self._groups: dict[str, str] | None = None

    def credentials(self) -> dict[str, Any]:
        # The API key is the user name; Freshdesk ignores the password, "X" by convention.
        return {"auth": (self.secret("API key"), "X")}

    # -- the sync ------------------------------------------------------------------------------------------

    def fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        state = dict(cursor or {})
        phase = state.get("phase", "tickets")
        if phase not in PHASES:
            phase = "tickets"
        batch = Batch()
        if phase == "tickets":
            done = self._tickets_page(state, at, batch)
        elif phase == "ratings":
            done = not self.settings.ratings or self._ratings_page(state, at, batch)
        else:
            done = not self.settings.agents or self._agents_page(state, at, batch)
        more = True
        if done:
            following = PHASES.index(phase) + 1
            if following == len(PHASES):
                state["phase"] = "tickets"
                more = False
            else:
                state["phase"] = PHASES[following]
        if self._budget_spent():
            more = False
        return FetchResult(batch, state, more)

    def _budget_spent(self) -> bool:
        """True when the account's call budget is down to the reserve: leave the rest to other integrations."""
        if self._client is None:
            return False
        remaining = self._client.last_headers.get("X-RateLimit-Remaining")
        try:
            return remaining is not None and int(remaining) <= self.settings.rate_limit_reserve
        except ValueError:
            return False

    def _get_page(self, state: Cursor, key: str, path: str, params: dict[str, Any]) -> tuple[Any, str | None]:
        """One page: the stored next link if there is one, else the first page of ``path``. Returns body, next."""
        link = state.get(f"{key}_next")
        response = self.client.request("GET", link) if link else self.client.request("GET", path, params=params)
        body = decode_json(response)
        return body, _next_link(response)

    def _window(self, state: Cursor, key: str, at: float) -> float:
        since = state.get(f"{key}_since")
        return float(since) if since is not None else at - self.settings.initial_days * 86400

    def _advance(
        self, state: Cursor, key: str, next_link: str | None, newest: float | None, *, capped: bool = True
    ) -> bool:
        """Record one page read; True when the stream is caught up (no next page).

        ``capped`` streams restart their window after ``max_pages`` pages; that is only safe when the pages come in
        time order (tickets, by ``order_by=updated_at``). Ratings have no documented order or cap: follow every link.
        """
        if newest is not None:
            state[f"{key}_max"] = max(newest, state.get(f"{key}_max") or newest)
        pages = int(state.get(f"{key}_page", 0)) + 1
        if next_link and (pages < self.settings.max_pages or not capped):
            state[f"{key}_next"] = next_link
            state[f"{key}_page"] = pages
            return False
        self._restart(state, key)
        # A restart forced by the page cap is not the end of the stream: more pages wait in the new window.
        return not next_link

    def _restart(self, state: Cursor, key: str) -> None:
        """Start a new window at the newest time read, overlapping by a second.

        Whether ``updated_since`` includes its own second is not documented; starting one second earlier is right
        under both readings (records already read come again and replace themselves).
        """
        old = self._window(state, key, 0.0) if state.get(f"{key}_since") is not None else None
        newest = state.get(f"{key}_max")
        if newest is not None:
            since = newest - 1
            if old is not None and since <= old:
                since = newest
            if old is not None and since <= old:
                # More than max_pages pages share one second: step past it rather than loop forever.
                since = old + 1
            state[f"{key}_since"] = since
        state.pop(f"{key}_next", None)
        state.pop(f"{key}_page", None)
        state.pop(f"{key}_max", None)

    # -- tickets -------------------------------------------------------------------------------------------

    def _tickets_page(self, state: Cursor, at: float, batch: Batch) -> bool:
        since = self._window(state, "tickets", at)
        if not state.get("tickets_next"):
            self._groups = None  # a new pass: pick up renamed or added groups
        params = {
            "updated_since": format_time(since),
            "order_by": "updated_at",
            "order_type": "asc",
            "per_page": self.settings.per_page,
            "include": "stats",
            "page": 1,
        }
        try:
            rows, next_link = self._get_page(state, "tickets", "/api/v2/tickets", params)
        except SourceError as error:
            if state.get("tickets_next") and str(error).startswith("400"):
                # Freshdesk's page cap answers 400 ("You cannot access tickets beyond the 300th page"); a lower cap
                # than max_pages ends up here. Restart the window past what was read.
                self._restart(state, "tickets")
                return False
            raise
        if not isinstance(rows, list):
            raise SourceError(f"tickets: expected a JSON array, got {type(rows).__name__}")
        newest: float | None = None
        for row in rows:
            case = self._case(row, batch)
            if case is not None:
                batch.cases.append(case)
                if case.updated_at is not None:
                    newest = case.updated_at if newest is None else max(newest, case.updated_at)
        return self._advance(state, "tickets", next_link, newest)

    def _case(self, row: Any, batch: Batch) -> Case | None:
        ident = row.get("id") if isinstance(row, dict) else None
        label = f"ticket {ident}"
        if not isinstance(ident, int):
            batch.skip(f"ticket {clean(ident, 40)}: no numeric id")
            return None
        try:
            created = parse_time(row.get("created_at"))
            updated = parse_time(row.get("updated_at"))
            status_code = row.get("status")
            if created is None:
                raise ValueError("no created_at")
            if not isinstance(status_code, int):
                raise ValueError(f"status {status_code!r} is not a code")
            priority_code = row.get("priority")
            if priority_code is not None and not isinstance(priority_code, int):
                raise ValueError(f"priority {priority_code!r} is not a code")
            # include=stats is attested by client code, not by Freshdesk's own page (UNCONFIRMED): without it the
            # first reply and solve times are unknown, and an open ticket stays "open" rather than "new".
            stats = row.get("stats") if isinstance(row.get("stats"), dict) else None
            first_reply = parse_time(stats.get("first_responded_at")) if stats else None
            solved = (parse_time(stats.get("resolved_at")) or parse_time(stats.get("closed_at"))) if stats else None
        except ValueError as error:
            batch.skip(f"{label}: {error}")
            return None
        status = self._status(status_code, stats is not None and first_reply is None)
        if row.get("spam") is True:
            status = "deleted"
        return Case(
            source=self.name,
            id=str(ident),
            queue=self._queue(row.get("group_id")),
            status=status,
            priority=PRIORITIES.get(priority_code, "normal"),  # type: ignore[arg-type]
            created_at=created,
            channel=CHANNELS.get(row.get("source"), "other"),  # type: ignore[arg-type]
            subject=clean(row.get("subject"), 300) or None,
            customer=_text_id(row.get("requester_id")),
            assignee=_text_id(row.get("responder_id")),
            first_reply_at=first_reply,
            solved_at=solved if status in ("solved", "closed") else None,
            updated_at=updated,
        )

    def _status(self, code: int, unanswered: bool) -> str:
        if code in self.settings.status_map:
            return self.settings.status_map[code]
        status = STATUSES.get(code, self.settings.custom_status)
        if status == "open" and unanswered and self.settings.new_when_unanswered:
            return "new"
        return status

    def _queue(self, group_id: object) -> str:
        """The group's name (from /api/v2/groups, read once per pass over tickets), else its id."""
        if group_id is None:
            return "unassigned"
        if self._groups is None:
            self._groups = self._read_groups()
        return self._groups.get(str(group_id), str(group_id))

    def _read_groups(self) -> dict[str, str]:
        names: dict[str, str] = {}
        path: str | None = "/api/v2/groups"
        params: dict[str, Any] | None = {"per_page": 100}
        for _ in range(self.settings.max_pages):
            if path is None:
                break
            try:
                response = self.client.request("GET", path, params=params)
            except ConfigurationError:
                raise
            except SourceError:
                return names  # group names are a nicety: ids serve as queue names
            body = decode_json(response)
            for group in body if isinstance(body, list) else []:
                if isinstance(group, dict) and group.get("id") is not None and group.get("name"):
                    names[str(group["id"])] = clean(group["name"], 80)
            path, params = _next_link(response), None
        return names

    # -- satisfaction ratings ------------------------------------------------------------------------------

    def _ratings_page(self, state: Cursor, at: float, batch: Batch) -> bool:
        since = self._window(state, "ratings", at)
        params = {"created_since": format_time(since), "per_page": self.settings.per_page, "page": 1}
        rows, next_link = self._get_page(state, "ratings", "/api/v2/surveys/satisfaction_ratings", params)
        if not isinstance(rows, list):
            raise SourceError(f"satisfaction ratings: expected a JSON array, got {type(rows).__name__}")
        newest: float | None = None
        for row in rows:
            rating = self._rating(row, batch)
            if rating is not None:
                batch.ratings.append(rating)
                newest = rating.rated_at if newest is None else max(newest, rating.rated_at)
        return self._advance(state, "ratings", next_link, newest, capped=False)

    def _rating(self, row: Any, batch: Batch) -> Rating | None:
        ident = row.get("id") if isinstance(row, dict) else None
        if ident is None:
            batch.skip("satisfaction rating: no id")
            return None
        label = f"satisfaction rating {clean(ident, 40)}"
        answers = row.get("ratings")
        answer = answers.get("default_question") if isinstance(answers, dict) else None
        if answer not in RATING_SCALE:
            batch.skip(f"{label}: unknown answer {clean(answer, 20)!r}")
            return None
        try:
            rated = parse_time(row.get("created_at"))
            if rated is None:
                raise ValueError("no created_at")
        except ValueError as error:
            batch.skip(f"{label}: {error}")
            return None
        return Rating(
            source=self.name,
            id=str(ident),
            kind="csat",
            score=float(RATING_SCALE[answer]),
            scale_min=1.0,
            scale_max=7.0,
            rated_at=rated,
            case_id=_text_id(row.get("ticket_id")),
            queue=self._queue(row.get("group_id")) if row.get("group_id") is not None else None,
            agent=_text_id(row.get("agent_id")),
            comment=clean(row.get("feedback"), 500) or None,
        )

    # -- agents --------------------------------------------------------------------------------------------

    def _agents_page(self, state: Cursor, at: float, batch: Batch) -> bool:
        params = {"per_page": self.settings.per_page, "page": 1}
        rows, next_link = self._get_page(state, "agents", "/api/v2/agents", params)
        if not isinstance(rows, list):
            raise SourceError(f"agents: expected a JSON array, got {type(rows).__name__}")
        for row in rows:
            agent = self._agent_state(row, at, batch)
            if agent is not None:
                batch.agent_states.append(agent)
        if next_link:
            state["agents_next"] = next_link
            return False
        state.pop("agents_next", None)
        return True

    def _agent_state(self, row: Any, at: float, batch: Batch) -> AgentState | None:
        """Freshdesk's ``available`` is the "available for assignment" toggle, not telephony presence."""
        ident = row.get("id") if isinstance(row, dict) else None
        if ident is None or not isinstance(row.get("available"), bool):
            batch.skip(f"agent {clean(ident, 40)}: no id or no available flag")
            return None
        try:
            since = parse_time(row.get("available_since")) if row["available"] else None
            since = since or parse_time(row.get("updated_at")) or at
        except ValueError as error:
            batch.skip(f"agent {ident}: {error}")
            return None
        contact = row.get("contact") if isinstance(row.get("contact"), dict) else {}
        return AgentState(
            source=self.name,
            agent=str(ident),
            state="available" if row["available"] else "offline",
            since=since,
            name=clean(contact.get("name"), 80) or None,
        )


def _next_link(response: httpx.Response) -> str | None:
    """The path and query of the ``rel="next"`` link, to be sent to our own base URL (never to another host)."""
    target = response.links.get("next", {}).get("url")
    if not target:
        return None
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _text_id(value: object) -> str | None:
    return None if value is None else clean(value, 80)


ADAPTER = FreshdeskAdapter
