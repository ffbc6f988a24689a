"""A small Request Tracker 5 REST2 emulator, following the contract observed on a real RT 5.0.3
(../shared/reference/request-tracker.md §3): token auth, TicketSQL searches with keyset-friendly ``id >`` and
relative ``LastUpdated >= 'now - N seconds'`` clauses, per_page capped at 100, ``total``/``pages`` null and no
``next_page`` for a user who cannot see everything, dates as ``YYYY-MM-DDTHH:MM:SSZ`` with the 1970 epoch for unset,
400 with RT's own message for bad TicketSQL, and deleted tickets hidden from searches.

It understands only the TicketSQL shapes the adapter writes; anything else naming an unknown field is a 400.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.emulators.server import Request, Response

EPOCH = "1970-01-01T00:00:00Z"
KNOWN_FIELDS = {
    "id", "Queue", "Status", "LastUpdated", "ObjectType", "ObjectId", "Type", "Field", "NewValue", "Created",
    "TicketQueue", "Owner",
}  # fmt: skip


def iso(seconds: float | None) -> str:
    if not seconds:
        return EPOCH
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RTEmulator:
    """Seeded tickets and transactions behind RT's REST2 URLs. ``superuser=False`` gives null totals."""

    token: str = "1-14-secret"
    superuser: bool = True
    forbidden: bool = False
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    #: Ticket ids whose LastUpdated becomes "this second" whenever a search reads them (a change just before).
    touch_on_read: set[int] = field(default_factory=set)
    searches: list[str] = field(default_factory=list)

    def add_ticket(self, ticket_id: int, **fields: Any) -> dict[str, Any]:
        now = time.time()
        record = {
            "id": str(ticket_id),
            "type": "ticket",
            "Subject": f"ticket {ticket_id}",
            "Status": "new",
            "Priority": "50",
            "Queue": {"id": "1", "type": "queue", "Name": "General"},
            "Owner": {"id": "Nobody", "type": "user", "Name": "Nobody"},
            "Requestor": [{"id": "ann@example.com", "type": "user", "Name": "ann@example.com",
                           "EmailAddress": "ann@example.com"}],
            "Created": iso(now - 3600),
            "Started": EPOCH,
            "Told": EPOCH,
            "Resolved": EPOCH,
            "LastUpdated": iso(now - 30),
        }  # fmt: skip
        record.update(fields)
        self.tickets[ticket_id] = record
        return record

    def __call__(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"token {self.token}":
            return Response(401, {"message": "Unauthorized"})
        if self.forbidden:
            return Response(403, {"message": "Forbidden"})
        if request.path == "/REST/2.0/tickets":
            return self._search(request, list(self.tickets.values()), tickets=True)
        if request.path == "/REST/2.0/transactions":
            return self._search(request, self.transactions, tickets=False)
        match = re.fullmatch(r"/REST/2\.0/ticket/(\d+)", request.path)
        if match and int(match.group(1)) in self.tickets:
            record = dict(self.tickets[int(match.group(1))])
            record["id"] = int(record["id"])  # an int here, a string in searches (as RT does)
            return Response(200, record)
        return Response(404, {"message": "Not Found"})

    def _search(self, request: Request, records: list[dict[str, Any]], *, tickets: bool) -> Response:
        query = request.arg("query", "") or ""
        self.searches.append(query)
        for name in re.findall(r"\b([A-Za-z]+)\s*(?:=|!=|>=|<=|>|<)", query):
            if name not in KNOWN_FIELDS:
                return Response(
                    400, {"message": f"Unknown field: {name} at /usr/share/rt/lib/RT/Tickets.pm line 3187.\n"}
                )
        if query.count("'") % 2:
            return Response(400, {"message": "Wrong query, expecting a VALUE in 'Queue = '"})
        now = time.time()
        if tickets:
            for ticket_id in self.touch_on_read:
                self.tickets[ticket_id]["LastUpdated"] = iso(math.floor(now))
        selected = [r for r in records if self._matches(r, query, now, tickets)]
        selected.sort(key=lambda r: int(r["id"]))
        per_page = min(100, max(1, int(request.arg("per_page", "20") or 20)))
        page = max(1, int(request.arg("page", "1") or 1))
        items = selected[(page - 1) * per_page : page * per_page]
        total = len(selected) if self.superuser else None
        body: dict[str, Any] = {
            "count": len(items),
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": (math.ceil(total / per_page) if total else 0.0) if total is not None else None,
            "items": items,
        }
        if total is not None and page < math.ceil(total / per_page):
            body["next_page"] = f"http://127.0.0.1/REST/2.0/tickets?page={page + 1}"
        return Response(200, body)

    @staticmethod
    def _matches(record: dict[str, Any], query: str, now: float, tickets: bool) -> bool:
        if tickets and record.get("Status") == "deleted":
            return False  # RT never returns deleted tickets from a search
        for bound in re.findall(r"id > (\d+)", query):
            if int(record["id"]) <= int(bound):
                return False
        relative = re.search(r"(LastUpdated|Created) >= 'now - (\d+) seconds'", query)
        if relative and relative.group(1) in record:
            moment = datetime.fromisoformat(record[relative.group(1)].replace("Z", "+00:00")).timestamp()
            if moment < now - int(relative.group(2)):
                return False
        if not tickets:
            ids = re.findall(r"ObjectId = (\d+)", query)
            if ids and record.get("ObjectId") not in ids:
                return False
            if "NewValue = 'deleted'" in query and record.get("NewValue") != "deleted":
                return False
            if "NewValue = 'deleted'" not in query and record.get("Type") not in ("Correspond", "Status"):
                return False
        return True
