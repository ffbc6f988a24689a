"""The normalized records every source is mapped onto.

All times are UTC epoch seconds (floats): window arithmetic in SQLite stays a comparison of numbers, and there is
one clock axis for every source. A record's key is ``(source, id)``; a later record with the same key replaces the
earlier one.

The normalized vocabularies follow ../shared/reference/helpdesk-apis.md, "Cross-system normalization tables".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

#: Case statuses. ``deleted`` marks a case the source removed: it leaves the backlog and every figure.
CASE_STATUSES: Final = ("new", "open", "pending", "on_hold", "solved", "closed", "deleted")
#: Statuses that count as open (in the backlog).
OPEN_STATUSES: Final = ("new", "open", "pending", "on_hold")
PRIORITIES: Final = ("low", "normal", "high", "urgent")
AGENT_STATES: Final = ("available", "busy", "wrap_up", "away", "offline")
RATING_KINDS: Final = ("csat", "nps", "ces", "iqs")
#: Channels are free text from the source, but these are the ones adapters normalize to when they can.
CHANNELS: Final = ("voice", "chat", "email", "messaging", "web", "social", "api", "other")


@dataclass(slots=True)
class Case:
    """A ticket or conversation: one unit of backlog."""

    source: str
    id: str
    queue: str
    status: str
    priority: str
    created_at: float
    channel: str | None = None
    subject: str | None = None
    customer: str | None = None
    assignee: str | None = None
    first_reply_at: float | None = None
    solved_at: float | None = None
    updated_at: float | None = None
    agent_replies: int | None = None
    reopens: int | None = None


@dataclass(slots=True)
class Contact:
    """One call or chat offered to a queue.

    ``offered_at`` is when it entered the queue (or was refused entry, if ``blocked``). A contact is waiting at
    time ``t`` when it was offered before ``t`` and neither answered, abandoned nor ended before ``t``.
    Handle time is ``(ended_at - answered_at) + wrap_up_s``; hold time is part of the talk span.
    """

    source: str
    id: str
    queue: str
    offered_at: float
    channel: str = "voice"
    customer: str | None = None
    agent: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    abandoned_at: float | None = None
    blocked: bool = False
    hold_s: float | None = None
    wrap_up_s: float | None = None


@dataclass(slots=True)
class AgentState:
    """An agent entered ``state`` at ``since``. The cache keeps these as a history per agent."""

    source: str
    agent: str
    state: str
    since: float
    name: str | None = None
    queues: tuple[str, ...] = ()


@dataclass(slots=True)
class Rating:
    """A satisfaction or quality score: ``score`` on a scale from ``scale_min`` to ``scale_max``."""

    source: str
    id: str
    kind: str
    score: float
    scale_max: float
    rated_at: float
    scale_min: float = 0.0
    case_id: str | None = None
    queue: str | None = None
    agent: str | None = None
    comment: str | None = None


@dataclass(slots=True)
class QueueSnapshot:
    """A queue's aggregate state as a source reports it, for sources that give aggregates instead of contacts.

    Real-time fields describe the moment ``at``. The cumulative fields (``offered`` … ``wait_total_s``) count
    contacts that reached an outcome in [``window_start``, ``at``); they are None when the source gives none.
    """

    source: str
    queue: str
    at: float
    waiting: int | None = None
    longest_wait_s: float | None = None
    agents_online: int | None = None
    agents_available: int | None = None
    window_start: float | None = None
    offered: int | None = None
    answered: int | None = None
    abandoned: int | None = None
    short_abandoned: int | None = None
    answered_within_sl: int | None = None
    abandoned_within_sl: int | None = None
    sl_threshold_s: float | None = None
    wait_total_s: float | None = None


@dataclass(slots=True)
class Batch:
    """What one fetch returns: records to upsert, plus records the adapter rejected."""

    cases: list[Case] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    agent_states: list[AgentState] = field(default_factory=list)
    ratings: list[Rating] = field(default_factory=list)
    queue_snapshots: list[QueueSnapshot] = field(default_factory=list)
    #: Malformed source records skipped by the adapter.
    skipped: int = 0
    #: A few human-readable reasons (with the source's id or file:line) for the skipped records.
    skipped_samples: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return (
            len(self.cases)
            + len(self.contacts)
            + len(self.agent_states)
            + len(self.ratings)
            + len(self.queue_snapshots)
        )

    def skip(self, reason: str, *, keep: int = 5) -> None:
        """Count one rejected record and keep its reason if fewer than ``keep`` are kept already."""
        self.skipped += 1
        if len(self.skipped_samples) < keep:
            self.skipped_samples.append(reason)


def parse_time(value: object) -> float | None:
    """Parse an ISO-8601 time with offset or Z (or epoch seconds) into UTC epoch seconds.

    None, "" and the Unix epoch itself (RT's "unset" date) give None. A naive time is rejected: a source that
    sends one must say which zone it means before calling this.
    """
    if type(value) is str:
        # Fast path for the common case (bulk imports parse millions of these): Python 3.11 reads Z and offsets
        # itself. Anything it cannot read with an offset takes the general path below, which decides.
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment.timestamp() or None
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return float(value) or None
    if not isinstance(value, str):
        raise ValueError(f"not a time: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO-8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"time has no offset or Z: {value!r}")
    seconds = moment.timestamp()
    return seconds or None


def format_time(seconds: float) -> str:
    """UTC epoch seconds as ISO-8601 with Z, to the second."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
