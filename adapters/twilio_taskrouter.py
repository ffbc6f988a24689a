"""Twilio TaskRouter: per-queue (and optionally workspace) statistics and worker activity.

Contract: ../shared/reference/helpdesk-apis.md §7, metrics.md §1.3. A sync is two kinds of steps:

1. statistics: every TaskQueue (paged by ``meta.next_page_url``), its RealTimeStatistics and its
   CumulativeStatistics from the UTC midnight of ``at`` to ``at`` with ``SplitByWaitTime`` at the service-level and
   short-abandon thresholds → one QueueSnapshot per queue (real-time and cumulative fields together);
2. workers, one page per step → AgentState (activity name mapped to a normalized state, ``since`` = the worker's
   ``date_status_changed``).

TaskRouter gives aggregates, not one row per task, so figures for these queues come from the snapshots.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import Field, field_validator

from shiftboard.adapters.base import (
    AdapterContext,
    ConfigurationError,
    Cursor,
    FetchResult,
    HttpSourceSettings,
    SourceError,
)
from shiftboard.adapters.http import HttpAdapter
from shiftboard.model import AgentState, Batch, QueueSnapshot, format_time, parse_time

State = Literal["available", "busy", "wrap_up", "away", "offline"]

#: Activity names are tenant-defined; these are Twilio's defaults and common additions (case-insensitive).
DEFAULT_ACTIVITY_STATES: dict[str, State] = {
    "available": "available",
    "idle": "available",
    "ready": "available",
    "busy": "busy",
    "reserved": "busy",
    "on a task": "busy",
    "on call": "busy",
    "wrap up": "wrap_up",
    "wrap-up": "wrap_up",
    "wrapup": "wrap_up",
    "wrapping": "wrap_up",
    "break": "away",
    "lunch": "away",
    "away": "away",
    "meeting": "away",
    "training": "away",
    "unavailable": "away",
    "offline": "offline",
}


class TwilioTaskRouterSettings(HttpSourceSettings):
    """A TaskRouter workspace. Basic auth with the Account SID (or an API key SID) and its token, both from env."""

    url: str = Field("https://taskrouter.twilio.com", description="TaskRouter API base URL.")
    workspace_sid: str = Field(description="The Workspace SID (WS followed by 32 hex digits).")
    account_sid_env: str = Field(
        "TWILIO_ACCOUNT_SID", min_length=1, description="Environment variable with the Account SID or API key SID."
    )
    token_env: str | None = Field("TWILIO_AUTH_TOKEN", description="Environment variable with the auth token.")
    task_channel: str | None = Field(None, description="Only this TaskChannel (e.g. voice, chat); default all.")
    sl_threshold_s: int = Field(
        20, gt=0, description="Service-level threshold for SplitByWaitTime; match [metrics] service_level_threshold_s."
    )
    short_abandon_s: int = Field(5, gt=0, description="Short-abandon threshold; match [metrics] short_abandon_s.")
    reserved_is_waiting: bool = Field(
        True, description="Count reserved tasks (offered to a worker, not yet accepted) as waiting."
    )
    workspace_queue: str | None = Field(
        None, description="Also store workspace-wide statistics as a snapshot of a queue with this name."
    )
    activity_states: dict[str, State] = Field(
        default_factory=dict, description="Activity name → state; merged over the defaults (case-insensitive)."
    )
    page_size: int = Field(50, ge=1, le=1000, description="PageSize for TaskQueues and Workers lists.")
    rate_limit_reserve: int = Field(
        1, ge=0, description="Pause a second when X-Rate-Limit-Remaining falls to this many requests or fewer."
    )

    @field_validator("workspace_sid")
    @classmethod
    def _workspace_sid(cls, value: str) -> str:
        if not re.fullmatch(r"WS[0-9a-fA-F]{32}", value):
            raise ValueError(f"expected WS followed by 32 hex digits, got {value[:40]!r}")
        return value


class TwilioTaskRouterAdapter(HttpAdapter):
    """Twilio TaskRouter queues and workers."""

    kind = "twilio_taskrouter"
    Settings = TwilioTaskRouterSettings

    def __init__(self, settings: TwilioTaskRouterSettings, context: AdapterContext | None = None) -> None:  # type: ignore[override]
        super().__init__(settings, context)
        self.settings: TwilioTaskRouterSettings = settings
        self._states = {k.lower(): v for k, v in DEFAULT_ACTIVITY_STATES.items()}
        self._states.update({k.strip().lower(): v for k, v in settings.activity_states.items()})

    def credentials(self) -> dict[str, Any]:
        variable = self.settings.account_sid_env
        account = self.context.environ.get(variable, "").strip()
        if not account:
            raise ConfigurationError(f"account SID: environment variable {variable} is not set")
        return {"auth": (account, self.secret())}

    @property
    def _base(self) -> str:
        return f"/v1/Workspaces/{self.settings.workspace_sid}"

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.client.get_json(path, params=params)
        remaining = _header_int(self.client.last_headers, "X-Rate-Limit-Remaining")
        if remaining is not None and remaining <= self.settings.rate_limit_reserve:
            # TaskRouter limits are per second per endpoint: a one-second pause lets the budget refill.
            self.context.sleep(1.0)
        if not isinstance(body, dict):
            raise SourceError(f"unexpected answer from {path}: expected a JSON object")
        return body

    def _pages(self, path: str, key: str, params: dict[str, Any]) -> tuple[list[Any], dict[str, Any] | None]:
        """One page of a list and the query of the next page (None on the last)."""
        body = self._get(path, params)
        items = body.get(key)
        if not isinstance(items, list):
            meta_key = (body.get("meta") or {}).get("key")
            items = body.get(meta_key) if meta_key else None
        if not isinstance(items, list):
            raise SourceError(f"unexpected answer from {path}: no {key} list")
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        return items, _next_query(meta.get("next_page_url"), path, params)

    def check(self) -> str:
        """Prove the credentials and the workspace: list the first page of task queues."""
        queues, more = self._pages(f"{self._base}/TaskQueues", "task_queues", {"PageSize": self.settings.page_size})
        return f"reachable, workspace {self.settings.workspace_sid}: {len(queues)}{'+' if more else ''} task queues"

    # -- the sync ------------------------------------------------------------------------------------------

    def fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        """Statistics for every queue in one step, then one page of workers per step."""
        state = dict(cursor or {})
        batch = Batch()
        if state.get("phase") == "workers":
            params = state.get("page") or {"PageSize": self.settings.page_size}
            workers, next_params = self._pages(f"{self._base}/Workers", "workers", params)
            for worker in workers:
                record = self._agent_state(worker, at, batch)
                if record is not None:
                    batch.agent_states.append(record)
            if next_params is not None:
                return FetchResult(batch, {"phase": "workers", "page": next_params}, more=True)
            return FetchResult(batch, {"phase": "statistics"}, more=False)
        self._statistics(at, batch)
        return FetchResult(batch, {"phase": "workers"}, more=True)

    def _statistics(self, at: float, batch: Batch) -> None:
        queues: list[dict[str, Any]] = []
        params: dict[str, Any] | None = {"PageSize": self.settings.page_size}
        for _ in range(1000):
            items, params = self._pages(f"{self._base}/TaskQueues", "task_queues", params or {})
            queues.extend(q for q in items if isinstance(q, dict))
            if params is None:
                break
        channel = {"TaskChannel": self.settings.task_channel} if self.settings.task_channel else {}
        targets = [(q.get("friendly_name") or q.get("sid"), f"{self._base}/TaskQueues/{q.get('sid')}") for q in queues]
        if self.settings.workspace_queue:
            targets.append((self.settings.workspace_queue, self._base))
        for name, path in targets:
            if not name or path.endswith("/None"):
                batch.skip("task queue without sid or friendly_name")
                continue
            realtime = self._get(f"{path}/RealTimeStatistics", channel)
            snapshot = QueueSnapshot(source=self.name, queue=str(name), at=at)
            try:
                self._apply_realtime(snapshot, realtime, at)
                self._apply_cumulative(snapshot, path, at, channel)
            except (ValueError, TypeError, AttributeError) as error:
                batch.skip(f"queue {name}: malformed statistics ({error})")
                continue
            batch.queue_snapshots.append(snapshot)

    def _apply_realtime(self, snapshot: QueueSnapshot, body: dict[str, Any], at: float) -> None:
        by_status = body.get("tasks_by_status") if isinstance(body.get("tasks_by_status"), dict) else {}
        waiting = _count(by_status.get("pending"))
        if self.settings.reserved_is_waiting:
            waiting += _count(by_status.get("reserved"))
        snapshot.waiting = waiting
        snapshot.agents_available = _int_or_none(body.get("total_available_workers"))
        activities = body.get("activity_statistics")
        if isinstance(activities, list):
            snapshot.agents_online = sum(
                _count(a.get("workers"))
                for a in activities
                if isinstance(a, dict) and self._state_of(a.get("friendly_name"), None) != "offline"
            )
        if waiting == 0:
            return
        # The unit of longest_task_waiting_age is UNCONFIRMED (reference §7, §12.6: assumed seconds). Tolerant
        # reading: when the answer names the task, read its queue-entry time and measure the age ourselves; the
        # number itself, as seconds, only when no task is named or the task is already gone.
        sid = body.get("longest_relative_task_sid_in_queue") or body.get("longest_task_waiting_sid")
        age = self._task_age(sid, at) if sid else None
        if age is None:
            raw = body.get("longest_relative_task_age_in_queue")
            if raw is None:
                raw = body.get("longest_task_waiting_age")
            age = _float_or_none(raw)
        snapshot.longest_wait_s = age

    def _task_age(self, sid: str, at: float) -> float | None:
        if not re.fullmatch(r"WT[0-9a-fA-F]{32}", str(sid)):
            return None
        try:
            task = self._get(f"{self._base}/Tasks/{sid}")
        except SourceError as error:
            if str(error).startswith("404"):
                return None  # accepted or canceled since the statistics were taken
            raise
        entered = twilio_time(task.get("task_queue_entered_date")) or twilio_time(task.get("date_created"))
        return None if entered is None else max(0.0, at - entered)

    def _apply_cumulative(self, snapshot: QueueSnapshot, path: str, at: float, channel: dict[str, str]) -> None:
        start = at - at % 86400  # the UTC midnight of at's day
        if at - start < 1:
            return  # an empty window: nothing to count yet
        sl, short = self.settings.sl_threshold_s, self.settings.short_abandon_s
        params = {
            "StartDate": format_time(start),
            "EndDate": format_time(at),
            "SplitByWaitTime": ",".join(str(t) for t in sorted({sl, short})),
            **channel,
        }
        body = self._get(f"{path}/CumulativeStatistics", params)
        snapshot.window_start = start
        entered = body.get("tasks_entered")
        snapshot.offered = _int_or_none(entered if entered is not None else body.get("tasks_created"))
        snapshot.answered = _int_or_none(body.get("reservations_accepted"))
        snapshot.abandoned = _int_or_none(body.get("tasks_canceled"))
        split = body.get("split_by_wait_time") if isinstance(body.get("split_by_wait_time"), dict) else {}
        at_sl, at_short = _split(split, sl), _split(split, short)
        snapshot.sl_threshold_s = float(sl)
        snapshot.answered_within_sl = _int_or_none(at_sl.get("reservations_accepted")) if at_sl else None
        snapshot.abandoned_within_sl = _int_or_none(at_sl.get("tasks_canceled")) if at_sl else None
        snapshot.short_abandoned = _int_or_none(at_short.get("tasks_canceled")) if at_short else None
        # Queue-relative waits first (a transferred task's wait counts from entering this queue).
        for key in ("wait_duration_in_queue_until_accepted", "wait_duration_until_accepted"):
            durations = body.get(key)
            if isinstance(durations, dict) and durations.get("total") is not None:
                snapshot.wait_total_s = float(durations["total"])
                break
        else:
            average = _float_or_none(body.get("avg_task_acceptance_time"))
            if average is not None and snapshot.answered is not None:
                snapshot.wait_total_s = average * snapshot.answered

    def _state_of(self, activity: Any, available: Any) -> str:
        state = self._states.get(str(activity or "").strip().lower())
        if state is not None:
            return state
        return "available" if available is True else "away"

    def _agent_state(self, worker: Any, at: float, batch: Batch) -> AgentState | None:
        if not isinstance(worker, dict) or not worker.get("sid"):
            batch.skip("worker without sid")
            return None
        sid = str(worker["sid"])
        since = twilio_time(worker.get("date_status_changed")) or twilio_time(worker.get("date_updated"))
        if since is None:
            batch.skip(f"worker {sid}: no date_status_changed")
            return None
        return AgentState(
            source=self.name,
            agent=sid,
            state=self._state_of(worker.get("activity_name"), worker.get("available")),
            since=min(since, at),
            name=str(worker["friendly_name"]) if worker.get("friendly_name") else None,
        )


def twilio_time(value: Any) -> float | None:
    """A Twilio date: ISO-8601 (TaskRouter's documented form) or RFC 2822 (which some SDK docstrings name)."""
    if value is None or value == "":
        return None
    try:
        return parse_time(value)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # Twilio's dates are GMT
    return moment.timestamp()


def _split(split: dict[str, Any], threshold: int) -> dict[str, Any] | None:
    """The ``below`` counts for ``threshold`` (keys may be "20" or "20.0")."""
    for key, value in split.items():
        try:
            matches = float(key) == float(threshold)
        except ValueError:
            continue
        if matches and isinstance(value, dict) and isinstance(value.get("below"), dict):
            return value["below"]
    return None


def _next_query(next_url: Any, path: str, current: dict[str, Any] | None) -> dict[str, Any] | None:
    """The next page's query, asked of the configured host (the link's own host is not trusted with the token)."""
    if not next_url or not isinstance(next_url, str):
        return None
    parts = urlsplit(next_url)
    if parts.path and not parts.path.endswith(path.rsplit("/", 1)[-1]):
        return None
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    if current is not None and {k: str(v) for k, v in current.items()} == query:
        return None  # a page that names itself as next
    return query


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _count(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    return int(value)


def _float_or_none(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    return float(value)


ADAPTER = TwilioTaskRouterAdapter
