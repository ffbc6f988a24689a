"""A Freshdesk API v2 emulator (../shared/reference/helpdesk-apis.md §3), seeded with tickets whose figures tests know.

What it follows: basic auth with the API key as user name; ``/api/v2/tickets`` with ``updated_since``,
``order_by``/``order_type``, ``per_page`` (max 100), ``page`` and ``include=stats``; without ``updated_since`` only
tickets created in the past 30 days; a page cap (300 by default) answered with Freshdesk's 400; ``Link`` headers with
``rel="next"``; ``X-RateLimit-*`` headers; satisfaction ratings by ``created_since``; agents; groups.

Readings the reference leaves open (UNCONFIRMED) are switches: ``stats`` (whether ``include=stats`` is honoured),
``since_inclusive`` (whether ``updated_since`` includes its own second) and ``page_cap`` (None: no cap at all).
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from shiftboard.model import format_time, parse_time
from tests.emulators.server import Request, Response

NOW = 1_780_000_000.0  # the emulator's "now": 2026-05-28T20:26:40Z
DAY = 86400.0


def iso(seconds: float | None) -> str | None:
    return None if seconds is None else format_time(seconds)


@dataclass
class FreshdeskEmulator:
    api_key: str = "fd-key-0123456789"
    now: float = NOW
    tickets: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    agents: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(
        default_factory=lambda: [{"id": 11, "name": "Billing"}, {"id": 12, "name": "Tech"}]
    )
    page_cap: int | None = 300
    stats: bool = True
    since_inclusive: bool = True
    rate_limit_total: int = 200
    rate_limit_remaining: int = 200

    def seed(self, count: int = 120, seed: int = 6) -> FreshdeskEmulator:
        """``count`` tickets over the past 60 days, with ratings for some and four agents."""
        rnd = random.Random(seed)
        statuses = [2, 2, 2, 3, 3, 4, 4, 5, 6, 7]
        for number in range(1, count + 1):
            created = self.now - rnd.uniform(0, 60 * DAY)
            updated = min(self.now - 1, created + rnd.uniform(0, 3 * DAY))
            if number % 10 == 0:  # several tickets share one updated_at second
                updated = float(int(self.tickets[-1]["_updated"]))
            updated = float(int(updated))
            created = min(created, updated)
            status = rnd.choice(statuses)
            replied = status != 2 or rnd.random() < 0.5
            first = created + rnd.uniform(60, 7200) if replied else None
            first = min(first, updated) if first else None
            resolved = updated if status in (4, 5) else None
            self.tickets.append(
                {
                    "id": 1000 + number,
                    "subject": f"Ticket {number}",
                    "status": status,
                    "priority": rnd.choice([1, 2, 2, 3, 4]),
                    "source": rnd.choice([1, 2, 3, 7, 9, 10, 15, 99]),
                    "requester_id": 48000000 + rnd.randrange(50),
                    "responder_id": rnd.choice([None, 77, 78, 79]),
                    "group_id": rnd.choice([None, 11, 12]),
                    "spam": False,
                    "created_at": iso(float(int(created))),
                    "updated_at": iso(updated),
                    "_updated": updated,
                    "stats": {
                        "first_responded_at": iso(float(int(first))) if first else None,
                        "resolved_at": iso(resolved) if status == 4 else None,
                        "closed_at": iso(resolved) if status == 5 else None,
                        "pending_since": None,
                        "status_updated_at": iso(updated),
                    },
                }
            )
            if status in (4, 5) and rnd.random() < 0.6:
                answer = rnd.choice([103, 102, 101, 100, -101, -102, -103])
                self.ratings.append(
                    {
                        "id": 5000 + number,
                        "survey_id": 1,
                        "ticket_id": 1000 + number,
                        "agent_id": self.tickets[-1]["responder_id"],
                        "group_id": self.tickets[-1]["group_id"],
                        "feedback": "thanks" if answer > 0 else "slow",
                        "ratings": {"default_question": answer},
                        "created_at": iso(updated),
                        "updated_at": iso(updated),
                    }
                )
        for ident, available in ((77, True), (78, False), (79, True), (80, False)):
            self.agents.append(
                {
                    "id": ident,
                    "available": available,
                    "available_since": iso(self.now - ident * 60) if available else None,
                    "updated_at": iso(self.now - 3600),
                    "occasional": False,
                    "contact": {"name": f"Agent {ident}", "email": f"a{ident}@example.com"},
                }
            )
        return self

    # -- HTTP ----------------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{self.api_key}:X".encode()).decode()
        if request.headers.get("authorization") != expected:
            return Response(
                401, {"code": "invalid_credentials", "message": "You have to be logged in to perform this action."}
            )
        self.rate_limit_remaining = max(0, self.rate_limit_remaining - 1)
        headers = {
            "X-RateLimit-Total": str(self.rate_limit_total),
            "X-RateLimit-Remaining": str(self.rate_limit_remaining),
            "X-RateLimit-Used-CurrentRequest": "1",
        }
        per_page = int(request.arg("per_page", "30") or 30)
        page = int(request.arg("page", "1") or 1)
        if per_page > 100:
            return self._invalid("per_page", "It should be less than or equal to 100", headers)
        if request.path == "/api/v2/tickets":
            if self.page_cap is not None and page > self.page_cap:
                return self._invalid("page", "You cannot access tickets beyond the 300th page", headers)
            rows = self._tickets(request)
        elif request.path == "/api/v2/surveys/satisfaction_ratings":
            since = parse_time(request.arg("created_since")) or self.now - 30 * DAY
            rows = sorted(
                (r for r in self.ratings if (parse_time(r.get("created_at")) or 0) >= since), key=lambda r: str(r["id"])
            )
        elif request.path == "/api/v2/agents":
            rows = self.agents
        elif request.path == "/api/v2/groups":
            rows = self.groups
        else:
            return Response(404, {"code": "not_found", "message": "Resource not found"}, headers)
        chunk = rows[(page - 1) * per_page : page * per_page]
        if page * per_page < len(rows):
            query = {k: v[0] for k, v in request.query.items()}
            query["page"] = str(page + 1)
            headers["Link"] = f'<https://acme.freshdesk.com{request.path}?{urlencode(query)}>; rel="next"'
        return Response(200, [_public(r) for r in chunk], headers)

    def _tickets(self, request: Request) -> list[dict[str, Any]]:
        since_text = request.arg("updated_since")
        rows = [t for t in self.tickets if isinstance(t, dict)]
        if since_text:
            since = parse_time(since_text) or 0.0
            rows = [t for t in self.tickets if _updated(t) > since or (self.since_inclusive and _updated(t) == since)]
        else:  # Freshdesk's default window: tickets created in the past 30 days
            rows = [t for t in rows if (parse_time(t.get("created_at")) or 0) >= self.now - 30 * DAY]
        if request.arg("order_by") == "updated_at":
            rows.sort(key=lambda t: (_updated(t), str(t.get("id"))), reverse=request.arg("order_type") != "asc")
        else:
            rows.sort(key=lambda t: (str(t.get("created_at")), str(t.get("id"))), reverse=True)
        if request.arg("include") != "stats" or not self.stats:
            rows = [{k: v for k, v in t.items() if k != "stats"} for t in rows]
        return rows

    def _invalid(self, field_name: str, message: str, headers: dict[str, str]) -> Response:
        body = {
            "description": "Validation failed",
            "errors": [{"field": field_name, "message": message, "code": "invalid_value"}],
        }
        return Response(400, body, headers)


def _updated(ticket: dict[str, Any]) -> float:
    if "_updated" in ticket:
        return ticket["_updated"]
    try:
        return parse_time(ticket.get("updated_at")) or 0.0
    except ValueError:
        return 0.0


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}
