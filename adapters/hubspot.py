"""HubSpot tickets (CRM v3 search): the backlog by pipeline stage.

Contract: ../shared/reference/helpdesk-apis.md §8. A private-app token is sent as ``Authorization: Bearer``.
Tickets are read with ``POST /crm/v3/objects/tickets/search``, filtered on ``hs_lastmodifieddate`` and sorted by it
ascending, paging with ``after``. Stage ids are resolved through ``GET /crm/v3/pipelines/tickets``.

Two limits shape the sync. A search query yields at most 10,000 results (paging further is a 400), so before the
cap the query restarts from the newest modification time read. And many tickets can share one
``hs_lastmodifieddate`` (a bulk import or workflow touches thousands in the same millisecond): when a whole capped
query is one timestamp, restarting at that time would loop. So at the cap the adapter reads the newest timestamp
seen with a "ties" query for exactly that time, sorted and sliced by ``hs_object_id``, then moves one millisecond past
it and goes on with a range query. Every restart moves
the (time, id) position strictly forward, so the sync neither loops nor skips.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from shiftboard.adapters.base import AdapterContext, Cursor, FetchResult, HttpSourceSettings, SourceError
from shiftboard.adapters.http import HttpAdapter, Pacer
from shiftboard.model import Batch, Case, parse_time
from shiftboard.text import clean

NormalStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed", "deleted"]
NormalPriority = Literal["low", "normal", "high", "urgent"]

SEARCH = "/crm/v3/objects/tickets/search"
PIPELINES = "/crm/v3/pipelines/tickets"
#: The ticket properties read. ``first_agent_reply_date`` and ``closed_date`` are the names public integrations use;
#: HubSpot's own reference lists them by label only (UNCONFIRMED), so the durations ``time_to_first_agent_reply``
#: and ``time_to_close`` (milliseconds after creation) are read too, as a fallback.
PROPERTIES = (
    "subject",
    "hs_pipeline",
    "hs_pipeline_stage",
    "hs_ticket_priority",
    "source_type",
    "hubspot_owner_id",
    "createdate",
    "hs_lastmodifieddate",
    "closed_date",
    "first_agent_reply_date",
    "time_to_close",
    "time_to_first_agent_reply",
    "hs_object_id",
)
CHANNELS = {"EMAIL": "email", "CHAT": "chat", "PHONE": "voice", "FORM": "web", "SOCIAL": "social", "API": "api"}


def _default_priorities() -> dict[str, NormalPriority]:
    # URGENT exists only in some portals (UNCONFIRMED); mapping it costs nothing where it is absent.
    return {"LOW": "low", "MEDIUM": "normal", "HIGH": "high", "URGENT": "urgent"}


class HubSpotSettings(HttpSourceSettings):
    """A HubSpot portal. ``url`` is ``https://api.hubapi.com``; ``token_env`` names a private-app token."""

    page_size: int = Field(200, ge=1, le=200, description="Tickets per search page (HubSpot allows at most 200).")
    search_cap: int = Field(10_000, ge=1, description="Results one search query may page through (HubSpot: 10,000).")
    initial_days: float = Field(30.0, gt=0, description="How far back (by last modification) the first sync reads.")
    searches_per_second: float = Field(4.0, gt=0, description="Pace of search calls (HubSpot allows 5 a second).")
    stage_map: dict[str, dict[str, NormalStatus]] = Field(
        default_factory=dict, description="Pipeline id → {stage id → normalized status}; overrides the defaults."
    )
    pending_labels: list[str] = Field(
        default_factory=lambda: ["waiting on contact", "waiting on customer"],
        description="Open stages whose label contains one of these (case-insensitive) count as pending.",
    )
    priority_map: dict[str, NormalPriority] = Field(
        default_factory=_default_priorities, description="hs_ticket_priority value → normalized priority."
    )


class HubSpotAdapter(HttpAdapter):
    """Reads the tickets of one HubSpot portal."""

    kind = "hubspot"
    Settings = HubSpotSettings
    settings: HubSpotSettings

    def __init__(self, settings: HubSpotSettings, context: AdapterContext | None = None) -> None:
        super().__init__(settings, context)
        self._pacer = Pacer(
            settings.searches_per_second * 60, self.context, burst=max(1, int(settings.searches_per_second))
        )
        #: pipeline id → (label, {stage id → normalized status})
        self._pipelines: dict[str, tuple[str, dict[str, str]]] | None = None

    def credentials(self) -> dict[str, Any]:
        return {"headers": {"Authorization": f"Bearer {self.secret('private app token')}"}}

    # -- the sync ------------------------------------------------------------------------------------------

    def fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        state = dict(cursor or {})
        if "since" not in state:
            state["since"] = _ms(at - self.settings.initial_days * 86400)
        if self._pipelines is None or not state.get("after"):
            self._pipelines = self._read_pipelines()  # at the start of each query: stages may have changed
        ties = state.get("mode") == "ties"
        body = self._query(state, ties)
        self._pacer.wait()
        try:
            answer = self.client.post_json(SEARCH, body)
        except SourceError as error:
            if state.get("after") and str(error).startswith("400"):
                # A cap lower than search_cap: treat the refusal as the cap and restart past what was read.
                return FetchResult(Batch(), self._restart(state, ties), True)
            raise
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            raise SourceError("tickets search: the answer has no results list")
        batch = Batch()
        for row in answer["results"]:
            case = self._case(row, batch)
            if case is None:
                continue
            batch.cases.append(case)
            modified = _ms(case.updated_at) if case.updated_at is not None else None
            if modified is not None:
                state["max"] = max(modified, state.get("max", modified))
            state["max_id"] = max(int(case.id), state.get("max_id", 0))
        state["read"] = state.get("read", 0) + len(answer["results"])
        following = ((answer.get("paging") or {}).get("next") or {}).get("after")
        if following and state["read"] + self.settings.page_size <= self.settings.search_cap:
            state["after"] = str(following)
            return FetchResult(batch, state, True)
        if following:
            return FetchResult(batch, self._restart(state, ties), True)
        return FetchResult(batch, self._finish(state, ties), ties)

    def _query(self, state: Cursor, ties: bool) -> dict[str, Any]:
        since = int(state["since"])
        if ties:
            filters = [
                {"propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": str(since)},
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(state.get("after_id", 0))},
            ]
            sort = "hs_object_id"
        else:
            # Date values go as epoch milliseconds, as public connectors send them (HubSpot's wording: UNCONFIRMED).
            filters = [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(since)}]
            sort = "hs_lastmodifieddate"
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": list(PROPERTIES),
            "limit": self.settings.page_size,
        }
        if state.get("after"):
            body["after"] = state["after"]
        return body

    def _restart(self, state: Cursor, ties: bool) -> Cursor:
        """The query reached the result cap: start a new query at the newest position read.

        After a range query, the newest timestamp read is sliced by id (a ties query) rather than re-queried as a
        range: the order of tickets sharing a timestamp is not part of the contract, so only an id-sorted query can
        say which of them were read, and a timestamp with more tickets than the cap would otherwise stall the range.
        """
        fresh = _fresh(state)
        if ties:
            fresh.update(mode="ties", after_id=state.get("max_id", state.get("after_id", 0)))
        else:
            fresh.update(since=max(int(state["since"]), state.get("max", 0)), mode="ties", after_id=0)
        return fresh

    def _finish(self, state: Cursor, ties: bool) -> Cursor:
        """The query ran out: after a ties query move past its timestamp; after a range query wait at the newest."""
        fresh = _fresh(state)
        if ties:
            fresh["since"] = int(state["since"]) + 1
        elif state.get("max") is not None:
            fresh["since"] = max(int(state["since"]), state["max"])
        return fresh

    # -- records -------------------------------------------------------------------------------------------

    def _case(self, row: Any, batch: Batch) -> Case | None:
        ident = row.get("id") if isinstance(row, dict) else None
        if not isinstance(ident, str) or not ident.isdigit():
            batch.skip(f"ticket {clean(ident, 40)}: no numeric id")
            return None
        props = row.get("properties") if isinstance(row.get("properties"), dict) else {}
        try:
            created = parse_time(props.get("createdate") or row.get("createdAt"))
            modified = parse_time(props.get("hs_lastmodifieddate") or row.get("updatedAt"))
            if created is None:
                raise ValueError("no createdate")
            first_reply = parse_time(props.get("first_agent_reply_date")) or _after(
                created, props.get("time_to_first_agent_reply")
            )
            closed = parse_time(props.get("closed_date")) or _after(created, props.get("time_to_close"))
        except ValueError as error:
            batch.skip(f"ticket {ident}: {error}")
            return None
        pipeline = str(props.get("hs_pipeline") or "0")
        queue, status = self._stage(pipeline, str(props.get("hs_pipeline_stage") or ""))
        priority_text = str(props.get("hs_ticket_priority") or "").upper()
        source_type = str(props.get("source_type") or "").upper()
        return Case(
            source=self.name,
            id=ident,
            queue=queue,
            status="deleted" if row.get("archived") is True else status,
            priority=self.settings.priority_map.get(priority_text, "normal"),
            created_at=created,
            channel=CHANNELS.get(source_type, "other") if source_type else None,
            subject=clean(props.get("subject"), 300) or None,
            assignee=clean(props.get("hubspot_owner_id"), 80) or None,
            first_reply_at=first_reply,
            solved_at=closed if status in ("solved", "closed") else None,
            updated_at=modified,
        )

    def _stage(self, pipeline: str, stage: str) -> tuple[str, str]:
        """The queue (pipeline label) and normalized status of a stage id; an unknown stage counts as open."""
        pipelines = self._pipelines or {}
        if pipeline not in pipelines or stage not in pipelines[pipeline][1]:
            pipelines = self._pipelines = self._read_pipelines()  # a stage added since the last read
        label, stages = pipelines.get(pipeline, (pipeline, {}))
        override = self.settings.stage_map.get(pipeline, {})
        return label, override.get(stage) or stages.get(stage, "open")

    def _read_pipelines(self) -> dict[str, tuple[str, dict[str, str]]]:
        answer = self.client.get_json(PIPELINES)
        result: dict[str, tuple[str, dict[str, str]]] = {}
        for pipeline in answer.get("results", []) if isinstance(answer, dict) else []:
            if not isinstance(pipeline, dict) or pipeline.get("id") is None:
                continue
            stages = [s for s in pipeline.get("stages") or [] if isinstance(s, dict) and s.get("id") is not None]
            open_stages = [s for s in stages if not _is_closed(s)]
            first_open = min(open_stages, key=lambda s: s.get("displayOrder", 0), default=None)
            statuses: dict[str, str] = {}
            for stage in stages:
                label = str(stage.get("label") or "").lower()
                if _is_closed(stage):
                    statuses[str(stage["id"])] = "closed"  # HubSpot has no solved/closed split
                elif stage is first_open:
                    statuses[str(stage["id"])] = "new"
                elif any(words.lower() in label for words in self.settings.pending_labels):
                    statuses[str(stage["id"])] = "pending"
                else:
                    statuses[str(stage["id"])] = "open"
            result[str(pipeline["id"])] = (clean(pipeline.get("label") or pipeline["id"], 80), statuses)
        return result

    def check(self) -> str:
        pipelines = self._read_pipelines()
        return f"reachable, {len(pipelines)} ticket pipelines"


def _is_closed(stage: dict[str, Any]) -> bool:
    metadata = stage.get("metadata") if isinstance(stage.get("metadata"), dict) else {}
    if metadata.get("ticketState"):
        return str(metadata["ticketState"]).upper() == "CLOSED"
    return str(metadata.get("isClosed", "")).lower() == "true"


def _fresh(state: Cursor) -> Cursor:
    return {"since": state["since"], "mode": "range"}


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _after(created: float, duration_ms: object) -> float | None:
    """``created`` plus a duration in milliseconds (HubSpot sends numbers as strings), None when absent."""
    if duration_ms in (None, ""):
        return None
    try:
        return created + float(duration_ms) / 1000  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"duration {clean(duration_ms, 20)!r} is not a number") from None


ADAPTER = HubSpotAdapter
