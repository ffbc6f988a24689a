"""A HubSpot CRM v3 tickets emulator (../shared/reference/helpdesk-apis.md §8), seeded with tickets tests know.

What it follows: ``Authorization: Bearer`` private-app tokens; ``POST /crm/v3/objects/tickets/search`` with
``filterGroups`` (AND inside a group, OR across groups; EQ/GT/GTE/LT/LTE), one sort, ``limit`` up to 200, ``after``
paging with ``paging.next.after``, and the 10,000-result cap (``search_cap``): a page past it is a 400, although
``paging.next`` is still offered at the edge; ``GET /crm/v3/pipelines/tickets`` with ``metadata.ticketState``;
HubSpot's error bodies and rate-limit headers.

Readings left open (UNCONFIRMED) are switches: ``reply_fields`` = "dates" serves ``first_agent_reply_date`` and
``closed_date``, "durations" serves only ``time_to_first_agent_reply``/``time_to_close`` (ms after creation); filter
values are accepted as epoch milliseconds or ISO-8601 either way.
"""

from __future__ import annotations

import operator
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shiftboard.model import parse_time
from tests.emulators.server import Request, Response

NOW = 1_780_000_000.0
DAY = 86400.0

PIPELINES = [
    {
        "id": "0",
        "label": "Support Pipeline",
        "displayOrder": 0,
        "stages": [
            {"id": "1", "label": "New", "displayOrder": 0, "metadata": {"ticketState": "OPEN"}},
            {"id": "2", "label": "Waiting on contact", "displayOrder": 1, "metadata": {"ticketState": "OPEN"}},
            {"id": "3", "label": "Waiting on us", "displayOrder": 2, "metadata": {"ticketState": "OPEN"}},
            {"id": "4", "label": "Closed", "displayOrder": 3, "metadata": {"ticketState": "CLOSED"}},
        ],
    },
    {
        "id": "77",
        "label": "Billing",
        "displayOrder": 1,
        "stages": [
            {"id": "101", "label": "Inbox", "displayOrder": 0, "metadata": {"ticketState": "OPEN"}},
            {"id": "102", "label": "In progress", "displayOrder": 1, "metadata": {"isClosed": "false"}},
            {"id": "103", "label": "Done", "displayOrder": 2, "metadata": {"isClosed": "true"}},
        ],
    },
]


def iso_ms(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class HubSpotEmulator:
    token: str = "pat-na1-0000-1111"
    now: float = NOW
    tickets: list[dict[str, Any]] = field(default_factory=list)
    pipelines: list[dict[str, Any]] = field(default_factory=lambda: [dict(p) for p in PIPELINES])
    search_cap: int = 10_000
    reply_fields: str = "dates"
    searches: int = 0
    #: Searches refused for paging past the cap.
    refusals: int = 0

    def seed(self, count: int = 100, seed: int = 8, same_time: int = 0) -> HubSpotEmulator:
        """``count`` tickets over 20 days; the last ``same_time`` of them share one ``hs_lastmodifieddate``."""
        rnd = random.Random(seed)
        shared = self.now - 2 * DAY + 0.123
        for number in range(1, count + 1):
            pipeline = rnd.choice(["0", "0", "77"])
            stage = rnd.choice([s["id"] for p in self.pipelines if p["id"] == pipeline for s in p["stages"]])
            closed = stage in ("4", "103")
            created = round(self.now - rnd.uniform(3 * DAY, 20 * DAY), 3)
            modified = round(created + rnd.uniform(0, 2 * DAY), 3)
            if number > count - same_time:
                modified = shared
            replied = created + round(rnd.uniform(60, 20000), 3) if (closed or rnd.random() < 0.6) else None
            self.tickets.append(
                {
                    "id": str(5000 + number * 7),  # ids not in modification order
                    "subject": f"Ticket {number}",
                    "hs_pipeline": pipeline,
                    "hs_pipeline_stage": stage,
                    "hs_ticket_priority": rnd.choice(["LOW", "MEDIUM", "HIGH", "URGENT", None]),
                    "source_type": rnd.choice(["EMAIL", "CHAT", "PHONE", "FORM", None]),
                    "hubspot_owner_id": rnd.choice([None, "5511", "5512"]),
                    "created": created,
                    "modified": modified,
                    "first_reply": min(replied, modified) if replied else None,
                    "closed": modified if closed else None,
                }
            )
        return self

    # -- HTTP ----------------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(
                401,
                {
                    "status": "error",
                    "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
                    "category": "INVALID_AUTHENTICATION",
                },
            )
        headers = {
            "X-HubSpot-RateLimit-Max": "190",
            "X-HubSpot-RateLimit-Remaining": "180",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        }
        if request.method == "GET" and request.path == "/crm/v3/pipelines/tickets":
            return Response(200, {"results": self.pipelines}, headers)
        if request.method == "POST" and request.path == "/crm/v3/objects/tickets/search":
            self.searches += 1
            return self._search(request.json(), headers)
        return Response(404, {"status": "error", "message": "Not found", "category": "OBJECT_NOT_FOUND"}, headers)

    def _search(self, body: dict[str, Any], headers: dict[str, str]) -> Response:
        limit = int(body.get("limit", 10))
        if limit > 200:
            return _invalid("limit must be at most 200", headers)
        sorts = body.get("sorts") or []
        if len(sorts) > 1:
            return _invalid("only one sort is supported", headers)
        offset = int(body.get("after") or 0)
        if offset >= self.search_cap:
            self.refusals += 1
            return _invalid(f"Cannot page beyond {self.search_cap} results", headers)
        groups = body.get("filterGroups") or []
        compiled = [_compile(g.get("filters", [])) for g in groups]
        rows = [t for t in self.tickets if not compiled or any(_matches(t, c) for c in compiled)]
        if sorts:
            key = sorts[0]["propertyName"]
            rows.sort(
                key=lambda t: (_value(t, key) or 0, int(t["id"])), reverse=sorts[0].get("direction") == "DESCENDING"
            )
        chunk = rows[offset : min(offset + limit, self.search_cap)]
        answer: dict[str, Any] = {
            "total": len(rows),
            "results": [self._public(t, body.get("properties")) for t in chunk],
        }
        if offset + limit < len(rows):
            answer["paging"] = {"next": {"after": str(offset + limit), "link": "?after=" + str(offset + limit)}}
        return Response(200, answer, headers)

    def _public(self, ticket: dict[str, Any], wanted: list[str] | None) -> dict[str, Any]:
        if "raw" in ticket:  # a deliberately malformed record
            return ticket["raw"]
        props: dict[str, Any] = {
            "hs_object_id": ticket["id"],
            "subject": ticket["subject"],
            "hs_pipeline": ticket["hs_pipeline"],
            "hs_pipeline_stage": ticket["hs_pipeline_stage"],
            "hs_ticket_priority": ticket["hs_ticket_priority"],
            "source_type": ticket["source_type"],
            "hubspot_owner_id": ticket["hubspot_owner_id"],
            "createdate": iso_ms(ticket["created"]),
            "hs_lastmodifieddate": iso_ms(ticket["modified"]),
        }
        if self.reply_fields == "dates":
            props["first_agent_reply_date"] = iso_ms(ticket["first_reply"]) if ticket["first_reply"] else None
            props["closed_date"] = iso_ms(ticket["closed"]) if ticket["closed"] else None
        else:
            props["time_to_first_agent_reply"] = (
                str(round((ticket["first_reply"] - ticket["created"]) * 1000)) if ticket["first_reply"] else None
            )
            props["time_to_close"] = (
                str(round((ticket["closed"] - ticket["created"]) * 1000)) if ticket["closed"] else None
            )
        if wanted:
            props = {k: v for k, v in props.items() if k in wanted or k == "hs_object_id"}
        return {
            "id": ticket["id"],
            "properties": props,
            "createdAt": iso_ms(ticket["created"]),
            "updatedAt": iso_ms(ticket["modified"]),
            "archived": False,
        }


def _value(ticket: dict[str, Any], name: str) -> float | None:
    if name == "hs_lastmodifieddate":
        return round(ticket["modified"] * 1000) if "modified" in ticket else None
    if name == "createdate":
        return round(ticket["created"] * 1000) if "created" in ticket else None
    if name == "hs_object_id":
        return int(ticket["id"])
    return None


def _number(value: Any) -> float:
    """A filter value: epoch milliseconds, or an ISO-8601 time (turned into milliseconds)."""
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return round((parse_time(text) or 0.0) * 1000)


_OPERATORS = {
    "EQ": operator.eq,
    "GT": operator.gt,
    "GTE": operator.ge,
    "LT": operator.lt,
    "LTE": operator.le,
}


def _compile(filters: list[dict[str, Any]]) -> list[tuple[str, Any, float]]:
    """Each filter as (property, comparison, value), parsed once per request rather than once per ticket."""
    return [(f["propertyName"], _OPERATORS[f.get("operator", "EQ")], _number(f.get("value"))) for f in filters]


def _matches(ticket: dict[str, Any], filters: list[tuple[str, Any, float]]) -> bool:
    for name, compare, want in filters:
        have = _value(ticket, name)
        if have is None or not compare(have, want):
            return False
    return True


def _invalid(message: str, headers: dict[str, str]) -> Response:
    return Response(400, {"status": "error", "message": message, "category": "VALIDATION_ERROR"}, headers)
