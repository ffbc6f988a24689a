"""The board as a user starts it over SSH: in tmux, a real terminal, drawn, drilled into, resized and quit.

tmux runs on its own socket in tmp_path, with HOME and XDG pointing at tmp_path, so nothing of the user's is touched.
The pane's command records the board's exit status in a file, so a clean exit is checked, not assumed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")

DEADLINE_S = 30.0
SHIFTBOARD = Path(sys.executable).parent / "shiftboard"
STATE_WORDS = re.compile(r"\b(OK|WARN|BREACH)\b")


class Tmux:
    def __init__(self, home: Path) -> None:
        self.socket = home / "tmux.sock"
        self.env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "TERM": "xterm-256color",
            "TEXTUAL_ANIMATIONS": "none",
        }
        self.env.pop("SHIFTBOARD_CONFIG", None)
        self.env.pop("TMUX", None)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-S", str(self.socket), *args], env=self.env, capture_output=True, text=True, timeout=30
        )

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "board").stdout

    def wait(self, condition: Callable[[str], bool], what: str) -> str:
        """Poll the pane until ``condition`` holds on its text (bounded by DEADLINE_S)."""
        deadline = time.monotonic() + DEADLINE_S
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if condition(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"never saw {what}; the pane shows:\n{text}")

    def alive(self) -> bool:
        return self("has-session", "-t", "board").returncode == 0


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    session = Tmux(tmp_path)
    yield session
    session("kill-server")  # our own server on our own socket; a no-op when the board already quit


def start(tmux: Tmux, tmp_path: Path, *args: str, program: str = f"'{SHIFTBOARD}'") -> Path:
    config = tmp_path / "shiftboard.toml"
    cache = tmp_path / "cache.sqlite"
    config.write_text(f"[cache]\npath = '{cache}'\n[[sources]]\nname = 'sim'\nkind = 'simulator'\n")
    status = tmp_path / "exit-status"
    command = f"{program} --config '{config}' {' '.join(args)}; echo $? > '{status}'"
    result = tmux("new-session", "-d", "-s", "board", "-x", "100", "-y", "30", command)
    assert result.returncode == 0, result.stderr
    return status


def quit_board(tmux: Tmux, status: Path | None = None) -> None:
    """Press q and wait for the board to end; with ``status``, check that it exited cleanly."""
    tmux("send-keys", "-t", "board", "q")
    deadline = time.monotonic() + DEADLINE_S
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not tmux.alive(), "the board did not quit"
    if status is not None:
        assert status.read_text().strip() == "0"


def test_board_in_tmux_draws_drills_resizes_and_quits(tmux, tmp_path):
    status = start(tmux, tmp_path)
    tmux.wait(lambda s: "Waiting now" in s and "Queue:" in s and STATE_WORDS.search(s), "figures with states")
    tmux("send-keys", "-t", "board", "Enter")
    tmux.wait(lambda s: "Waiting contacts" in s and "rows" in s, "the waiting contacts table")
    tmux("send-keys", "-t", "board", "Escape")
    tmux.wait(lambda s: "Waiting now" in s and "Waiting contacts" not in s, "the board again")
    assert tmux("resize-window", "-t", "board", "-x", "80", "-y", "24").returncode == 0
    text = tmux.wait(
        lambda s: "Waiting now" in s and "Queue:" in s and len(s.splitlines()) <= 24, "the board redrawn at 80×24"
    )
    assert max(len(line) for line in text.splitlines()) <= 80
    assert STATE_WORDS.search(text)
    quit_board(tmux, status)


def test_board_opens_at_a_past_moment(tmux, tmp_path):
    moment = datetime.fromtimestamp(time.time() - 3600, tz=UTC).replace(second=0, microsecond=0)
    start(tmux, tmp_path, "--at", moment.isoformat())
    text = tmux.wait(lambda s: "REWIND" in s and "for live" in s, "the rewind header")
    local = moment.astimezone().strftime("%H:%M")
    assert local in text
    tmux("send-keys", "-t", "board", "l")
    tmux.wait(lambda s: "REWIND" not in s and "Waiting now" in s, "the live board")
    quit_board(tmux)


#: ``shiftboard`` started from a process that already runs a thread, where forking is not safe (tui/launch.py).
THREADED = (
    "import sys, threading; threading.Thread(target=threading.Event().wait, daemon=True).start();"
    "from shiftboard.__main__ import main; sys.exit(main())"
)


def test_board_that_cannot_fork_checks_its_configuration_and_reads_in_process(tmux, tmp_path):
    status = start(tmux, tmp_path, program=f"'{sys.executable}' -c '{THREADED}'")
    tmux.wait(lambda s: "Waiting now" in s and "Queue:" in s and STATE_WORDS.search(s), "figures with states")
    quit_board(tmux, status)
