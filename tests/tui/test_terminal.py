"""Terminals: the theme picked for few colours, and the board exiting when its terminal (an SSH session) goes away.

The hang-up tests start the real board (``python -m shiftboard``) on a pseudo-terminal, wait until it has drawn,
close the terminal and wait (bounded) for the process to end.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from shiftboard.store import Store
from shiftboard.tui.terminal import ANSI_THEME, few_colours, pick_theme
from tests.tui.seed import base_batch, write

#: How long the board may take to draw, and to exit after the terminal closes (it exits in about a second).
DRAW_S = 30.0
EXIT_S = 20.0


@pytest.mark.parametrize(
    ("environ", "few"),
    [
        ({"TERM": "xterm-256color"}, False),
        ({"TERM": "tmux-256color"}, False),
        ({"TERM": "screen"}, True),  # GNU screen's default
        ({"TERM": "linux"}, True),
        ({"TERM": "xterm"}, True),
        ({"TERM": "xterm", "COLORTERM": "truecolor"}, False),
        ({"TERM": "xterm-256color", "TEXTUAL_COLOR_SYSTEM": "standard"}, True),
        ({"TERM": "xterm", "TEXTUAL_COLOR_SYSTEM": "256"}, False),
        ({}, False),  # no terminal named (a browser through textual-serve): leave Textual's default
    ],
)
def test_few_colours(environ, few):
    assert few_colours(environ) is few


def test_theme_order():
    few = {"TERM": "linux"}
    assert pick_theme("textual-light", "nord", few) == "textual-light"
    assert pick_theme(None, "nord", few) == "nord"
    assert pick_theme(None, None, few) == ANSI_THEME
    assert pick_theme(None, None, {"TERM": "xterm-256color"}) is None


@pytest.fixture
def board_config(tmp_path: Path) -> Path:
    cache = tmp_path / "cache.sqlite"
    with Store(cache) as store:
        write(store, base_batch(time.time()), time.time())
    config = tmp_path / "shiftboard.toml"
    config.write_text(f'[cache]\npath = "{cache}"\n[metrics]\ntimezone = "UTC"\n')
    return config


def _env() -> dict[str, str]:
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="80", LINES="24")
    env.pop("NO_COLOR", None)
    return env


def _wait_drawn(fd: int) -> None:
    """Read the terminal until the board's header shows (bounded)."""
    seen = b""
    deadline = time.monotonic() + DRAW_S
    while b"Queue" not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"the board never drew: {seen[-300:]!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            seen += os.read(fd, 65536)


def test_board_exits_when_its_terminal_hangs_up(board_config):
    """The SSH case: the board is the session leader on the terminal; closing it sends SIGHUP."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the board, on the new terminal
        os.execve(sys.executable, [sys.executable, "-m", "shiftboard", "--config", str(board_config)], _env())
    try:
        _wait_drawn(fd)
    finally:
        os.close(fd)  # the terminal goes away
    status: list[int] = []
    waiter = threading.Thread(target=lambda: status.append(os.waitpid(pid, 0)[1]), daemon=True)
    waiter.start()
    waiter.join(EXIT_S)
    if not status:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail(f"the board still ran {EXIT_S:g} s after its terminal closed")
    # A clean exit (the app's own), not the default SIGHUP death nor the last-resort backstop.
    assert os.WIFEXITED(status[0]) and os.WEXITSTATUS(status[0]) == 0, status


def test_board_exits_when_the_terminal_goes_without_sighup(board_config):
    """No SIGHUP (ignored, and the terminal is not the board's controlling one): the TTY watchdog notices."""
    master, slave = os.openpty()
    board = subprocess.Popen(
        [sys.executable, "-m", "shiftboard", "--config", str(board_config)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_env(),
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    os.close(slave)
    try:
        _wait_drawn(master)
    finally:
        os.close(master)
    try:
        code = board.wait(EXIT_S)
    except subprocess.TimeoutExpired:
        board.kill()
        board.wait()
        pytest.fail(f"the board still ran {EXIT_S:g} s after its terminal closed")
    assert code == 0
