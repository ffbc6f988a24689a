"""Fitting the terminal: a theme for few colours, ASCII in place of Unicode glyphs, and exiting when the SSH session
that ran the board is gone.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Mapping
from typing import Any

from textual.content import Content

#: The theme for terminals with 16 colours: it uses the terminal's own palette, where yellow (WARN) and red (BREACH)
#: stay distinct; the default theme's amber and red both fall to bright red there.
ANSI_THEME = "ansi-dark"
_RICH_TERMS = ("256color", "truecolor", "24bit", "direct")

#: Glyphs the board writes and their ASCII stand-ins (``--ascii``); one character for one, so styled spans keep
#: their places.
ASCII_GLYPHS = str.maketrans(
    {"—": "-", "–": "-", "·": "-", "…": ".", "●": "*", "▲": "!", "✖": "X", "○": "o", "×": "x", "→": ">"}
)
#: Bar levels for ASCII sparklines, lowest first.
ASCII_BARS = "_.-=+*#"
#: Seconds between checks that the terminal is still there (Dolphie's watchdog checks every 5 s).
WATCHDOG_S = 2.0


def few_colours(environ: Mapping[str, str]) -> bool:
    """True when the terminal likely has 16 colours or fewer: ``TEXTUAL_COLOR_SYSTEM=standard``, or a TERM that
    names no 256-colour/truecolour capability and no COLORTERM (as under GNU screen, the Linux console, plain xterm).
    """
    system = environ.get("TEXTUAL_COLOR_SYSTEM", "auto").lower()
    if system in ("standard", "windows"):
        return True
    if system in ("256", "truecolor") or environ.get("COLORTERM"):
        return False
    term = environ.get("TERM", "")
    return bool(term) and not any(mark in term for mark in _RICH_TERMS)


def pick_theme(asked: str | None, configured: str | None, environ: Mapping[str, str]) -> str | None:
    """The theme to use: ``--theme``, else ``[board] theme``, else the ANSI theme on few colours, else Textual's."""
    if asked:
        return asked
    if configured:
        return configured
    return ANSI_THEME if few_colours(environ) else None


def ascii_text(text: str, ascii_only: bool) -> str:
    """``text`` with the board's Unicode glyphs replaced when only ASCII may be drawn."""
    return text.translate(ASCII_GLYPHS) if ascii_only else text


def ascii_content(content: Content, ascii_only: bool) -> Content:
    """``content`` with the glyphs replaced, styles kept (the replacements are one character for one)."""
    if not ascii_only:
        return content
    return Content(content.plain.translate(ASCII_GLYPHS), list(content.spans))


class TerminalWatchdog:
    """Exits the app when its terminal goes away, instead of spinning on a dead TTY.

    A SIGHUP handler (the kernel's hang-up when the SSH session or terminal closes) and, because SIGHUP can be
    ignored or never sent (a process outside the terminal's session, nohup), a re-arming timer that checks
    ``sys.stdin.isatty()``: Dolphie's pattern. Armed only when stdin was a terminal at start, so a board served to a
    browser or run headless (stdin a pipe) is left alone.
    """

    def __init__(self, app: Any, exit_app: Callable[[], None]) -> None:
        self.app = app
        self.exit_app = exit_app
        self.armed = False
        self._previous: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def arm(self) -> None:
        if self.app.is_headless or not _stdin_is_tty():
            return
        self.armed = True
        self._loop = asyncio.get_running_loop()
        try:
            self._previous = signal.signal(signal.SIGHUP, self._hang_up)
        except (ValueError, AttributeError):  # not the main thread, or no SIGHUP (Windows): the timer still checks
            self._previous = None
        self.app.set_timer(WATCHDOG_S, self._check)

    def disarm(self) -> None:
        if self.armed and self._previous is not None:
            signal.signal(signal.SIGHUP, self._previous)
        self.armed = False

    def _hang_up(self, signum: int, frame: object) -> None:
        # A signal handler runs between bytecodes of the main thread, which is the event loop's: schedule the exit.
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.exit_app)

    def _check(self) -> None:
        if not _stdin_is_tty():
            self.exit_app()
            return
        self.app.set_timer(WATCHDOG_S, self._check)


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or broken stdin: no terminal
        return False
