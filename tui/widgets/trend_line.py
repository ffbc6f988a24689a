"""A labelled sparkline of one trend: the label, the latest value, and the bars (ASCII bars with ``--ascii``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Sparkline, Static

from shiftboard.tui.terminal import ASCII_BARS, ascii_text


def filled(values: Sequence[float | None]) -> list[float]:
    """Gaps (buckets with no value) carry the last value forward, so a quiet quarter-hour is not drawn as a drop to
    zero; leading gaps take the first value; no value at all gives an empty list."""
    known = [v for v in values if v is not None]
    if not known:
        return []
    last = known[0]
    out = []
    for value in values:
        last = value if value is not None else last
        out.append(float(last))
    return out


class Bars(Sparkline):
    """Textual's Sparkline, or plain ASCII levels when the terminal cannot draw block glyphs."""

    def __init__(self, *, ascii_only: bool = False, id: str | None = None) -> None:
        super().__init__([], id=id)
        self.ascii_only = ascii_only

    def render(self) -> RenderResult:
        if not self.ascii_only:
            return super().render()
        data = list(self.data or [])
        width = self.size.width
        if not data or width <= 0:
            return Text("_" * max(width, 0))
        low, high = min(data), max(data)
        extent = high - low or 1.0
        # Each column shows the value at its place in time (nearest bucket), as Sparkline stretches few points.
        chars = []
        for column in range(width):
            value = data[min(len(data) - 1, column * len(data) // width)]
            chars.append(ASCII_BARS[min(len(ASCII_BARS) - 1, int((value - low) / extent * len(ASCII_BARS)))])
        return Text("".join(chars))


class TrendLine(Horizontal):
    """``label  latest  ▁▂▃▅▇`` on one line."""

    def __init__(self, label: str, fmt: Callable[[float | None], str], *, ascii_only: bool, id: str) -> None:
        super().__init__(id=id, classes="trend")
        self.label = label
        self.fmt = fmt
        self.ascii_only = ascii_only

    def compose(self) -> ComposeResult:
        yield Static(Content(self.label), classes="trend-label", markup=False)
        yield Static("", classes="trend-value", markup=False)
        yield Bars(ascii_only=self.ascii_only)

    def show(self, values: Sequence[float | None]) -> None:
        latest = next((v for v in reversed(values) if v is not None), None)
        self.query_one(".trend-value", Static).update(Content(ascii_text(self.fmt(latest), self.ascii_only)))
        self.query_one(Bars).data = filled(values)
