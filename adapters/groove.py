"""Groove (GrooveHQ) through its GraphQL API v2: conversations with their states, assignees and ratings.

Contract: ../shared/reference/helpdesk-apis.md §5. Why v2 and not v1 REST: v1 is "no longer in active development",
its ticket JSON may not even carry the state inline (one extra call per ticket), and it has no ratings; v2 has the
``ConversationState`` enum, the ``Rating`` object and Relay paging (``first``/``after``, ``pageInfo``).
Auth: ``Authorization: Bearer <token>`` (an admin's API token).

Sync: conversations newest-changed first (``orderBy: {field: UPDATED_AT, direction: DESC}``), page after page,
until a conversation older than the last pass's newest ``updatedAt`` shows up; that newest time becomes the next
pass's limit. Which arguments ``conversations`` accepts is not in Groove's published docs (UNCONFIRMED), so the
adapter relies on ordering only (no server-side date filter), and checks the order it gets: if the answers are not
newest-first, it does not stop early and reads the pass to its end, which is slower but misses nothing.

Ratings (great/okay/bad; the API's ``RatingEnum`` says AWESOME/OK/BAD) are a 3-point CSAT: 3/2/1 on a 1–3 scale.
They hang off a conversation's ``changesets``; the shape of a changeset is not documented either (UNCONFIRMED), so
the adapter takes every object typed ``Rating`` (or carrying a ``grade``) found anywhere under the conversation.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shiftboard.adapters.base import AdapterContext, Cursor, FetchResult, HttpSourceSettings, SourceError
from shiftboard.adapters.http import HttpAdapter
from shiftboard.model import Batch, Case, Rating, parse_time
from shiftboard.text import clean

QUERY = """
query Conversations($first: Int!, $after: String, $orderBy: ConversationOrder) {
  conversations(first: $first, after: $after, orderBy: $orderBy) {
    nodes {
      __typename
      id
      number
      state
      subject
      createdAt
      updatedAt
      stateUpdatedAt
      deletedAt
      assigned { agent { id email } team { id name } }
      channel { id name }
      customer { id email }
      changesets(first: 25) {
        nodes { changes { __typename ... on Rating { id grade feedback createdAt agent { id email } } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
STATES = {
    "UNREAD": "new",
    "OPENED": "open",
    "PENDING": "pending",  # v1's state, in case a v2 account still reports it
    "SNOOZED": "on_hold",
    "CLOSED": "closed",  # Groove has no separate "solved"
    "SPAM": "deleted",
    "DELETED": "deleted",
}
CHANNELS = {
    "EmailConversation": "email",
    "WidgetConversation": "chat",
    "FacebookConversation": "social",
    "TwitterConversation": "social",
}
GRADES = {"AWESOME": 3.0, "GREAT": 3.0, "OK": 2.0, "OKAY": 2.0, "BAD": 1.0}


class GrooveSettings(HttpSourceSettings):
    """A Groove account. ``url`` is ``https://api.groovehq.com``; ``token_env`` names the API token."""

    page_size: int = Field(50, ge=1, le=100, description="Conversations per page (first).")
    initial_days: float = Field(30.0, gt=0, description="How far back (by last update) the first sync reads.")


class GrooveAdapter(HttpAdapter):
    """Reads one Groove account's conversations."""

    kind = "groove"
    Settings = GrooveSettings
    settings: GrooveSettings

    def __init__(self, settings: GrooveSettings, context: AdapterContext | None = None) -> None:
        super().__init__(settings, context)

    def credentials(self) -> dict[str, Any]:
        return {"headers": {"Authorization": f"Bearer {self.secret('API token')}"}}

    def fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        state = dict(cursor or {})
        since = float(state.get("since", at - self.settings.initial_days * 86400))
        variables: dict[str, Any] = {
            "first": self.settings.page_size,
            "orderBy": {"field": "UPDATED_AT", "direction": "DESC"},
        }
        if state.get("after"):
            variables["after"] = state["after"]
        answer = self.client.post_json("/v2/graphql", {"query": QUERY, "variables": variables})
        if isinstance(answer, dict) and answer.get("errors"):
            first = answer["errors"][0] if isinstance(answer["errors"], list) else answer["errors"]
            message = first.get("message") if isinstance(first, dict) else first
            raise SourceError(f"GraphQL error: {clean(message, 160)}", retryable=False)
        try:
            page = answer["data"]["conversations"]
            nodes, info = page["nodes"], page.get("pageInfo") or {}
            if not isinstance(nodes, list):
                raise TypeError
        except (KeyError, TypeError):
            raise SourceError("conversations: the answer has no data.conversations.nodes") from None
        batch = Batch()
        ordered = state.get("ordered", True)
        previous = state.get("last")
        reached_old = False
        newest = state.get("pass_max")
        for node in nodes:
            case = self._case(node, batch)
            if case is None:
                continue
            batch.cases.append(case)
            batch.ratings.extend(self._ratings(node, case, batch))
            changed = case.updated_at if case.updated_at is not None else case.created_at
            if previous is not None and changed > previous:
                ordered = False  # not newest-first: this pass must read to the end
            previous = changed
            newest = changed if newest is None else max(newest, changed)
            reached_old = reached_old or changed < since
        if info.get("hasNextPage") and info.get("endCursor") and not (ordered and reached_old):
            state.update(after=info["endCursor"], ordered=ordered, last=previous, pass_max=newest)
            return FetchResult(batch, state, True)
        # The pass is over. Conversations changed at exactly the newest time are read again next pass (harmless).
        done: Cursor = {"since": max(since, newest) if newest is not None else since}
        return FetchResult(batch, done, False)

    def _case(self, node: Any, batch: Batch) -> Case | None:
        ident = node.get("id") if isinstance(node, dict) else None
        if not isinstance(ident, str) or not ident:
            batch.skip(f"conversation {clean(ident, 40)}: no id")
            return None
        status = STATES.get(str(node.get("state")).upper())
        if status is None:
            batch.skip(f"conversation {clean(ident, 40)}: unknown state {clean(node.get('state'), 20)!r}")
            return None
        try:
            created = parse_time(node.get("createdAt"))
            if created is None:
                raise ValueError("no createdAt")
            updated = parse_time(node.get("updatedAt"))
            state_changed = parse_time(node.get("stateUpdatedAt"))
            if parse_time(node.get("deletedAt")) is not None:
                status = "deleted"
        except ValueError as error:
            batch.skip(f"conversation {clean(ident, 40)}: {error}")
            return None
        assigned = _dict(node.get("assigned"))
        agent = _dict(assigned.get("agent"))
        channel = _dict(node.get("channel"))
        customer = _dict(node.get("customer"))
        return Case(
            source=self.name,
            id=clean(ident, 80),
            queue=clean(channel.get("name") or channel.get("id"), 80) or "inbox",
            status=status,
            priority="normal",  # v2 has no priority field (v1's priority string is not carried over)
            created_at=created,
            channel=CHANNELS.get(str(node.get("__typename")), "other"),
            subject=clean(node.get("subject"), 300) or None,
            customer=clean(customer.get("email") or customer.get("id"), 120) or None,
            assignee=clean(agent.get("email") or agent.get("id"), 120) or None,
            solved_at=(state_changed or updated) if status == "closed" else None,
            updated_at=updated,
        )

    def _ratings(self, node: dict[str, Any], case: Case, batch: Batch) -> list[Rating]:
        found: list[Rating] = []
        for item in _rating_objects(node.get("changesets")):
            ident = item.get("id")
            score = GRADES.get(str(item.get("grade")).upper())
            if not ident or score is None:
                batch.skip(f"rating {clean(ident, 40)} on {case.id}: unknown grade {clean(item.get('grade'), 20)!r}")
                continue
            try:
                rated = parse_time(item.get("createdAt")) or case.updated_at or case.created_at
            except ValueError as error:
                batch.skip(f"rating {clean(ident, 40)}: {error}")
                continue
            agent = _dict(item.get("agent"))
            found.append(
                Rating(
                    source=self.name,
                    id=clean(ident, 80),
                    kind="csat",
                    score=score,
                    scale_min=1.0,
                    scale_max=3.0,
                    rated_at=rated,
                    case_id=case.id,
                    queue=case.queue,
                    agent=clean(agent.get("email") or agent.get("id"), 120) or case.assignee,
                    comment=clean(item.get("feedback"), 500) or None,
                )
            )
        return found


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _rating_objects(value: object, depth: int = 0) -> list[dict[str, Any]]:
    """Every object under ``value`` that is a Rating (by ``__typename``, or by carrying a ``grade``)."""
    if depth > 8:
        return []
    if isinstance(value, list):
        return [found for item in value for found in _rating_objects(item, depth + 1)]
    if not isinstance(value, dict):
        return []
    if value.get("__typename") == "Rating" or "grade" in value:
        return [value]
    return [found for item in value.values() for found in _rating_objects(item, depth + 1)]


ADAPTER = GrooveAdapter
