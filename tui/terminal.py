"""Fitting the terminal: a theme for few colours, ASCII in place of Unicode glyphs, and exiting when the SSH session
that ran the board is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
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
#: Seconds a clean exit may take after the terminal is gone before the process ends itself (the in-process
#: collector gets its 10 s to stop first), and the exit status then (128 + SIGHUP, as a shell reports a hang-up).
EXIT_GRACE_S = 15.0
EXIT_HUNG_UP = 129
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


_KEY_WORDS = {"⏎": "enter", "↑": "up", "↓": "down", "←": "left", "→": "right", "⇥": "tab", "⌫": "backspace"}


def ascii_key(display: str) -> str:
    """A key's display name without Unicode arrows or symbols."""
    for glyph, word in _KEY_WORDS.items():
        display = display.replace(glyph, word)
    return ascii_text(display, True)


def ascii_content(content: Content, ascii_only: bool) -> Content:
    """``content`` with the glyphs replaced, styles kept (the replacements are one character for one)."""
    if not ascii_only:
        return content
    return Content(content.plain.translate(ASCII_GLYPHS), list(content.spans))


class TerminalWatchdog:
    """Exits the app when its terminal goes away, instead of spinning on a dead TTY.

    A SIGHUP handler (the kernel's hang-up when the SSH session or terminal closes) and, because SIGHUP can be
    ignored or never sent (a process outside the terminal's session, nohup), an interval timer that checks
    ``sys.stdin.isatty()``: Dolphie's pattern. Armed only when stdin was a terminal at start, so a board served to a
    browser or run headless (stdin a pipe) is left alone.
    """

    def __init__(self, app: Any, exit_app: Callable[[], None]) -> None:
        self.app = app
        self.exit_app = exit_app
        self.armed = False
        self._previous: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The terminal went away and the exit has begun.
        self.gone = False

    def arm(self) -> None:
        if self.app.is_headless or not _stdin_is_tty():
            return
        self.armed = True
        self._loop = asyncio.get_running_loop()
        try:
            self._previous = signal.signal(signal.SIGHUP, self._hang_up)
        except (ValueError, AttributeError):  # not the main thread, or no SIGHUP (Windows): the timer still checks
            self._previous = None
        # One interval timer, not a set_timer re-armed by each check: every new Textual timer costs its own set-up
        # and signature inspection, which showed in the CPU of an idle board.
        self.app.set_interval(WATCHDOG_S, self._check)

    def disarm(self) -> None:
        if self.armed and self._previous is not None:
            signal.signal(signal.SIGHUP, self._previous)
        self.armed = False

    def _hang_up(self, signum: int, frame: object) -> None:
        # A signal handler runs between bytecodes of the main thread, which is the event loop's: schedule the exit.
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._terminal_gone)

    def _check(self) -> None:
        if not _stdin_is_tty():
            self._terminal_gone()

    def _terminal_gone(self) -> None:
        """Exit cleanly (the collector stops, the lock is released) without the dead terminal in the way."""
        if self.gone:
            return
        self.gone = True
        _detach_from_terminal()
        _unblock_writer(self.app)
        # Textual's shutdown writes "leave the alternate screen" to the terminal; with the terminal gone that write
        # can block forever, so a last-resort timer ends the process if the clean exit has not within EXIT_GRACE_S.
        backstop = threading.Timer(EXIT_GRACE_S, os._exit, args=(EXIT_HUNG_UP,))
        backstop.daemon = True  # a clean exit must not wait for it
        backstop.start()
        self.exit_app()


def _detach_from_terminal() -> None:
    """Point stdin, stdout and stderr at /dev/null, so reads and writes meant for the dead terminal neither fail nor
    block."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(null, fd)
    os.close(null)


def _unblock_writer(app: Any) -> None:
    """Textual's output thread dies at the first write to a hung-up terminal (EIO); its bounded queue then fills and
    the shutdown's writes block forever (seen with Textual 8.2.8). A thread that empties the queue lets them finish.
    Reaches into the driver's private writer, guarded: with another driver or a later Textual this does nothing."""
    writer = getattr(getattr(app, "_driver", None), "_writer_thread", None)
    queue = getattr(writer, "_queue", None)
    if writer is None or queue is None:
        return

    def drain() -> None:
        writer.join()  # it may die only at its next write, after this runs
        while True:
            queue.get()

    threading.Thread(target=drain, name="shiftboard-drain-output", daemon=True).start()


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or broken stdin: no terminal
        return False
