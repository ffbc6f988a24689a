"""The board's header: the clock, the queue in focus and each source's health."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from textual.content import Content
from textual.widgets import Static

from shiftboard.health import Health
from shiftboard.text import clean
from shiftboard.tui import formatting
from shiftboard.tui.terminal import ascii_content

#: A cache read this slow is shown in the header (a slow disk or a huge window makes the board lag).
SLOW_READ_S = 0.25
_HEALTH_STYLES = {"ok": "$success", "stale": "$warning", "failing": "$error bold", "waiting": "$text-muted"}
_HEALTH_MARKS = {"ok": "●", "stale": "▲", "failing": "✖", "waiting": "○"}


def header_content(
    *,
    moment: float,
    zone: tzinfo | None,
    queue: str | None,
    queue_number: int,
    queue_count: int,
    since: float | None,
    health: Sequence[Health],
    collecting: bool,
    live: bool,
    latency_s: float | None,
    problem: str | None,
    live_key: str = "l",
    now: float | None = None,
    privacy: bool = False,
) -> Content:
    """Two lines: clock · queue · window · read latency, then one entry per source (untrusted text kept literal)."""
    if queue is None:
        queue_part = Content.assemble(("all", "bold $accent"), f" {queue_count} queues" if queue_count else "")
    else:
        queue_part = Content.assemble(
            (f"{queue_number}/{queue_count} ", "bold"), Content(clean(queue, 40)).stylize("bold $accent")
        )
    if live:
        # To the minute: a wall clock that moves with the reads (every ``refresh_s``), not a second hand to repaint.
        parts: list[Content | str | tuple[str, str]] = [(formatting.minute(moment, zone), "bold")]
    else:
        # In words, not only colour: a replayed board must never pass for the live one.
        when = datetime.fromtimestamp(moment, tz=zone).strftime("%H:%M %a %d %b")
        parts = [("REWIND", "reverse $warning bold"), (f" {when}", "bold"), f" — press {live_key} for live"]
    if privacy:
        parts.append((" PRIVACY", "$accent bold"))
    parts += ["  Queue: ", queue_part]
    if since is not None:
        parts.append(f"  since {formatting.minute(since, zone)}")
    if latency_s is not None and latency_s >= SLOW_READ_S:
        parts.append((f"  slow read {latency_s:.1f} s", "$warning"))
    behind = [clean(item.source, 40) for item in health if item.status in ("stale", "failing")]
    if behind:
        # The figures still include these sources' last good data: say so where the eye lands first.
        parts.append((f"  STALE: {', '.join(behind)} (last good data shown)", "$warning bold"))
    first = Content.assemble(*parts)
    second: list[Content | str | tuple[str, str]] = []
    if problem:
        second += [("cache: ", "$error bold"), Content(clean(problem, 200)), "  "]
    for item in health:
        mark = _HEALTH_MARKS.get(item.status, "?")
        style = _HEALTH_STYLES.get(item.status, "")
        name = Content(clean(item.source, 40))
        said = item.describe(moment if now is None else now)
        if item.status == "failing" and item.failing_since is not None:
            said += f" since {formatting.minute(item.failing_since, zone)}"
        if item.status in ("stale", "failing"):
            said += ", STALE"
        if item.skipped_total:
            said += f", {item.skipped_total} skipped"
        second += [(f"{mark} ", style), name, ": ", (clean(said), style), "  "]
    if not health:
        second.append(("no sources configured: reading the cache", "$text-muted"))
    if not collecting:
        second.append(("(another process collects)", "$text-muted"))
    return Content.assemble(first, "\n", Content.assemble(*second))


class BoardHeader(Static):
    """Two lines at the top of the board; ``show`` replaces what it says."""

    def __init__(self) -> None:
        super().__init__("", id="board-header", markup=False)
        self._shown: tuple[str, list[object]] | None = None

    def show(self, content: Content) -> None:
        content = ascii_content(content, getattr(self.app, "ascii_only", False))
        # Content compares by text alone; the styles matter too (a source's mark changes colour with its state).
        shown = (content.plain, list(content.spans))
        if shown == self._shown:
            return  # a read often says the same thing again (the figures did not move): no repaint
        self._shown = shown
        self.update(content, layout=False)  # two lines, fixed height: the layout cannot change
