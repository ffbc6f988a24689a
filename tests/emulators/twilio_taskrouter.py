"""A Twilio TaskRouter emulator, following ../shared/reference/helpdesk-apis.md §7 and metrics.md §1.3.

Seeded tasks and workers (``TaskRouterData``, the ground truth tests read) are served through the documented
statistics, Tasks and Workers resources, with HTTP basic auth (Account SID + auth token; anything else gets
Twilio's 20003 body), ``meta.next_page_url`` paging, X-Rate-Limit headers and 429 (20429) when a per-second budget
runs out. Statistics are aggregated from the tasks for each request's StartDate/EndDate and SplitByWaitTime; a wait
of exactly a threshold counts as "below" it. UNCONFIRMED facts can be served either way: ``age_unit`` ("s" or
"ms") for ``longest_task_waiting_age``, ISO-8601 or RFC 2822 dates (workers alternate), Retry-After on 429 or not.
"""

from __future__ import annotations

import base64
import email.utils
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from tests.emulators.server import Request, Response

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "tw-auth-token-456"
WORKSPACE_SID = "WS" + "a" * 32
HOST = "https://taskrouter.twilio.com"
UNAUTHORIZED = {
    "code": 20003,
    "detail": "Your AccountSid or AuthToken was incorrect.",
    "message": "Authentication Error - invalid username",
    "more_info": "https://www.twilio.com/docs/errors/20003",
    "status": 401,
}
TOO_MANY = {"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429",
            "status": 429}  # fmt: skip
ACTIVITIES = {"Available": True, "Busy": False, "Wrap Up": False, "Lunch Break": False, "Offline": False}
LIVE = ("pending", "reserved", "assigned", "wrapping")


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc2822(seconds: float) -> str:
    return email.utils.format_datetime(datetime.fromtimestamp(seconds, tz=UTC), usegmt=True)


@dataclass
class Task:
    sid: str
    queue_sid: str
    channel: str
    created: float
    entered: float
    status: str  # pending, reserved, assigned, wrapping, completed, canceled
    accepted_at: float | None = None
    canceled_at: float | None = None


@dataclass
class TaskRouterData:
    """The ground truth: queues (sid → name), tasks, workers (with the queues they are eligible for)."""

    now: float
    queues: dict[str, str]
    tasks: list[Task]
    workers: list[dict[str, Any]]


def _sid(prefix: str, number: int) -> str:
    return f"{prefix}{number:032x}"


def generate(seed: int, now: float, *, tasks_per_queue: int = 40, workers: int = 11) -> TaskRouterData:
    """Tasks from yesterday evening to now across three queues; every time a whole second."""
    rng = random.Random(seed)
    queues = {_sid("WQ", 1): "Sales", _sid("WQ", 2): "Support", _sid("WQ", 3): "Billing"}
    midnight = now - now % 86400
    tasks: list[Task] = []
    number = 0
    for queue_sid in queues:
        for index in range(tasks_per_queue):
            number += 1
            created = float(int(rng.uniform(midnight - 4 * 3600, now - 900)))
            entered = created + rng.choice([0, 0, 2, 10])  # some tasks pass a workflow step first
            task = Task(_sid("WT", number), queue_sid, rng.choice(["voice", "chat"]), created, entered, "completed")
            if index % 5 == 4:
                task.status = "canceled"
                task.canceled_at = entered + rng.choice([2, 5, 6, 15, 20, 30, 120])
            else:
                task.accepted_at = entered + rng.choice([0, 3, 5, 8, 19, 20, 21, 45, 90])
            tasks.append(task)
        for index in range(rng.randint(1, 4)):  # live tasks
            number += 1
            status = ["pending", "reserved", "assigned", "wrapping"][index % 4]
            entered = float(int(now - rng.randint(5, 400)))
            task = Task(_sid("WT", number), queue_sid, "voice", entered - 3, entered, status)
            if status in ("assigned", "wrapping"):
                task.accepted_at = entered + 4
            tasks.append(task)
    worker_rows = []
    names = list(ACTIVITIES)
    for index in range(workers):
        activity = names[index % len(names)]
        changed = float(int(now - rng.randint(30, 7200)))
        eligible = [q for q in queues if rng.random() < 0.7] or [next(iter(queues))]
        worker_rows.append(
            {
                "sid": _sid("WK", index + 1),
                "friendly_name": f"Worker {index + 1}",
                "activity_name": activity,
                "activity_sid": _sid("WA", names.index(activity) + 1),
                "available": ACTIVITIES[activity],
                "date_status_changed": iso(changed) if index % 2 == 0 else rfc2822(changed),
                "date_created": iso(now - 86400 * 30),
                "date_updated": iso(changed),
                "workspace_sid": WORKSPACE_SID,
                "_changed": changed,
                "_queues": eligible,
            }
        )
    return TaskRouterData(now, queues, tasks, worker_rows)


def _parse_date(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class TaskRouterEmulator:
    """The request handler; pass it to EmulatorServer."""

    data: TaskRouterData
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    workspace_sid: str = WORKSPACE_SID
    clock: Callable[[], float] = time.time
    #: Unit of longest_task_waiting_age / longest_relative_task_age_in_queue (UNCONFIRMED: "s" or "ms").
    age_unit: str = "s"
    #: Name the longest-waiting task in real-time statistics (its SID), or leave it out.
    name_longest_task: bool = True
    #: Requests per second (None: unlimited) and whether a 429 carries Retry-After.
    rate_limit: int | None = None
    retry_after_header: bool = True
    #: Send X-Rate-Limit-* headers on answers (False: a client cannot pace itself and meets the 429s).
    rate_headers: bool = True
    expired: bool = False
    retry_after_served: list[int] = field(default_factory=list)
    _hits: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_credentials(self) -> None:
        self.expired = True

    def __call__(self, request: Request) -> Response:
        if not self._authorized(request):
            return Response(401, UNAUTHORIZED, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        limited = self._limit()
        if limited is not None:
            return limited
        response = self._route(request)
        if self.rate_limit is not None and self.rate_headers:
            response.headers["X-Rate-Limit-Limit"] = str(self.rate_limit)
            response.headers["X-Rate-Limit-Remaining"] = str(self._remaining())
            response.headers["X-Rate-Limit-Config"] = "TaskRouter"
        return response

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if self.expired or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return decoded == f"{self.account_sid}:{self.auth_token}"

    def _remaining(self) -> int:
        now = self.clock()
        self._hits = [t for t in self._hits if now - t < 1.0]
        return max(0, (self.rate_limit or 0) - len(self._hits))

    def _limit(self) -> Response | None:
        if self.rate_limit is None:
            return None
        with self._lock:
            if self._remaining() <= 0:
                headers = {"X-Rate-Limit-Limit": str(self.rate_limit), "X-Rate-Limit-Remaining": "0"}
                if self.retry_after_header:
                    headers["Retry-After"] = "1"
                    self.retry_after_served.append(1)
                return Response(429, TOO_MANY, headers)
            self._hits.append(self.clock())
        return None

    def _not_found(self, path: str) -> Response:
        return Response(
            404,
            {"code": 20404, "message": f"The requested resource {path} was not found",
             "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404},
        )  # fmt: skip

    def _route(self, request: Request) -> Response:
        base = f"/v1/Workspaces/{self.workspace_sid}"
        path = request.path
        if not path.startswith(base):
            return self._not_found(path)
        rest = path[len(base) :]
        if rest == "/TaskQueues":
            rows = [self._queue(sid, name) for sid, name in self.data.queues.items()]
            return self._page(request, path, "task_queues", rows)
        if rest == "/Workers":
            rows = [{k: v for k, v in w.items() if not k.startswith("_")} for w in self.data.workers]
            return self._page(request, path, "workers", rows)
        if rest == "/RealTimeStatistics":
            return Response(200, self._realtime(None, request))
        if rest == "/CumulativeStatistics":
            return self._cumulative(None, request)
        match = re.fullmatch(r"/TaskQueues/(WQ\w+)/(RealTimeStatistics|CumulativeStatistics)", rest)
        if match and match.group(1) in self.data.queues:
            if match.group(2) == "RealTimeStatistics":
                return Response(200, self._realtime(match.group(1), request))
            return self._cumulative(match.group(1), request)
        match = re.fullmatch(r"/Tasks/(WT\w+)", rest)
        if match:
            task = next((t for t in self.data.tasks if t.sid == match.group(1)), None)
            if task is not None:
                return Response(200, self._task(task))
        return self._not_found(path)

    def _queue(self, sid: str, name: str) -> dict[str, Any]:
        return {"sid": sid, "friendly_name": name, "workspace_sid": self.workspace_sid,
                "date_created": rfc2822(self.data.now - 86400 * 60), "target_workers": "1==1"}  # fmt: skip

    def _page(self, request: Request, path: str, key: str, rows: list[dict[str, Any]]) -> Response:
        size = int(request.arg("PageSize") or 50)
        number = int(request.arg("Page") or 0)
        page = rows[number * size : (number + 1) * size]
        more = (number + 1) * size < len(rows)
        url = f"{HOST}{path}?PageSize={size}&Page={{}}"
        meta = {
            "page": number,
            "page_size": size,
            "first_page_url": url.format(0),
            "previous_page_url": url.format(number - 1) if number else None,
            "url": url.format(number),
            "next_page_url": url.format(number + 1) + f"&PageToken={quote('PA' + rows[-1]['sid'])}" if more else None,
            "key": key,
        }
        return Response(200, {key: page, "meta": meta})

    def _task(self, task: Task) -> dict[str, Any]:
        now = self.clock()
        return {
            "sid": task.sid,
            "account_sid": self.account_sid,
            "workspace_sid": self.workspace_sid,
            "task_queue_sid": task.queue_sid,
            "task_channel_unique_name": task.channel,
            "assignment_status": task.status,
            "age": int(now - task.created),
            "date_created": iso(task.created),
            "task_queue_entered_date": iso(task.entered),
            "priority": 0,
        }

    def _live(self, queue_sid: str | None) -> list[Task]:
        return [t for t in self.data.tasks if t.status in LIVE and queue_sid in (None, t.queue_sid)]

    def _realtime(self, queue_sid: str | None, request: Request) -> dict[str, Any]:
        now = self.clock()
        channel = request.arg("TaskChannel")
        live = [t for t in self._live(queue_sid) if channel in (None, t.channel)]
        waiting = [t for t in live if t.status in ("pending", "reserved")]
        scale = 1000 if self.age_unit == "ms" else 1
        eligible = [w for w in self.data.workers if queue_sid is None or queue_sid in w["_queues"]]
        by_status = {s: sum(t.status == s for t in live) for s in LIVE}
        body: dict[str, Any] = {
            "account_sid": self.account_sid,
            "workspace_sid": self.workspace_sid,
            "tasks_by_status": by_status,
            "tasks_by_priority": {"0": str(len(live))},
            "total_tasks": len(live),
            "activity_statistics": [
                {
                    "friendly_name": name,
                    "sid": _sid("WA", index + 1),
                    "workers": sum(w["activity_name"] == name for w in eligible),
                }
                for index, name in enumerate(ACTIVITIES)
            ],
            "longest_task_waiting_age": 0,
            "longest_task_waiting_sid": None,
        }
        if waiting:
            oldest = min(waiting, key=lambda t: t.created)
            body["longest_task_waiting_age"] = int((now - oldest.created) * scale)
            body["longest_task_waiting_sid"] = oldest.sid if self.name_longest_task else None
        if queue_sid is None:
            body["total_workers"] = len(self.data.workers)
            return body
        body["task_queue_sid"] = queue_sid
        body["total_available_workers"] = sum(w["available"] for w in eligible)
        body["total_eligible_workers"] = len(eligible)
        body["longest_relative_task_age_in_queue"] = 0
        body["longest_relative_task_sid_in_queue"] = None
        if waiting:
            oldest = min(waiting, key=lambda t: t.entered)
            body["longest_relative_task_age_in_queue"] = int((now - oldest.entered) * scale)
            body["longest_relative_task_sid_in_queue"] = oldest.sid if self.name_longest_task else None
        return body

    def _cumulative(self, queue_sid: str | None, request: Request) -> Response:
        start = _parse_date(request.arg("StartDate"))
        end = _parse_date(request.arg("EndDate"))
        if request.arg("Minutes") is not None and (start is not None or end is not None):
            return Response(400, {"code": 20001, "message": "Minutes cannot be combined with StartDate/EndDate",
                                  "status": 400})  # fmt: skip
        now = self.clock()
        if end is None:
            end = now
        if start is None:
            start = end - 60 * int(request.arg("Minutes") or 15)
        channel = request.arg("TaskChannel")
        tasks = [t for t in self.data.tasks if queue_sid in (None, t.queue_sid) and channel in (None, t.channel)]
        mark = "entered" if queue_sid else "created"
        entered = [t for t in tasks if start <= getattr(t, mark) < end]
        accepted = [t for t in tasks if t.accepted_at is not None and start <= t.accepted_at < end]
        canceled = [t for t in tasks if t.canceled_at is not None and start <= t.canceled_at < end]
        waits = [t.accepted_at - t.entered for t in accepted]  # type: ignore[operator]
        from_creation = [t.accepted_at - t.created for t in accepted]  # type: ignore[operator]
        cancel_waits = [t.canceled_at - t.entered for t in canceled]  # type: ignore[operator]
        split: dict[str, Any] = {}
        for text in filter(None, (request.arg("SplitByWaitTime") or "").split(",")):
            threshold = int(text)
            split[str(threshold)] = {
                "below": {"reservations_accepted": sum(w <= threshold for w in waits),
                          "tasks_canceled": sum(w <= threshold for w in cancel_waits)},
                "above": {"reservations_accepted": sum(w > threshold for w in waits),
                          "tasks_canceled": sum(w > threshold for w in cancel_waits)},
            }  # fmt: skip

        def spread(values: list[float]) -> dict[str, float]:
            if not values:
                return {"avg": 0, "min": 0, "max": 0, "total": 0}
            return {"avg": round(sum(values) / len(values)), "min": min(values), "max": max(values),
                    "total": sum(values)}  # fmt: skip

        body: dict[str, Any] = {
            "account_sid": self.account_sid,
            "workspace_sid": self.workspace_sid,
            "start_time": iso(start),
            "end_time": iso(end),
            "avg_task_acceptance_time": round(sum(from_creation) / len(from_creation)) if from_creation else 0,
            "reservations_created": len(accepted) + len(canceled),
            "reservations_accepted": len(accepted),
            "reservations_rejected": 0,
            "reservations_timed_out": 0,
            "reservations_canceled": 0,
            "reservations_rescinded": 0,
            "split_by_wait_time": split or None,
            "wait_duration_until_accepted": spread(from_creation),
            "wait_duration_until_canceled": spread(cancel_waits),
            "tasks_canceled": len(canceled),
            "tasks_completed": sum(t.status == "completed" and start <= (t.accepted_at or 0) < end for t in tasks),
            "tasks_deleted": 0,
            "tasks_moved": 0,
        }
        if queue_sid is None:
            body["tasks_created"] = len(entered)
            body["tasks_timed_out_in_workflow"] = 0
        else:
            body["task_queue_sid"] = queue_sid
            body["tasks_entered"] = len(entered)
            body["wait_duration_in_queue_until_accepted"] = spread(waits)
        return Response(200, body)
