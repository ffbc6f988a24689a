"""Request Tracker 5 (REST2): tickets as cases, synced incrementally through TicketSQL on LastUpdated.

How a sync walks RT (facts: ../shared/reference/request-tracker.md and helpdesk-apis.md §6):

- TicketSQL reads an absolute date literal in the *user's* time zone (RT's default is US/Eastern), and an explicit
  offset is shifted again, so an absolute UTC bound is not reliable. A relative bound ("now - N seconds") is parsed
  against RT's own clock and is zone-free; N is computed from RT's clock as the ``Date`` header reports it.
- Within one sync, pages are keyset pages on the ticket id (``id > last`` ordered by id): unlike page numbers they
  cannot skip a ticket when another one is updated mid-sync and moves in the result.
- The next sync starts ``overlap_s`` before the moment (RT's clock) this one began. A ticket changed in the same
  second as the cursor, or during the sync, is therefore read again; tickets already emitted with the same
  LastUpdated are dropped by id (de-duplication), so a quiet RT costs one small request per poll.
- REST2 never returns deleted tickets in a search, so the status transactions that deleted a ticket since the last
  sync are searched separately and those tickets read one by one; they leave the backlog.
- First reply, agent replies and reopenings come from the tickets' Correspond and Status transactions: one
  transaction search per page of tickets (``history = true``, the default). First reply is the earliest
  Correspond by someone who is not a requestor (RT_System excluded); without one it falls back to Told.
- Totals are null for non-superusers (RT >= 5.0.5), so a page is the last when it is short and has no next_page.
"""

from __future__ import annotations

import email.utils
import math
import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, model_validator

from shiftboard.adapters.base import (
    Adapter,
    AdapterContext,
    ConfigurationError,
    Cursor,
    FetchResult,
    HttpSourceSettings,
    SourceError,
)
from shiftboard.adapters.http import HttpClient, config_error_for_url
from shiftboard.model import CASE_STATUSES, Batch, Case, parse_time
from shiftboard.text import clean

REST_PATH = "/REST/2.0"
#: RT's default lifecycle onto the normalized statuses; "deleted" leaves the backlog and every figure.
STATUS_MAP = {
    "new": "new",
    "open": "open",
    "stalled": "on_hold",
    "resolved": "solved",
    "rejected": "closed",
    "deleted": "deleted",
}
INACTIVE = frozenset({"solved", "closed", "deleted"})
#: RT's %PriorityAsString names, in case a site returns names instead of numbers.
PRIORITY_NAMES = {"low": "low", "medium": "normal", "high": "high", "urgent": "urgent"}
TICKET_FIELDS = "Subject,Status,Queue,Owner,Requestor,Priority,Created,Started,Told,Resolved,LastUpdated"
HISTORY_FIELDS = "Type,Created,Creator,Field,OldValue,NewValue,ObjectId"
SYSTEM_USERS = frozenset({"RT_System", "Nobody"})
#: Seconds added to every relative bound, for the Date header's whole-second resolution and request latency.
SLACK_S = 5.0
#: Largest de-duplication set kept in the cursor; beyond it duplicates are simply written again (harmless).
MAX_SEEN = 5000
_PERL_LOCATION = re.compile(r"\s+at \S+ line \d+\.?\s*$")


class RequestTrackerSettings(HttpSourceSettings):
    """An RT 5 instance. ``url`` is RT's base URL (with its WebPath, e.g. https://rt.example.com/rt)."""

    kind: Literal["request_tracker"] = "request_tracker"
    user: str | None = Field(None, description="RT user name for basic auth (with password_env), if no token.")
    password_env: str | None = Field(None, description="Environment variable holding that user's password.")
    queues: list[str] = Field(default_factory=list, description="Only these queues (by name); empty = all.")
    filter: str | None = Field(None, description="Extra TicketSQL ANDed to every search, e.g. \"Owner != 'bot'\".")
    per_page: int = Field(100, ge=1, le=100, description="Tickets per request (RT caps it at 100).")
    overlap_s: float = Field(60.0, ge=0, description="Each sync re-reads this many seconds before the last one.")
    initial_days: float = Field(7.0, gt=0, description="First sync: active tickets plus those updated this recently.")
    history: bool = Field(True, description="Read transactions for first reply, agent replies and reopenings.")
    priority_normal_from: int = Field(25, description="Numeric priority at or above which a ticket is normal.")
    priority_high_from: int = Field(75, description="… high.")
    priority_urgent_from: int | None = Field(None, description="… urgent (RT has no urgent by default).")
    status_map: dict[str, str] = Field(
        default_factory=dict, description="Extra statuses of custom lifecycles → new/open/pending/on_hold/solved/…"
    )

    @model_validator(mode="after")
    def _credentials(self) -> RequestTrackerSettings:
        token = self.token_env or self.token_file
        if token and (self.user or self.password_env):
            raise ValueError("set either token_env/token_file or user with password_env, not both")
        if not token and not (self.user and self.password_env):
            raise ValueError("set token_env (or token_file), or user with password_env")
        bad = {k: v for k, v in self.status_map.items() if v not in CASE_STATUSES}
        if bad:
            raise ValueError(f"status_map values must be one of {', '.join(CASE_STATUSES)}; got {bad}")
        return self


def sql_quote(value: str) -> str:
    """A TicketSQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class RequestTrackerAdapter(Adapter):
    """Tickets from RT 5's REST2 API. See the module docstring for how a sync proceeds."""

    kind = "request_tracker"
    Settings = RequestTrackerSettings

    def __init__(self, settings: RequestTrackerSettings, context: AdapterContext | None = None) -> None:
        super().__init__(settings, context)
        self.settings: RequestTrackerSettings = settings
        self._http: HttpClient | None = None
        #: RT's clock minus ours, from the last response's Date header; None until the first response.
        self._skew: float | None = None
        self._statuses = {**STATUS_MAP, **settings.status_map}

    # -- plumbing ------------------------------------------------------------------------------------------

    @property
    def http(self) -> HttpClient:
        if self._http is None:
            error = config_error_for_url(self.settings.url)
            if error is not None:
                raise error
            base = self.settings.url.rstrip("/")
            if not base.endswith(REST_PATH):
                base += REST_PATH
            settings = self.settings.model_copy(update={"url": base})
            if self.settings.user:
                password = self.context.environ.get(self.settings.password_env or "")
                if not password:
                    raise ConfigurationError(f"password: environment variable {self.settings.password_env} is not set")
                self._http = HttpClient(settings, self.context, auth=(self.settings.user, password))
            else:
                self._http = HttpClient(settings, self.context, headers={"Authorization": f"token {self.secret()}"})
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _get(self, path: str, params: dict[str, Any], what: str) -> dict[str, Any]:
        """GET a REST2 resource; a TicketSQL error, HTML or an odd shape becomes a clear SourceError."""
        try:
            body = self.http.get_json(path, params=params)
        except SourceError as error:
            reason = str(error)
            if reason.startswith("400"):
                detail = _PERL_LOCATION.sub("", reason.partition(": ")[2]) or reason
                raise ConfigurationError(f"RT rejected the {what} query (TicketSQL error): {detail}") from None
            if reason.startswith("answer is not JSON"):
                raise SourceError(
                    f"{reason}; is url RT's base URL (with its WebPath) and REST2 enabled?", retryable=error.retryable
                ) from None
            raise
        self._note_clock()
        if not isinstance(body, dict):
            raise SourceError(f"unexpected answer from {path}: a JSON {type(body).__name__}, expected an object")
        return body

    def _note_clock(self) -> None:
        date = self.http.last_headers.get("Date")
        if not date:
            return
        try:
            server = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            return
        self._skew = server - self.context.clock()

    def _server_now(self) -> float:
        return self.context.clock() + (self._skew or 0.0)

    # -- queries -------------------------------------------------------------------------------------------

    def _scope(self) -> list[str]:
        clauses = []
        if self.settings.queues:
            clauses.append("(" + " OR ".join(f"Queue = {sql_quote(q)}" for q in self.settings.queues) + ")")
        if self.settings.filter:
            clauses.append(f"({self.settings.filter})")
        return clauses

    def _since_clause(self, column: str, since: float) -> str:
        seconds = max(1, math.ceil(self._server_now() - since + SLACK_S))
        return f"{column} >= 'now - {seconds} seconds'"

    def _ticket_page(self, since: float | None, after_id: int) -> dict[str, Any]:
        clauses = self._scope()
        if since is None:
            days = math.ceil(self.settings.initial_days * 86400)
            clauses.append(f"(Status = '__Active__' OR LastUpdated >= 'now - {days} seconds')")
        else:
            clauses.append(self._since_clause("LastUpdated", since))
        if after_id:
            clauses.append(f"id > {after_id}")
        params = {
            "query": " AND ".join(clauses),
            "fields": TICKET_FIELDS,
            "fields[Queue]": "Name",
            "fields[Owner]": "Name",
            "fields[Requestor]": "Name,EmailAddress",
            "orderby": "id",
            "order": "ASC",
            "per_page": self.settings.per_page,
            "page": 1,
        }
        return self._get("/tickets", params, "ticket")

    def _pages(self, path: str, query: str, fields: str, what: str) -> Iterable[dict[str, Any]]:
        """Every item of a search, keyset-paged on id (a short page without next_page is the last)."""
        after = 0
        while True:
            clauses = [query] + ([f"id > {after}"] if after else [])
            params = {
                "query": " AND ".join(clauses),
                "fields": fields,
                "orderby": "id",
                "order": "ASC",
                "per_page": 100,
                "page": 1,
            }
            body = self._get(path, params, what)
            items = _items(body, path)
            yield from items
            if not _has_more(body, len(items)):
                return
            after = max(_int_id(item) for item in items)

    # -- the sync ------------------------------------------------------------------------------------------

    def fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        state = dict(cursor or {})
        since: float | None = state.get("since")
        after_id: int = int(state.get("after_id", 0))
        started: float | None = state.get("started")
        seen: dict[str, str] = dict(state.get("seen") or {})
        fresh: dict[str, str] = dict(state.get("fresh") or {})
        if self._skew is None and "skew" in state:
            self._skew = float(state["skew"])
        first_page = started is None

        skew_before = self._skew
        sent = self.context.clock()
        body = self._ticket_page(since, after_id)
        if since is not None and self._skew is not None and abs(self._skew - (skew_before or 0.0)) > SLACK_S:
            # Our guess of RT's clock was off by more than the slack, so the relative bound was too; ask again.
            skew_before, sent = self._skew, self.context.clock()
            body = self._ticket_page(since, after_id)
        # A ticket read with LastUpdated in the second of the read (or later) may change again within that same
        # second without its LastUpdated moving, so only tickets last updated before that second are de-duplicated.
        # The skew comes from a Date header (whole seconds, rounded down) taken after the answer arrived, so
        # ``sent + skew`` is never later than RT's clock when it ran the query.
        dedup_before = float(math.floor(sent + (self._skew or 0.0)))
        if first_page:
            started = self._server_now() - 1.0
        items = _items(body, "/tickets")

        next_since = (started or 0.0) - self.settings.overlap_s

        def remember(ticket_id: str, updated: str) -> None:
            # What the next sync will read again (its bound minus the slack) is remembered, to drop it then.
            try:
                moment = parse_time(updated)
            except ValueError:
                return
            # The next bound is rounded down and RT's clock known to a second: remember a little more than it reads.
            if moment is not None and next_since - 2 * SLACK_S <= moment < dedup_before and len(fresh) < MAX_SEEN:
                fresh[ticket_id] = updated

        batch = Batch()
        records: list[tuple[dict[str, Any], str]] = []
        for item in items:
            if not isinstance(item, dict):
                batch.skip(f"ticket ?: not an object ({type(item).__name__})")
                continue
            ticket_id = str(item.get("id", "?"))
            updated = str(item.get("LastUpdated", ""))
            if since is not None and seen.get(ticket_id) == updated:
                remember(ticket_id, updated)
                continue  # emitted by the previous sync with this very LastUpdated
            records.append((item, ticket_id))
        history = self._history([tid for _, tid in records]) if self.settings.history and records else {}
        for item, ticket_id in records:
            try:
                case = self.to_case(item, history.get(ticket_id))
            except (KeyError, TypeError, ValueError) as error:
                batch.skip(f"ticket {clean(ticket_id, 20)}: {clean(str(error), 120)}")
                continue
            batch.cases.append(case)
            remember(ticket_id, str(item.get("LastUpdated")))

        more = _has_more(body, len(items))
        if more:
            last_id = max(_int_id(item) for item in items if isinstance(item, dict))
            new_state = {"since": since, "after_id": last_id, "started": started, "seen": seen, "fresh": fresh}
        else:
            if since is not None:
                batch.cases.extend(self._deleted_since(since, seen, fresh))
            new_state = {"since": next_since, "after_id": 0, "started": None, "seen": fresh, "fresh": {}}
        if self._skew is not None:
            new_state["skew"] = round(self._skew, 3)
        return FetchResult(batch, new_state, more)

    def _history(self, ticket_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Per ticket: its Correspond and Status transactions, as (time, kind, creator, old, new) tuples."""
        ids = [t for t in ticket_ids if t.isdigit()]
        if not ids:
            return {}
        query = (
            "ObjectType = 'RT::Ticket' AND (Type = 'Correspond' OR Type = 'Status') AND ("
            + " OR ".join(f"ObjectId = {t}" for t in ids)
            + ")"
        )
        result: dict[str, dict[str, Any]] = {t: {"events": []} for t in ids}
        for tx in self._pages("/transactions", query, HISTORY_FIELDS, "transaction"):
            if not isinstance(tx, dict):
                continue
            ticket = str(tx.get("ObjectId"))
            if ticket not in result:
                continue
            try:
                moment = parse_time(tx.get("Created"))
            except ValueError:
                continue
            creator = tx.get("Creator")
            name = creator.get("id") if isinstance(creator, dict) else creator
            result[ticket]["events"].append(
                (moment, tx.get("Type"), str(name or ""), tx.get("OldValue"), tx.get("NewValue"))
            )
        return result

    def _deleted_since(self, since: float, seen: dict[str, str], fresh: dict[str, str]) -> list[Case]:
        """Tickets deleted since ``since``: REST2 searches never return them, their Status transactions do.

        A ticket already reported deleted by the previous sync (``seen``) is not read again.
        """
        clauses = ["ObjectType = 'RT::Ticket'", "Field = 'Status'", "NewValue = 'deleted'"]
        if self.settings.queues:
            clauses.append("(" + " OR ".join(f"TicketQueue = {sql_quote(q)}" for q in self.settings.queues) + ")")
        query = " AND ".join([*clauses, self._since_clause("Created", since)])
        ids = sorted({str(tx.get("ObjectId")) for tx in self._pages("/transactions", query, "ObjectId", "deleted")})
        cases = []
        for ticket_id in ids:
            if not ticket_id.isdigit():
                continue
            if len(fresh) < MAX_SEEN:
                fresh[ticket_id] = "deleted"
            if seen.get(ticket_id) == "deleted":
                continue
            item = self._get(f"/ticket/{ticket_id}", {"fields[Queue]": "Name"}, "ticket")
            if item.get("Status") != "deleted":
                continue  # undeleted since; the normal search has it
            try:
                case = self.to_case(item, None)
            except (KeyError, TypeError, ValueError):
                continue
            if self.settings.queues and case.queue not in self.settings.queues:
                continue
            cases.append(case)
        return cases

    # -- mapping -------------------------------------------------------------------------------------------

    def priority(self, value: Any) -> str:
        """RT's numeric priority on the normalized scale, by the configured thresholds."""
        if isinstance(value, str) and value.strip().lower() in PRIORITY_NAMES:
            return PRIORITY_NAMES[value.strip().lower()]
        number = int(str(value).strip() or "0")
        s = self.settings
        if s.priority_urgent_from is not None and number >= s.priority_urgent_from:
            return "urgent"
        if number >= s.priority_high_from:
            return "high"
        if number >= s.priority_normal_from:
            return "normal"
        return "low"

    def to_case(self, item: dict[str, Any], history: dict[str, Any] | None) -> Case:
        """One REST2 ticket as a Case. Raises KeyError/TypeError/ValueError for a record that cannot be used."""
        ticket_id = str(item["id"])
        if not ticket_id.isdigit():
            raise ValueError(f"id is not a number: {ticket_id!r}")
        raw_status = str(item["Status"])
        status = self._statuses.get(raw_status)
        if status is None:
            raise ValueError(f"unknown status {raw_status!r}; map it with status_map")
        created = parse_time(item["Created"])
        if created is None:
            raise ValueError("no Created date")
        queue = _name(item["Queue"])
        if not queue:
            raise ValueError("no queue")
        owner = _name(item.get("Owner"))
        requestors = item.get("Requestor") or []
        if not isinstance(requestors, list):
            raise TypeError("Requestor is not a list")
        requestor_names = {_name(r) for r in requestors if isinstance(r, dict)}
        customer = None
        for person in requestors:
            if isinstance(person, dict):
                customer = person.get("EmailAddress") or _name(person)
                if customer:
                    break
        resolved = parse_time(item.get("Resolved"))
        # RT keeps Resolved when a ticket is reopened; it is a solve time only while the ticket is inactive.
        solved_at = resolved if status in ("solved", "closed") else None
        first_reply = None
        agent_replies = reopens = None
        if history is not None:
            events = sorted(history["events"], key=lambda e: e[0] or 0.0)
            replies = [e[0] for e in events if e[1] == "Correspond" and _is_staff(e[2], requestor_names)]
            first_reply = replies[0] if replies else None
            agent_replies = len(replies)
            reopens = sum(
                1
                for _, kind, _creator, old, new in events
                if kind == "Status"
                and self._statuses.get(str(old)) in INACTIVE
                and self._statuses.get(str(new)) not in INACTIVE
            )
        if first_reply is None:
            first_reply = parse_time(item.get("Told"))
        return Case(
            source=self.name,
            id=ticket_id,
            queue=clean(queue, 200),
            status=status,
            priority=self.priority(item.get("Priority", 0)),
            created_at=created,
            channel=None,
            subject=clean(str(item.get("Subject") or ""), 500) or None,
            customer=clean(customer, 200) if customer else None,
            assignee=None if owner in (None, "", "Nobody") else clean(owner, 200),
            first_reply_at=first_reply,
            solved_at=solved_at,
            updated_at=parse_time(item.get("LastUpdated")),
            agent_replies=agent_replies,
            reopens=reopens,
        )

    def check(self) -> str:
        body = self._get("/tickets", {"query": " AND ".join([*self._scope(), "id > 0"]), "per_page": 1}, "ticket")
        total = body.get("total")
        return f"REST2 answers; {total if total is not None else 'some'} tickets match"


def _items(body: dict[str, Any], path: str) -> list[Any]:
    items = body.get("items")
    if not isinstance(items, list):
        raise SourceError(f"unexpected answer from {path}: no items list")
    return items


def _has_more(body: dict[str, Any], count: int) -> bool:
    """Another page follows: RT named one, or this page is full (totals are null for non-superusers)."""
    per_page = body.get("per_page")
    full = isinstance(per_page, int | float) and per_page > 0 and count >= per_page
    return count > 0 and (bool(body.get("next_page")) or full)


def _int_id(item: Any) -> int:
    try:
        return int(item.get("id"))
    except (AttributeError, TypeError, ValueError):
        return 0


def _name(value: Any) -> str | None:
    """A user or queue reference's name: its Name when expanded, else its id (a user's id is its name)."""
    if isinstance(value, dict):
        name = value.get("Name") or value.get("id")
        return None if name is None else str(name)
    if value is None:
        return None
    return str(value)


def _is_staff(creator: str, requestors: set[str | None]) -> bool:
    return bool(creator) and creator not in SYSTEM_USERS and creator not in requestors


ADAPTER = RequestTrackerAdapter
