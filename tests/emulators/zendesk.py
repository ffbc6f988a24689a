"""A Zendesk Support + Talk emulator, following ../shared/reference/helpdesk-apis.md §1 and §2.

It serves seeded data (``ZendeskData``, the ground truth tests read) at the documented paths, with the documented
auth (API token basic ``{email}/token:{token}`` or OAuth bearer; anything else gets Zendesk's 401 body), pagination
(cursor export with after_cursor/end_of_stream, cursor-paged CSAT, offset pages with next_page, time-based Talk
calls), X-Rate-Limit headers and 429 + Retry-After when a per-minute budget runs out. Where the reference marks a
fact UNCONFIRMED, switches let a test serve either reading.
"""

from __future__ import annotations

import base64
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.emulators.server import Request, Response

UNAUTHORIZED = {"error": "Couldn't authenticate you"}
EXPORT_LIMITED = {
    "error": "APIRateLimitExceeded",
    "description": "Number of allowed incremental export API requests per minute exceeded",
}


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _token(kind: str, index: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{index}".encode()).decode()


def _index(token: str | None, kind: str) -> int | None:
    if not token:
        return None
    try:
        name, number = base64.urlsafe_b64decode(token.encode()).decode().split(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return int(number) if name == kind else None


@dataclass
class ZendeskData:
    """The ground truth: exactly what the emulator serves. Tickets are the latest version of each."""

    now: float
    groups: dict[int, str]
    stream: list[dict[str, Any]]  # ticket versions in export order (an update appends a new version)
    metrics: dict[int, dict[str, Any]]
    ratings: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    queue_activity: dict[str, Any]
    account_overview: dict[str, Any]

    @property
    def tickets(self) -> dict[int, dict[str, Any]]:
        latest: dict[int, dict[str, Any]] = {}
        for version in self.stream:
            latest[version["id"]] = version
        return latest


def generate(seed: int, now: float, *, tickets: int = 45, calls: int = 40, agents: int = 9) -> ZendeskData:
    """Seeded data in the shapes of the reference's field tables. Every time is a whole second before ``now - 120``."""
    rng = random.Random(seed)
    groups = {101: "Billing", 102: "Technical"}
    statuses = ["new", "open", "pending", "hold", "solved", "closed", "deleted"]
    channels: list[Any] = ["email", "web", "api", "voice", "chat", "native_messaging", "sms", "carrier_pigeon", 4, 0]
    stream: list[dict[str, Any]] = []
    metrics: dict[int, dict[str, Any]] = {}
    for number in range(tickets):
        ident = 1000 + number
        created = int(now - rng.randint(600, 4 * 86400))
        status = statuses[number % len(statuses)] if number < 14 else rng.choice(statuses[:6])
        replied = status != "new" and rng.random() < 0.85
        reply_min = min(rng.randint(1, 600), int(now - 200 - created) // 60) if replied else None
        solved_at = None
        if status in ("solved", "closed"):
            solved_at = min(int(now - 200), created + rng.randint(300, 2 * 86400))
        updated = max(created + 60, solved_at or 0, created + (reply_min or 0) * 60)
        updated = min(updated, int(now - 150))
        stream.append(
            {
                "id": ident,
                "subject": f"Ticket {ident}: printer \x1b[31mon fire\x1b[0m" if number == 3 else f"Ticket {ident}",
                "status": status,
                "priority": rng.choice(["low", "normal", "high", "urgent", None]),
                "type": "incident",
                "via": {"channel": channels[number % len(channels)], "source": {"from": {}, "to": {}, "rel": None}},
                "requester_id": 5000 + rng.randint(0, 20),
                "assignee_id": rng.choice([None, 7001, 7002, 7003]),
                "group_id": rng.choice([101, 102, None]),
                "created_at": iso(created),
                "updated_at": iso(updated),
                "generated_timestamp": updated,
            }
        )
        metrics[ident] = {
            "id": 90000 + ident,
            "ticket_id": ident,
            "created_at": iso(created),
            "updated_at": iso(updated),
            "reopens": rng.randint(0, 2),
            "replies": rng.randint(0, 5) if replied else 0,
            "solved_at": iso(solved_at) if solved_at else None,
            "reply_time_in_minutes": {"calendar": reply_min, "business": reply_min},
            "first_resolution_time_in_minutes": {"calendar": None, "business": None},
            "full_resolution_time_in_minutes": {
                "calendar": (solved_at - created) // 60 if solved_at else None,
                "business": None,
            },
        }
    stream.sort(key=lambda t: (t["generated_timestamp"], t["id"]))
    ratings = []
    for number, ticket in enumerate(t for t in stream if t["status"] in ("solved", "closed")):
        created = ticket["generated_timestamp"]
        ratings.append(
            {
                "id": 300 + number,
                "url": f"https://acme.zendesk.com/api/v2/satisfaction_ratings/{300 + number}.json",
                "ticket_id": ticket["id"],
                "assignee_id": ticket["assignee_id"],
                "group_id": ticket["group_id"],
                "requester_id": ticket["requester_id"],
                "score": ["good", "bad", "good", "offered", "good", "unoffered"][number % 6],
                "comment": "thanks" if number % 2 == 0 else None,
                "created_at": iso(created),
                "updated_at": iso(created + 30),
            }
        )
    ratings.sort(key=lambda r: (r["created_at"], r["id"]))
    call_rows = []
    start_of_day = now - (now % 86400)
    for number in range(calls):
        created = int(start_of_day + rng.randint(60, int(now - start_of_day) - 900))
        wait = rng.choice([0, 3, 8, 15, 20, 21, 35, 60, 90, 140])
        status = rng.choice(
            ["completed", "completed", "completed", "abandoned_in_queue", "Abandoned in Queue", "voicemail"]
        )
        talk = rng.randint(30, 600) if status == "completed" else 0
        call_rows.append(
            {
                "id": 800000 + number,
                "created_at": iso(created),
                "direction": "outbound" if number % 9 == 0 else "inbound",
                "agent_id": rng.choice([7001, 7002, 7003]) if status == "completed" else None,
                "customer_id": 5000 + rng.randint(0, 20),
                "completion_status": status,
                "wait_time": wait,
                "time_to_answer": wait if status == "completed" else None,
                "talk_time": talk,
                "hold_time": rng.randint(0, 30) if talk else 0,
                "wrap_up_time": rng.randint(5, 60) if talk else 0,
                "duration": wait + talk,
                "outside_business_hours": False,
                "exceeded_queue_wait_time": False,
                "overflowed": False,
                "voicemail": status == "voicemail",
                "ticket_id": None,
                "phone_number_id": 44,
                "updated_at": iso(created + wait + talk + 60),
            }
        )
    # Unique update times make the time-based export's pages unambiguous.
    call_rows.sort(key=lambda c: (c["updated_at"], c["id"]))
    seen: set[str] = set()
    for call in call_rows:
        while call["updated_at"] in seen:
            call["updated_at"] = iso(datetime.fromisoformat(call["updated_at"].replace("Z", "+00:00")).timestamp() + 1)
        seen.add(call["updated_at"])
    agent_rows = []
    shapes = [
        ("online", None),
        ("online", "on_call"),
        ("online", "wrap_up"),
        ("away", None),
        ("transfers_only", None),
        ("offline", None),
    ]
    for number in range(agents):
        agent_state, call_status = shapes[number % len(shapes)]
        row: dict[str, Any] = {"agent_id": 7001 + number, "name": f"Agent {number + 1}", "via": "client"}
        if number % 4 == 3:
            # The older payload (zenpy spec) carries status/status_code instead of agent_state/call_status.
            code = {"online": "available", "transfers_only": "transfers_only"}.get(agent_state, agent_state)
            code = call_status or code
            row.update({"status": code.replace("_", " ").title(), "status_code": code})
        else:
            row.update({"agent_state": agent_state, "call_status": call_status})
        row.update({"online_time": 3600, "calls_accepted": rng.randint(0, 10)})
        agent_rows.append(row)
    queue_activity = {
        "agents_online": sum(1 for a in agent_rows if (a.get("agent_state") or a.get("status_code")) != "offline"),
        "calls_waiting": rng.randint(0, 6),
        "callbacks_waiting": rng.randint(0, 2),
        "embeddable_callbacks_waiting": 0,
        "average_wait_time": rng.randint(10, 60),
        "longest_wait_time": rng.randint(60, 300),
        "ai_agent_calls": 0,
    }
    inbound = [c for c in call_rows if c["direction"] == "inbound"]
    abandoned = [c for c in inbound if c["completion_status"].lower().startswith("abandoned")]
    voicemails = [c for c in inbound if c["completion_status"] == "voicemail"]
    answered = [c for c in inbound if c["completion_status"] == "completed"]
    account_overview = {
        "total_calls": len(call_rows),
        "total_inbound_calls": len(inbound),
        "total_outbound_calls": len(call_rows) - len(inbound),
        "total_calls_abandoned_in_queue": len(abandoned),
        "total_voicemails": len(voicemails),
        "average_time_to_answer": (sum(c["wait_time"] for c in answered) / len(answered)) if answered else 0,
        "max_queue_wait_time": max(c["wait_time"] for c in inbound),
        "average_queue_wait_time": 30,
        "max_calls_waiting": 4,
    }
    return ZendeskData(now, groups, stream, metrics, ratings, call_rows, agent_rows, queue_activity, account_overview)


@dataclass
class ZendeskEmulator:
    """The request handler. Pass it to EmulatorServer; change switches between syncs to change what it serves."""

    data: ZendeskData
    email: str = "sup@example.com"
    api_token: str = "zd-api-token-123"
    oauth_token: str = "zd-oauth-abc"
    clock: Callable[[], float] = time.time
    page_size: int = 10
    calls_page_size: int = 7
    ratings_page_size: int = 4
    #: include=metric_sets honoured (True) or ignored (False: metrics only at /tickets/{id}/metrics).
    sideload_metrics: bool = True
    #: At the end of the export: "same" returns the cursor it was given with end_of_stream false, "back" returns the
    #: previous page's cursor (a cycle), None behaves.
    loop_mode: str | None = None
    #: The Talk calls export's last page: "self" (next_page repeats the page, zenpy #489) or "null".
    calls_last_page: str = "self"
    #: Requests per minute, and a separate budget for incremental exports (None: unlimited).
    rate_limit: int = 700
    export_rate_limit: int | None = None
    expired: bool = False
    #: Answer the CSAT endpoint with 403 (it is for admins only).
    ratings_forbidden: bool = False
    #: The Retry-After values this emulator's own rate limiter has answered with, in order.
    retry_after_served: list[int] = field(default_factory=list)
    _window: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_credentials(self) -> None:
        self.expired = True

    def update_ticket(self, ident: int, **changes: Any) -> None:
        """A change to a ticket: a new version appended to the export stream, as Zendesk does."""
        latest = dict(self.data.tickets[ident])
        latest.update(changes)
        stamp = max(int(self.clock() - 120), self.data.stream[-1]["generated_timestamp"] + 1)
        latest["updated_at"] = iso(stamp)
        latest["generated_timestamp"] = stamp
        self.data.stream.append(latest)

    # -- the handler -------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Response:
        if not self._authorized(request):
            return Response(401, UNAUTHORIZED, {"WWW-Authenticate": 'Basic realm="Web Password"'})
        path = re.sub(r"\.json$", "", request.path)
        limited = self._rate_limit(path)
        if limited is not None:
            return limited
        response = self._route(path, request)
        response.headers.setdefault("X-Rate-Limit", str(self.rate_limit))
        response.headers.setdefault("X-Rate-Limit-Remaining", str(self._remaining("all", self.rate_limit)))
        return response

    def _authorized(self, request: Request) -> bool:
        if self.expired:
            return False
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer "):
            return header[7:] == self.oauth_token
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:]).decode()
            except (ValueError, UnicodeDecodeError):
                return False
            return decoded == f"{self.email}/token:{self.api_token}"
        return False

    def _remaining(self, bucket: str, limit: int) -> int:
        now = self.clock()
        hits = [t for t in self._window.get(bucket, []) if now - t < 60]
        self._window[bucket] = hits
        return max(0, limit - len(hits))

    def _rate_limit(self, path: str) -> Response | None:
        with self._lock:
            now = self.clock()
            buckets = [("all", self.rate_limit, {"error": "APIRateLimitExceeded"})]
            if self.export_rate_limit is not None and "/incremental/" in path:
                buckets.append(("export", self.export_rate_limit, EXPORT_LIMITED))
            for bucket, limit, body in buckets:
                if self._remaining(bucket, limit) <= 0:
                    oldest = min(self._window[bucket])
                    retry = max(1, int(oldest + 60 - now + 0.999))
                    self.retry_after_served.append(retry)
                    return Response(
                        429,
                        body,
                        {"Retry-After": str(retry), "X-Rate-Limit": str(limit), "X-Rate-Limit-Remaining": "0"},
                    )
            for bucket, _, _ in buckets:
                self._window.setdefault(bucket, []).append(now)
        return None

    def _route(self, path: str, request: Request) -> Response:
        if path == "/api/v2/groups":
            groups = [{"id": k, "name": v} for k, v in self.data.groups.items()]
            return Response(200, {"groups": groups, "next_page": None, "previous_page": None, "count": len(groups)})
        if path == "/api/v2/incremental/tickets/cursor":
            return self._export(request)
        match = re.fullmatch(r"/api/v2/tickets/(\d+)/metrics", path)
        if match:
            metric = self.data.metrics.get(int(match.group(1)))
            if metric is None:
                return Response(404, {"error": "RecordNotFound", "description": "Not found"})
            return Response(200, {"ticket_metric": metric})
        if path == "/api/v2/satisfaction_ratings":
            if self.ratings_forbidden:
                return Response(403, {"error": "Forbidden", "description": "You do not have access to this page."})
            return self._ratings(request)
        if path == "/api/v2/channels/voice/stats/incremental/calls":
            return self._calls(request)
        if path == "/api/v2/channels/voice/stats/current_queue_activity":
            return Response(200, {"current_queue_activity": dict(self.data.queue_activity)})
        if path == "/api/v2/channels/voice/stats/agents_activity":
            return self._agents(request)
        if path == "/api/v2/channels/voice/stats/account_overview":
            return Response(200, {"account_overview": dict(self.data.account_overview)})
        return Response(404, {"error": "InvalidEndpoint", "description": "Not found"})

    def _export(self, request: Request) -> Response:
        stream = [t for t in self.data.stream if t["generated_timestamp"] < self.clock() - 60]
        cursor = request.arg("cursor")
        if cursor is not None:
            position = _index(cursor, "export")
            if position is None:
                return Response(400, {"error": "InvalidPaginationParameter", "description": "invalid cursor"})
        else:
            start = request.arg("start_time")
            if start is None or not start.isdigit():
                return Response(400, {"error": "InvalidValue", "description": "start_time or cursor required"})
            if int(start) > self.clock() - 60:
                return Response(
                    400, {"error": "InvalidValue", "description": "Too recent start_time. Use a start_time older"}
                )
            position = next((i for i, t in enumerate(stream) if t["generated_timestamp"] >= int(start)), len(stream))
        page = stream[position : position + self.page_size]
        after = position + len(page)
        end = after >= len(stream)
        after_cursor = _token("export", after)
        if end and self.loop_mode == "same" and cursor is not None:
            after_cursor, end = cursor, False
        elif end and self.loop_mode == "back" and cursor is not None and position >= self.page_size:
            after_cursor, end = _token("export", position - self.page_size), False
        body: dict[str, Any] = {
            "tickets": page,
            "after_url": f"https://acme.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor={after_cursor}",
            "after_cursor": after_cursor,
            "before_url": None,
            "before_cursor": None,
            "end_of_stream": end,
        }
        if self.sideload_metrics and "metric_sets" in (request.arg("include") or ""):
            body["metric_sets"] = [self.data.metrics[t["id"]] for t in page if t["id"] in self.data.metrics]
        return Response(200, body)

    def _ratings(self, request: Request) -> Response:
        start = int(request.arg("start_time") or 0)
        rows = [r for r in self.data.ratings if _epoch(r["created_at"]) >= start]
        size = min(int(request.arg("page[size]") or 100), 100)
        size = min(size, self.ratings_page_size)
        position = _index(request.arg("page[after]"), "ratings") or 0
        page = rows[position : position + size]
        more = position + size < len(rows)
        after = _token("ratings", position + size) if more else None
        return Response(
            200,
            {
                "satisfaction_ratings": page,
                "meta": {"has_more": more, "after_cursor": after, "before_cursor": None},
                "links": {
                    "next": f"https://acme.zendesk.com/api/v2/satisfaction_ratings.json?page[after]={after}"
                    if more
                    else None,
                    "prev": None,
                },
            },
        )

    def _calls(self, request: Request) -> Response:
        start = request.arg("start_time")
        if start is None or not start.isdigit():
            return Response(400, {"error": "InvalidValue", "description": "start_time required"})
        rows = [c for c in self.data.calls if _epoch(c["updated_at"]) >= int(start)]
        page = rows[: self.calls_page_size]
        base = "https://acme.zendesk.com/api/v2/channels/voice/stats/incremental/calls.json?start_time="
        if len(page) < self.calls_page_size:
            end_time = int(start) if not page else _epoch(page[-1]["updated_at"])
            next_page = f"{base}{start}" if self.calls_last_page == "self" else None
        else:
            end_time = _epoch(page[-1]["updated_at"])
            next_page = f"{base}{end_time}"
        return Response(200, {"calls": page, "next_page": next_page, "count": len(page), "end_time": end_time})

    def _agents(self, request: Request) -> Response:
        per_page = 4
        number = int(request.arg("page") or 1)
        rows = self.data.agents[(number - 1) * per_page : number * per_page]
        more = number * per_page < len(self.data.agents)
        base = "https://acme.zendesk.com/api/v2/channels/voice/stats/agents_activity.json?page="
        return Response(
            200,
            {
                "agents_activity": rows,
                "next_page": f"{base}{number + 1}" if more else None,
                "previous_page": f"{base}{number - 1}" if number > 1 else None,
                "count": len(self.data.agents),
            },
        )


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
