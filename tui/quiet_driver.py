"""The board's terminal driver on Linux and macOS: Textual's, with an input thread that sleeps until there is input.

Textual 8's input thread (``LinuxDriver.run_input_thread``) waits for stdin at most 0.1 s at a time, so that it
notices when it must stop and when a lone Escape has waited long enough to be the Escape key rather than the start
of a sequence. A board left open on a wall wakes 600 times a minute for that: about 90 ms of CPU a minute on our
2-CPU host, as much as all the rest of a bare Textual app's minute (docs/benchmarks.md, session 11).

Here the thread blocks until a key arrives, until the parser's pending Escape falls due, or until the driver is told
to stop: ``exit_event`` is an Event that also writes to a pipe the thread watches. Everything else (start, stop,
suspend with Ctrl+Z and resume, the parser and the events it posts) is Textual's own.

It leans on two private parts of Textual, pinned below 9 in pyproject.toml: ``LinuxDriver.run_input_thread`` as the
input thread's body, and ``Parser._timeout_time``, when the parser's pending Escape falls due. Without the latter it
falls back to Textual's own 0.1 s wait.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder

from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

#: Textual's own wait, used when the parser no longer says when its pending Escape falls due.
FALLBACK_WAIT_S = 0.1
_READ_BYTES = 4096
_UNKNOWN = object()


class _WakingEvent(threading.Event):
    """An Event whose ``set`` also writes a byte to a pipe, so a thread blocked on the pipe's other end wakes."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self._wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        # Full: a wake-up is pending anyway. Closed: the driver is gone.
        with contextlib.suppress(OSError):
            os.write(self._wake_fd, b"\0")


class QuietLinuxDriver(LinuxDriver):
    """Textual's Linux driver whose input thread does not wake while there is no input (see the module's text)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # One pipe for the driver's life, never closed: Textual calls ``close`` on a suspend (Ctrl+Z) too, then
        # starts the input thread again on resume. A board has one driver.
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self.exit_event = _WakingEvent(self._wake_write)

    def run_input_thread(self) -> None:
        """Until ``exit_event`` is set: read stdin, parse it and post the events; sleep while there is nothing."""
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        # poll(2), not epoll: it is given the descriptor on each call, so when the board's hang-up handling puts
        # /dev/null in stdin's place (tui/terminal.py) the thread sees its end at once. An epoll registration would
        # silently go with the terminal's file, and the thread would wait on the pipe alone.
        selector = selectors.PollSelector()
        selector.register(self.fileno, selectors.EVENT_READ, "input")
        selector.register(self._wake_read, selectors.EVENT_READ, "wake")
        try:
            while not self.exit_event.is_set():
                for key, _ in selector.select(pending_wait(parser)):
                    if key.data == "wake":
                        _drain(self._wake_read)
                        continue
                    data = decode(os.read(self.fileno, _READ_BYTES))
                    if not data:  # stdin ended: no key can come any more
                        return
                    for event in parser.feed(data):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
        finally:
            selector.close()
            try:
                for _ in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass


def pending_wait(parser: XTermParser) -> float | None:
    """Seconds until ``parser``'s pending Escape falls due (0 if it has), None (no limit) when nothing is pending."""
    due = getattr(parser, "_timeout_time", _UNKNOWN)
    if due is _UNKNOWN:
        return FALLBACK_WAIT_S
    if due is None:
        return None
    return max(0.0, due - get_time())


def _drain(fd: int) -> None:
    try:
        while os.read(fd, _READ_BYTES):
            pass
    except BlockingIOError:
        pass
