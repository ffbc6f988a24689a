"""A small, fixed contact centre written straight into a cache: what the board tests look at.

Times are relative to NOW (2026-11-23 10:00:00 UTC); the window is "today" in UTC, so it starts at 00:00.
Every figure a test checks is worked out by hand in the comments next to the records.
"""

from __future__ import annotations

import json

from shiftboard.model import AgentState, Batch, Case, Contact, Rating, format_time
from shiftboard.store import Store

NOW = 1795428000.0  # 2026-11-23T10:00:00Z
MIN = 60.0
HOSTILE_SUBJECTS = (
    "refund [/bold] please",
    "[@click=app.quit]x[/]",
    "[$accent]x[/]",
    "\x1b[31mred\x1b[0m alert",
    "bidi \u202eevil\u202c text",
)


def contact(cid: str, queue: str, offered_at: float, **kwargs: float | str | bool | None) -> Contact:
    return Contact(source="seed", id=cid, queue=queue, offered_at=offered_at, **kwargs)  # type: ignore[arg-type]


def base_batch(now: float = NOW) -> Batch:
    """Billing: 2 waiting (90 s and 30 s), 3 answered (waits 10, 20, 40 s), 1 abandoned (60 s), 1 blocked.
    Sales: 1 waiting (5 s), 1 answered (wait 5 s). Cases: 3 open Billing, 1 open Sales (oldest 3 h), 1 solved."""
    b = Batch()
    b.contacts += [
        contact("b-w1", "Billing", now - 90, customer="Ann"),
        contact("b-w2", "Billing", now - 30, customer="Bob"),
        contact("b-a1", "Billing", now - 3600, answered_at=now - 3590, ended_at=now - 3290, agent="ag1"),
        contact("b-a2", "Billing", now - 3000, answered_at=now - 2980, ended_at=now - 2680, agent="ag1"),
        contact("b-a3", "Billing", now - 2400, answered_at=now - 2360, ended_at=now - 2060, agent="ag2"),
        contact("b-ab", "Billing", now - 1800, abandoned_at=now - 1740, customer="Cy"),
        contact("b-bl", "Billing", now - 1200, blocked=True),
        contact("s-w1", "Sales", now - 5, customer="Dee"),
        contact("s-a1", "Sales", now - 1000, answered_at=now - 995, ended_at=now - 700, agent="ag3"),
    ]
    b.cases += [
        Case("seed", "C-1", "Billing", "open", "high", now - 3 * 3600, subject="Invoice wrong", customer="Ann"),
        Case("seed", "C-2", "Billing", "new", "normal", now - 2 * 3600, subject="Card declined", assignee="ag1"),
        Case("seed", "C-3", "Billing", "pending", "low", now - 1 * 3600, subject="Address change"),
        Case("seed", "C-4", "Sales", "open", "urgent", now - 1800, subject="Quote please"),
        Case("seed", "C-5", "Sales", "solved", "normal", now - 7200, solved_at=now - 600, subject="Done"),
    ]
    b.agent_states += [
        AgentState("seed", "ag1", "busy", now - 300, name="Agent One", queues=("Billing",)),
        AgentState("seed", "ag2", "available", now - 200, name="Agent Two", queues=("Billing",)),
        AgentState("seed", "ag3", "wrap_up", now - 100, name="Agent Three", queues=("Sales",)),
        AgentState("seed", "ag4", "away", now - 900, name="Agent Four", queues=("Billing", "Sales")),
    ]
    b.ratings += [
        Rating("seed", "R-1", "csat", 5, 5, now - 1200, scale_min=1, queue="Billing", comment="great"),
    ]
    return b


def write(store: Store, batch: Batch, at: float = NOW) -> None:
    store.write_batch("seed", "seed", batch, {"n": len(batch)}, at)


def waiting_line(cid: str, queue: str, offered_at: float) -> str:
    """A files source's JSON line for a contact offered at ``offered_at`` and still waiting."""
    return json.dumps({"type": "contact", "id": cid, "queue": queue, "offered_at": format_time(offered_at)}) + "\n"
