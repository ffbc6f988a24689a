"""The rows behind a figure: which contacts, cases, agents and ratings a number on the board counts.

Each function takes ``(store, queue, since, at, limit)`` — ``queue`` None means every queue — and returns plain rows
(dicts) whose keys, in order, are the columns to show. Every row carries ``source`` and its source's ``id`` (or
``agent``), which together key it. Times stay UTC epoch seconds and durations seconds (columns ending ``_at`` and
``_s``), so a table sorts them as numbers and formats them itself.

The rows follow the same definitions as shiftboard.metrics at the same ``at``: a contact answered after ``at`` was
still waiting at ``at``. Every query is bounded by an index range (the window, one day of waiting contacts, the
partial index of open cases, each agent's latest state) and by ``limit``, never by the size of history.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shiftboard.metrics import MAX_WAIT_S
from shiftboard.store import OPEN_SQL, Store

#: The most rows one drill-down returns (a table on screen holds at most this many).
MAX_ROWS = 10_000
#: A case is "at risk" when less than this fraction of its SLA target is left.
AT_RISK_FRACTION = 0.25


def _rows(store: Store, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in store.query(sql, dict(params))]


def _queue_clause(queue: str | None, column: str = "queue") -> str:
    return "" if queue is None else f" AND {column} = :queue"


def _limit(limit: int) -> int:
    return max(0, min(int(limit), MAX_ROWS))


def waiting_contacts(
    store: Store, queue: str | None, since: float, at: float, limit: int = MAX_ROWS
) -> list[dict[str, Any]]:
    """Contacts waiting at ``at`` (offered before ``at``, no outcome before it, waiting at most a day), longest first.

    ``since`` is not used: a contact waits whenever it was offered; it is accepted so every drill-down has one shape.
    """
    sql = f"""
        SELECT source, id, queue, channel, customer, offered_at, :at - offered_at AS wait_s
        FROM contacts INDEXED BY contacts_offered
        WHERE offered_at >= :horizon AND offered_at < :at AND blocked = 0
          AND (answered_at IS NULL OR answered_at >= :at)
          AND (abandoned_at IS NULL OR abandoned_at >= :at)
          AND (ended_at IS NULL OR ended_at >= :at){_queue_clause(queue)}
        ORDER BY offered_at LIMIT :limit"""
    return _rows(store, sql, {"at": at, "horizon": at - MAX_WAIT_S, "queue": queue, "limit": _limit(limit)})


def answered_contacts(
    store: Store, queue: str | None, since: float, at: float, limit: int = MAX_ROWS
) -> list[dict[str, Any]]:
    """Contacts offered in [since, at) and answered before ``at``, longest wait first (the rows behind SL and ASA)."""
    sql = f"""
        SELECT source, id, queue, channel, customer, agent, offered_at, answered_at,
               answered_at - offered_at AS wait_s,
               CASE WHEN ended_at < :at THEN ended_at - answered_at END AS talk_s, wrap_up_s
        FROM contacts INDEXED BY contacts_offered
        WHERE offered_at >= :since AND offered_at < :at AND blocked = 0 AND answered_at < :at{_queue_clause(queue)}
        ORDER BY wait_s DESC LIMIT :limit"""
    return _rows(store, sql, {"at": at, "since": since, "queue": queue, "limit": _limit(limit)})


def abandoned_contacts(
    store: Store, queue: str | None, since: float, at: float, limit: int = MAX_ROWS
) -> list[dict[str, Any]]:
    """Contacts offered in [since, at) that abandoned before ``at`` without being answered, latest first."""
    sql = f"""
        SELECT source, id, queue, channel, customer, offered_at, abandoned_at,
               abandoned_at - offered_at AS wait_s
        FROM contacts INDEXED BY contacts_offered
        WHERE offered_at >= :since AND offered_at < :at AND blocked = 0 AND abandoned_at < :at
          AND (answered_at IS NULL OR answered_at >= :at){_queue_clause(queue)}
        ORDER BY abandoned_at DESC LIMIT :limit"""
    return _rows(store, sql, {"at": at, "since": since, "queue": queue, "limit": _limit(limit)})


def blocked_contacts(
    store: Store, queue: str | None, since: float, at: float, limit: int = MAX_ROWS
) -> list[dict[str, Any]]:
    """Contacts refused entry (queue full) in [since, at), latest first."""
    sql = f"""
        SELECT source, id, queue, channel, customer, offered_at
        FROM contacts INDEXED BY contacts_offered
        WHERE offered_at >= :since AND offered_at < :at AND blocked = 1{_queue_clause(queue)}
        ORDER BY offered_at DESC LIMIT :limit"""
    return _rows(store, sql, {"at": at, "since": since, "queue": queue, "limit": _limit(limit)})


_CASE_COLUMNS = "source, id, queue, status, priority, subject, customer, assignee, created_at, first_reply_at"


def open_cases(store: Store, queue: str | None, since: float, at: float, limit: int = MAX_ROWS) -> list[dict[str, Any]]:
    """Cases open at ``at`` (the backlog), oldest first, with their age.

    Uses the partial index of open cases, so it reflects each case's current status: a case solved since ``at``
    no longer shows (the backlog count of a past moment is metrics' job).
    """
    # For one queue, cases_open (queue, created_at) holds its open cases oldest first. For every queue it would
    # hold them queue by queue, so all would be read and sorted before the first row; cases_open_cover is ordered
    # by created_at alone, so the oldest come straight off it and LIMIT stops early (0.5 ms instead of 8 ms for
    # the first 100 of 10,000).
    index = "cases_open_cover" if queue is None else "cases_open"
    sql = f"""
        SELECT {_CASE_COLUMNS}, :at - created_at AS age_s
        FROM cases INDEXED BY {index}
        WHERE status IN {OPEN_SQL} AND created_at < :at
          AND (solved_at IS NULL OR solved_at >= :at){_queue_clause(queue)}
        ORDER BY created_at LIMIT :limit"""
    return _rows(store, sql, {"at": at, "queue": queue, "limit": _limit(limit)})


def sla_cases(
    store: Store,
    queue: str | None,
    since: float,
    at: float,
    limit: int = MAX_ROWS,
    *,
    targets: Mapping[str, Any] | None = None,
    at_risk_s: float | None = None,
) -> list[dict[str, Any]]:
    """Open cases past or near an SLA target, most overdue first.

    ``targets`` maps a priority to an object with ``first_reply_min`` and ``resolution_min`` (config
    ``[metrics.sla]``). A case is "breached" once ``at`` is past created + target, "at risk" when the target is due
    within ``at_risk_s`` seconds (inclusive), or, when that is None, when less than AT_RISK_FRACTION of it is left.
    First reply counts until a reply exists; resolution until solved. Calendar time: business hours are not applied
    here. Bounded by the open-case index.
    """
    targets = targets or {}
    rows: list[dict[str, Any]] = []
    for case in open_cases(store, queue, since, at, MAX_ROWS):
        target = targets.get(case["priority"])
        if target is None:
            continue
        checks = []
        unanswered = case["first_reply_at"] is None or case["first_reply_at"] >= at
        if getattr(target, "first_reply_min", None) and unanswered:
            checks.append(("first reply", target.first_reply_min * 60.0))
        if getattr(target, "resolution_min", None):
            checks.append(("resolution", target.resolution_min * 60.0))
        worst: tuple[float, str, float, float] | None = None
        for name, seconds in checks:
            due_at = case["created_at"] + seconds
            left = due_at - at
            near = left <= (AT_RISK_FRACTION * seconds if at_risk_s is None else at_risk_s)
            if near and (worst is None or left < worst[0]):
                worst = (left, name, due_at, seconds)
        if worst is None:
            continue
        left, name, due_at, _ = worst
        rows.append(
            {
                "source": case["source"],
                "id": case["id"],
                "queue": case["queue"],
                "sla": "breached" if left <= 0 else "at risk",
                "target": name,
                "due_at": due_at,
                "overdue_s": -left,
                "priority": case["priority"],
                "status": case["status"],
                "subject": case["subject"],
                "assignee": case["assignee"],
                "created_at": case["created_at"],
            }
        )
    rows.sort(key=lambda r: -r["overdue_s"])
    return rows[: _limit(limit)]


def agents_in_state(
    store: Store, queue: str | None, since: float, at: float, limit: int = MAX_ROWS, *, state: str | None = None
) -> list[dict[str, Any]]:
    """Agents whose latest state before ``at`` is ``state`` (any state when None), longest in it first.

    An agent counts for a queue when the queue is in their queues, or when they list no queues (they take any),
    as in metrics.agent_figures.
    """
    sql = """
        SELECT a.source, a.agent, a.name, a.state, a.since, :at - a.since AS in_state_s, a.queues
        FROM agent_states a
        JOIN (SELECT source, agent, MAX(since) AS since FROM agent_states WHERE since < :at
              GROUP BY source, agent) latest
          ON a.source = latest.source AND a.agent = latest.agent AND a.since = latest.since
        WHERE (:state IS NULL OR a.state = :state)
        ORDER BY a.since"""
    rows = []
    for row in _rows(store, sql, {"at": at, "state": state}):
        queues = json.loads(row["queues"]) if row["queues"] else []
        if queue is not None and queues and queue not in queues:
            continue
        row["queues"] = ", ".join(queues)
        rows.append(row)
        if len(rows) >= _limit(limit):
            break
    return rows


def recent_ratings(
    store: Store, queue: str | None, since: float, at: float, limit: int = MAX_ROWS
) -> list[dict[str, Any]]:
    """Ratings given in [since, at), latest first."""
    sql = f"""
        SELECT source, id, kind, score, scale_min, scale_max, queue, agent, case_id, comment, rated_at
        FROM ratings INDEXED BY ratings_rated
        WHERE rated_at >= :since AND rated_at < :at{_queue_clause(queue)}
        ORDER BY rated_at DESC LIMIT :limit"""
    return _rows(store, sql, {"at": at, "since": since, "queue": queue, "limit": _limit(limit)})


#: The table behind each kind of row, for ``record``.
_RECORD_TABLES = {"contact": ("contacts", "id"), "case": ("cases", "id"), "rating": ("ratings", "id")}


def record(store: Store, kind: str, source: str, key: str, at: float | None = None) -> dict[str, Any] | None:
    """Every stored field of one contact, case or rating (by primary key), or an agent's latest state before ``at``
    (None: the latest of all)."""
    if kind == "agent":
        rows = _rows(
            store,
            "SELECT * FROM agent_states WHERE source = :source AND agent = :key AND (:at IS NULL OR since < :at)"
            " ORDER BY since DESC LIMIT 1",
            {"source": source, "key": key, "at": at},
        )
    else:
        table, column = _RECORD_TABLES[kind]
        rows = _rows(
            store, f"SELECT * FROM {table} WHERE source = :source AND {column} = :key", {"source": source, "key": key}
        )
    return rows[0] if rows else None


#: The most cases and the most agents one search returns (the command palette shows a handful).
SEARCH_LIMIT = 20
#: Besides open cases, a search looks at cases created, and agents seen, this many days before ``at``.
SEARCH_RECENT_DAYS = 7


def _like(text: str) -> str:
    """A LIKE pattern for "contains ``text``", with LIKE's own wildcards taken literally (ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(store: Store, text: str, at: float, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Cases whose id or subject, and agents whose id or name, contain ``text`` (ASCII case-insensitive).

    Rows carry ``kind`` ("case" or "agent"), ``source``, the record's key (``id`` or ``agent``) and what names it;
    at most ``limit`` of each kind. A case whose id is exactly ``text`` is found whatever its age (a primary-key
    lookup per source); substrings are looked for among open cases and cases created in the SEARCH_RECENT_DAYS
    before ``at``, and among agents with a state in those days, so the cost follows the open items and one week,
    not the size of history.
    """
    text = text.strip()
    limit = max(0, min(int(limit), MAX_ROWS))
    if not text or not limit:
        return []
    params = {"pattern": _like(text), "text": text, "limit": limit, "recent": at - SEARCH_RECENT_DAYS * 86400.0}
    columns = "'case' AS kind, source, id, queue, status, subject"
    matches = "(id LIKE :pattern ESCAPE '\\' OR subject LIKE :pattern ESCAPE '\\')"
    cases = _rows(
        store,
        f"""SELECT {columns}, 0 AS rank FROM cases
              WHERE source IN (SELECT source FROM sync_state) AND id = :text
            UNION
            SELECT {columns}, 1 AS rank FROM cases INDEXED BY cases_open
              WHERE status IN {OPEN_SQL} AND {matches}
            UNION
            SELECT {columns}, 2 AS rank FROM cases INDEXED BY cases_created
              WHERE created_at >= :recent AND {matches}
            ORDER BY rank, id LIMIT :limit * 3""",
        params,
    )
    seen: set[tuple[str, str]] = set()
    found: list[dict[str, Any]] = []
    for row in cases:
        key = (row["source"], row["id"])
        if key not in seen and len(found) < limit:
            seen.add(key)
            del row["rank"]
            found.append(row)
    agents = _rows(
        store,
        """SELECT 'agent' AS kind, source, agent, MAX(name) AS name FROM agent_states INDEXED BY agent_states_since
            WHERE since >= :recent AND (agent LIKE :pattern ESCAPE '\\' OR name LIKE :pattern ESCAPE '\\')
            GROUP BY source, agent ORDER BY agent = :text DESC, agent LIMIT :limit""",
        params,
    )
    return found + agents
