"""A LiveAgent API v3 emulator (../shared/reference/helpdesk-apis.md §4), seeded with tickets, agents and calls.

What it follows: the ``apikey`` header; bare JSON arrays; ``_page``/``_perPage``, ``_sortField``/``_sortDir`` and
``_filters`` (``[[column, operator, value]]``) on ``/api/v3/tickets``; ``_perPage``/``_cursor``/``_filters`` on
``/api/v3/calls``; ``/api/v3/agents`` and ``/api/v3/agents/activity``; 180 requests a minute per key, counted on a
clock the test supplies (so paced requests in fake time are judged in fake time), answered 429 with Retry-After.

Readings left open (UNCONFIRMED) are switches: ``filters`` = "honoured" | "ignored" | "rejected" (400) for the
tickets date filter; ``dates`` = "naive" (``YYYY-MM-DD HH:MM:SS`` in ``zone``) | "offset" (ISO with offset) |
"epoch"; ``call_cursor`` = True sends ``Next-Page-Cursor``, False offers no cursor at all.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.emulators.server import Request, Response

NOW = 1_780_000_000.0
DAY = 86400.0
LIMIT_PER_MINUTE = 180


@dataclass
class LiveAgentEmulator:
    api_key: str = "la-key-abcdef"
    now: float = NOW
    tickets: list[dict[str, Any]] = field(default_factory=list)
    agents: list[dict[str, Any]] = field(default_factory=list)
    activity: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    filters: str = "honoured"
    dates: str = "naive"
    zone: str = "UTC"
    call_cursor: bool = True
    clock: Callable[[], float] = time.time
    rate_limited: int = 0
    _recent: deque[float] = field(default_factory=deque)

    def seed(self, count: int = 80, calls: int = 60, seed: int = 4) -> LiveAgentEmulator:
        rnd = random.Random(seed)
        for number in range(1, count + 1):
            created = float(int(self.now - rnd.uniform(0, 20 * DAY)))
            changed = float(int(min(self.now - 1, created + rnd.uniform(0, 2 * DAY))))
            status = rnd.choice("INCTPAWRLXB")
            self.tickets.append(
                {
                    "id": f"t{number:04d}",
                    "code": f"ABC-{number}",
                    "owner_email": f"c{number % 13}@example.com",
                    "departmentid": rnd.choice(["sales", "support"]),
                    "agentid": rnd.choice(["", "ag1", "ag2"]),
                    "status": status,
                    "channel_type": rnd.choice("EBMICWFATQS"),
                    "subject": f"Ticket {number}",
                    "created": created,
                    "changed": changed,
                    "resolved": changed if status in "RL" else None,
                }
            )
        for number in range(1, calls + 1):
            offered = float(int(self.now - rnd.uniform(0, 5 * DAY)))
            kind = rnd.choice("IIIIOT")
            outcome = rnd.random()
            answered = offered + rnd.randint(3, 90) if outcome < 0.7 else None
            finished = (answered or offered) + rnd.randint(5, 600) if outcome < 0.95 else None
            self.calls.append(
                {
                    "id": f"c{number:04d}",
                    "ticket_id": f"t{rnd.randint(1, count):04d}",
                    "type": kind,
                    "from_number": f"+4930{number:05d}",
                    "to_number": "+4930999",
                    "created": offered,
                    "answered": answered,
                    "finished": finished,
                }
            )
        for ident, online, busy in (("ag1", "N", False), ("ag2", "N", True), ("ag3", "P", False), ("ag4", "F", False)):
            self.agents.append({"id": ident, "name": f"Agent {ident}", "online_status": online, "status": "A"})
            self.activity.append({"id": ident, "agent_status": "B" if busy else "A", "active_tickets": []})
        self.agents.append({"id": "ag9", "name": "Gone", "online_status": "F", "status": "X"})
        return self

    # -- the wire format -----------------------------------------------------------------------------------

    def render(self, seconds: float | None) -> Any:
        if seconds is None:
            return None
        if self.dates == "epoch":
            return int(seconds)
        moment = datetime.fromtimestamp(seconds, tz=ZoneInfo(self.zone))
        if self.dates == "offset":
            return moment.isoformat()
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def parse(self, text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(self.zone)).timestamp()

    def ticket_json(self, t: dict[str, Any]) -> dict[str, Any]:
        if "raw" in t:
            return t["raw"]
        public = {k: v for k, v in t.items() if k not in ("created", "changed", "resolved")}
        return {
            **public,
            "date_created": self.render(t["created"]),
            "date_changed": self.render(t["changed"]),
            "date_resolved": self.render(t["resolved"]),
        }

    def call_json(self, c: dict[str, Any]) -> dict[str, Any]:
        if "raw" in c:
            return c["raw"]
        public = {k: v for k, v in c.items() if k not in ("created", "answered", "finished")}
        return {
            **public,
            "date_created": self.render(c["created"]),
            "date_answered": self.render(c["answered"]),
            "date_finished": self.render(c["finished"]),
        }

    # -- HTTP ----------------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        if request.headers.get("apikey") != self.api_key:
            return Response(401, {"message": "Authentication failed: invalid API key"})
        now = self.clock()
        while self._recent and self._recent[0] <= now - 60:
            self._recent.popleft()
        if len(self._recent) >= LIMIT_PER_MINUTE:
            self.rate_limited += 1
            wait = max(1, int(self._recent[0] + 60 - now + 0.999))
            return Response(429, {"message": "Too many requests"}, {"Retry-After": str(wait)})
        self._recent.append(now)
        per_page = int(request.arg("_perPage", "10") or 10)
        page = int(request.arg("_page", "1") or 1)
        if request.path == "/api/v3/tickets":
            rows = self._tickets(request)
            if isinstance(rows, Response):
                return rows
            return Response(200, [self.ticket_json(t) for t in rows[(page - 1) * per_page : page * per_page]])
        if request.path == "/api/v3/agents":
            return Response(200, self.agents[(page - 1) * per_page : page * per_page])
        if request.path == "/api/v3/agents/activity":
            return Response(200, self.activity[(page - 1) * per_page : page * per_page])
        if request.path == "/api/v3/calls":
            return self._calls(request, per_page)
        return Response(404, {"message": "Not found"})

    def _since(self, request: Request, column: str) -> float | None:
        text = request.arg("_filters")
        if not text:
            return None
        for name, operator, value in json.loads(text):
            if name == column and operator == "D>=":
                return self.parse(value)
        return None

    def _tickets(self, request: Request) -> list[dict[str, Any]] | Response:
        rows = list(self.tickets)
        if request.arg("_filters"):
            if self.filters == "rejected":
                return Response(400, {"message": "Unsupported filter on date_changed"})
            since = self._since(request, "date_changed")
            if self.filters == "honoured" and since is not None:
                rows = [t for t in rows if t.get("changed", 0) >= since]
        if request.arg("_sortField") == "date_changed":
            rows.sort(key=lambda t: (t.get("changed", 0), t["id"]), reverse=request.arg("_sortDir") == "DESC")
        return rows

    def _calls(self, request: Request, per_page: int) -> Response:
        rows = sorted(self.calls, key=lambda c: (c.get("created", 0), c["id"]))
        since = self._since(request, "date_created")
        if since is not None:
            rows = [c for c in rows if c.get("created", 0) >= since]
        start = int(request.arg("_cursor") or 0) if self.call_cursor else 0
        chunk = rows[start : start + per_page]
        headers = {}
        if self.call_cursor and start + per_page < len(rows):
            headers["Next-Page-Cursor"] = str(start + per_page)
        return Response(200, [self.call_json(c) for c in chunk], headers)
