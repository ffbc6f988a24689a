"""The command palette (ctrl+p or :): board actions, and jumping to a queue, an agent or a case by name or id.

Queue names, agent names and case subjects come from helpdesk APIs, so every hit's display is built here as literal
``Content`` with the matched letters styled by offset. Textual's ``Matcher.highlight`` would parse the candidate as
markup (a subject ``refund [/bold] please`` raises, ``[@click=app.quit]x[/]`` becomes a live action), and the
palette parses a hit's ``help`` string as markup too, so help holds only our own words.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from shiftboard import drilldown
from shiftboard.store import Store
from shiftboard.text import clean
from shiftboard.tui.drills import drill
from shiftboard.tui.figures import FIGURES

if TYPE_CHECKING:
    from shiftboard.tui.app import ShiftboardApp

#: Shortest query that searches the cache for cases and agents (one letter matches half of everything).
SEARCH_MIN_CHARS = 2
#: Seconds of no typing before the cache is searched.
SEARCH_DEBOUNCE_S = 0.15
#: A cache match the fuzzy matcher does not score (a substring deep in a subject) still ranks, below good matches.
CACHE_HIT_SCORE = 0.3


@dataclass(frozen=True, slots=True)
class Entry:
    """One palette line: ``title`` is shown literally; ``help`` is our own text (the palette reads it as markup)."""

    title: str
    help: str
    run: Callable[[], Any]


def highlight(matcher: Matcher, candidate: str) -> Content:
    """``candidate`` as literal Content with the letters the query matched styled (never parsed as markup)."""
    content = Content(candidate)
    score, offsets = matcher.fuzzy_search.match(matcher.query, candidate)
    if score:
        for offset in offsets:
            if not candidate[offset].isspace():
                content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def board_entries(app: ShiftboardApp) -> list[Entry]:
    """The board's actions and its queues, as palette entries."""
    entries = [
        Entry("Refresh", "read the cache now", partial(_on_board, app, app.read_now)),
        Entry("Help: keys", "the keys of this screen", app.action_help),
        Entry("Rewind one step", "show the board one step earlier", partial(_on_board, app, app.action_rewind, -1)),
        Entry("Step forward", "one step later; past now is live", partial(_on_board, app, app.action_rewind, 1)),
        Entry("Back to live", "leave rewind", partial(_on_board, app, app.action_live)),
        Entry("Queue: all", "show every queue", partial(focus_queue, app, None)),
    ]
    for figure in FIGURES:
        if figure.drill is not None:
            entries.append(
                Entry(f"Rows behind {figure.label}", "drill down", partial(_on_board, app, app.action_drill, figure.id))
            )
    names = app.data.queue_names if app.data else []
    entries += [
        Entry(f"Queue: {clean(name, 60)}", "focus this queue", partial(focus_queue, app, name)) for name in names
    ]
    return entries


def _to_board(app: ShiftboardApp) -> None:
    """Close drilled screens so the board is on top."""
    from shiftboard.tui.screens.board import BoardScreen

    while len(app.screen_stack) > 1 and not isinstance(app.screen, BoardScreen):
        app.pop_screen()


def _on_board(app: ShiftboardApp, action: Callable[..., Any], *args: Any) -> None:
    _to_board(app)
    action(*args)


def focus_queue(app: ShiftboardApp, name: str | None) -> None:
    """Show the board for queue ``name`` (None: every queue)."""
    _to_board(app)
    app.queue = name
    app.show_board()


def open_record(app: ShiftboardApp, row: dict[str, Any]) -> None:
    """Open a case's or an agent's detail, as of the moment the board shows."""
    from shiftboard.tui.screens.detail import DetailScreen

    kind = "open_cases" if row["kind"] == "case" else "agents:any"
    shown = {k: v for k, v in row.items() if k != "kind"}
    at = app.at  # None on the live board: the latest record
    app.push_screen(DetailScreen(drill(kind, app.settings), shown, str(app.store.path), app.zone, at))


def record_title(row: dict[str, Any]) -> str:
    """What a search result says: literal text, cleaned of control characters."""
    if row["kind"] == "case":
        subject = clean(row.get("subject") or "", 80)
        return f"Case {clean(row['id'], 40)}: {subject} · {clean(row.get('queue') or '', 30)} · {row.get('status')}"
    name = clean(row.get("name") or "", 60)
    return f"Agent {name} ({clean(row['agent'], 40)}) · {clean(row['source'], 30)}"


class BoardCommands(Provider):
    """Board actions, queues by name, and cases and agents found in the cache."""

    @property
    def board(self) -> ShiftboardApp:
        return self.app  # type: ignore[return-value]

    async def discover(self) -> Hits:
        for entry in board_entries(self.board):
            yield DiscoveryHit(Content(entry.title), entry.run, text=entry.title, help=entry.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in board_entries(self.board):
            score = matcher.match(entry.title)
            if score > 0:
                yield Hit(score, highlight(matcher, entry.title), entry.run, text=entry.title, help=entry.help)
        async for hit in self._records(query, matcher):
            yield hit

    async def _records(self, query: str, matcher: Matcher) -> AsyncIterator[Hit]:
        if len(query.strip()) < SEARCH_MIN_CHARS:
            return
        # Debounce: the palette cancels this search when another key arrives, so a burst of typing reads the
        # cache once, for the last query.
        await asyncio.sleep(SEARCH_DEBOUNCE_S)
        rows = await asyncio.to_thread(self._find, query)
        for row in rows:
            title = record_title(row)
            score = max(matcher.match(title), CACHE_HIT_SCORE)
            what = "open the case" if row["kind"] == "case" else "open the agent"
            yield Hit(score, highlight(matcher, title), partial(open_record, self.board, row), text=title, help=what)

    def _find(self, query: str) -> list[dict[str, Any]]:
        with Store(self.board.store.path, readonly=True) as store:
            return drilldown.search(store, query, self.board.moment())
