"""A Groove GraphQL v2 emulator (../shared/reference/helpdesk-apis.md §5), seeded with conversations and ratings.

What it follows: ``POST /v2/graphql`` with ``Authorization: Bearer``; a ``conversations`` query with Relay paging
(``first``/``after``, ``pageInfo {hasNextPage endCursor}``, ``totalCount``); ``ConversationState`` values; concrete
conversation types in ``__typename``; ratings (``RatingEnum`` AWESOME/OK/BAD) inside ``changesets``; GraphQL errors
as ``{"errors": [...]}``. It answers the one query shape the adapter sends, reading its variables; it is not a
GraphQL engine.

Readings left open (UNCONFIRMED) are switches: ``order`` = True honours ``orderBy`` (UPDATED_AT DESC), False ignores
it and answers by conversation number; ``rating_shape`` = "changes" (ratings in ``changesets.nodes[].changes[]``)
or "rating" (a ``rating`` object directly on each changeset node).
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from typing import Any

from shiftboard.model import format_time
from tests.emulators.server import Request, Response

NOW = 1_780_000_000.0
DAY = 86400.0
TYPES = ["EmailConversation", "EmailConversation", "WidgetConversation", "FacebookConversation", "TwitterConversation"]


@dataclass
class GrooveEmulator:
    token: str = "groove-token-xyz"
    now: float = NOW
    conversations: list[dict[str, Any]] = field(default_factory=list)
    order: bool = True
    rating_shape: str = "changes"
    max_first: int = 100

    def seed(self, count: int = 90, seed: int = 5) -> GrooveEmulator:
        rnd = random.Random(seed)
        for number in range(1, count + 1):
            created = float(int(self.now - rnd.uniform(0, 25 * DAY)))
            updated = float(int(min(self.now - 1, created + rnd.uniform(0, 3 * DAY))))
            state = rnd.choice(["UNREAD", "OPENED", "OPENED", "SNOOZED", "CLOSED", "CLOSED", "SPAM", "DELETED"])
            grade = rnd.choice(["AWESOME", "OK", "BAD"]) if state == "CLOSED" and rnd.random() < 0.7 else None
            self.conversations.append(
                {
                    "id": f"cnv_{number}",
                    "number": number,
                    "__typename": rnd.choice(TYPES),
                    "state": state,
                    "subject": f"Conversation {number}",
                    "created": created,
                    "updated": updated,
                    "state_updated": updated if state == "CLOSED" else created,
                    "agent": rnd.choice([None, "ag_1", "ag_2"]),
                    "channel": rnd.choice([("ch_1", "Support"), ("ch_2", "Sales")]),
                    "grade": grade,
                }
            )
        return self

    def node(self, c: dict[str, Any]) -> dict[str, Any]:
        if "raw" in c:
            return c["raw"]
        changesets: list[dict[str, Any]] = [{"id": f"chs_{c['number']}_1", "changes": [{"__typename": "StateChanged"}]}]
        if c["grade"]:
            rating = {
                "__typename": "Rating",
                "id": f"rat_{c['number']}",
                "grade": c["grade"],
                "feedback": "fine",
                "createdAt": format_time(c["updated"]),
                "agent": {"id": c["agent"], "email": f"{c['agent']}@example.com"} if c["agent"] else None,
            }
            if self.rating_shape == "changes":
                changesets.append({"id": f"chs_{c['number']}_2", "changes": [rating]})
            else:
                changesets.append({"id": f"chs_{c['number']}_2", "rating": rating})
        return {
            "__typename": c["__typename"],
            "id": c["id"],
            "number": c["number"],
            "state": c["state"],
            "subject": c["subject"],
            "createdAt": format_time(c["created"]),
            "updatedAt": format_time(c["updated"]),
            "stateUpdatedAt": format_time(c["state_updated"]),
            "deletedAt": None,
            "assigned": {"agent": {"id": c["agent"], "email": f"{c['agent']}@example.com"}, "team": None}
            if c["agent"]
            else None,
            "channel": {"id": c["channel"][0], "name": c["channel"][1]},
            "customer": {"id": f"ct_{c['number'] % 7}", "email": f"customer{c['number'] % 7}@example.com"},
            "changesets": {"nodes": changesets},
        }

    def __call__(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(401, {"errors": [{"message": "Unauthorized: invalid or missing token"}]})
        if request.method != "POST" or request.path != "/v2/graphql":
            return Response(404, {"errors": [{"message": "Not found"}]})
        body = request.json() or {}
        if "conversations" not in str(body.get("query")):
            return Response(200, {"errors": [{"message": "Field 'unknown' doesn't exist"}]})
        variables = body.get("variables") or {}
        first = int(variables.get("first", 25))
        if first > self.max_first:
            return Response(200, {"errors": [{"message": f"first must be at most {self.max_first}"}]})
        rows = list(self.conversations)
        order = variables.get("orderBy") or {}
        if self.order and order.get("field") == "UPDATED_AT":
            rows.sort(key=lambda c: (c.get("updated", 0), c["id"]), reverse=order.get("direction") == "DESC")
        else:
            rows.sort(key=lambda c: c.get("number", 0))
        after = variables.get("after")
        start = int(base64.b64decode(after).decode()) if after else 0
        chunk = rows[start : start + first]
        end = start + len(chunk)
        page = {
            "nodes": [self.node(c) for c in chunk],
            "pageInfo": {
                "hasNextPage": end < len(rows),
                "hasPreviousPage": start > 0,
                "startCursor": base64.b64encode(str(start).encode()).decode(),
                "endCursor": base64.b64encode(str(end).encode()).decode(),
            },
            "totalCount": len(rows),
        }
        return Response(200, {"data": {"conversations": page}})
