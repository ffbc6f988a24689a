"""The board's terminal driver (tui/quiet_driver.py): its input thread sleeps while there is no input, yet a lone
Escape still arrives as the Escape key, keys arrive after a suspend and resume, and the app quits at once.

The driver is Textual's only in its input thread, so the keys go through a small Textual app on a real
pseudo-terminal that writes each key it receives to a file; the board itself is checked to pick the driver.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual import constants
from textual._xterm_parser import XTermParser
from textual.drivers.headless_driver import HeadlessDriver

from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.quiet_driver import QuietLinuxDriver, pending_wait

DEADLINE_S = 20.0

#: Writes the native id of its input thread to ``argv[1]`` once mounted, then each key it gets (one per line) to
#: ``argv[2]``; "q" quits. Idle, it has no timer: only the driver's own threads could wake it.
KEY_APP = textwrap.dedent(
    """
    import sys, threading
    from textual.app import App
    from textual.widgets import Label
    from shiftboard.tui.quiet_driver import QuietLinuxDriver

    class Keys(App):
        def compose(self):
            yield Label("ready")

        def on_mount(self):
            thread = next(t for t in threading.enumerate() if t.name == "textual-input")
            with open(sys.argv[1], "w") as out:
                out.write(f"{thread.native_id}\\n")

        def on_key(self, event):
            with open(sys.argv[2], "a") as out:
                out.write(event.key + "\\n")
            if event.key == "q":
                self.exit()

    Keys(driver_class=QuietLinuxDriver).run()
    """
)


def test_parser_with_nothing_pending_lets_the_thread_sleep_without_limit():
    assert pending_wait(XTermParser()) is None


def test_a_lone_escape_wakes_the_thread_when_it_falls_due():
    parser = XTermParser()
    assert list(parser.feed("\x1b")) == []  # it could still be the start of a sequence
    wait = pending_wait(parser)
    assert wait is not None and wait > 0
    deadline = time.monotonic() + DEADLINE_S
    while (wait := pending_wait(parser)) != 0.0:
        assert time.monotonic() < deadline
        time.sleep(wait)
    assert [event.key for event in parser.tick()] == ["escape"]
    assert pending_wait(parser) is None


class KeyApp:
    """KEY_APP running on a pseudo-terminal."""

    def __init__(self, tmp_path: Path) -> None:
        self.thread_file, self.keys_file = tmp_path / "input-thread", tmp_path / "keys"
        script = tmp_path / "key_app.py"
        script.write_text(KEY_APP, encoding="utf-8")
        master, slave = pty.openpty()
        env = dict(os.environ, TERM="xterm-256color", COLUMNS="80", LINES="24")
        env.pop("TEXTUAL_DRIVER", None)
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(self.thread_file), str(self.keys_file)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        # The app's output is read and dropped, so its writes never block on a full terminal.
        threading.Thread(target=self._drain, daemon=True).start()
        self.input_thread = int(self.wait_for(self.thread_file, lambda text: text.endswith("\n")))

    def _drain(self) -> None:
        try:
            while os.read(self.master, 65536):
                pass
        except OSError:
            pass

    def wait_for(self, path: Path, condition) -> str:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            text = path.read_text() if path.exists() else ""
            if condition(text):
                return text
            assert self.process.poll() is None, f"the app ended with {self.process.returncode}"
            time.sleep(0.02)
        raise AssertionError(f"{path.name} never met the condition; it holds {text!r}")

    def keys(self) -> list[str]:
        return self.keys_file.read_text().split() if self.keys_file.exists() else []

    def wait_keys(self, count: int) -> list[str]:
        self.wait_for(self.keys_file, lambda text: len(text.split()) >= count)
        return self.keys()

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wake_ups(self) -> int:
        """Times the input thread has gone to sleep and been woken (its voluntary context switches)."""
        status = Path(f"/proc/{self.process.pid}/task/{self.input_thread}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("voluntary_ctxt_switches")).split()[1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def key_app(tmp_path: Path) -> Iterator[KeyApp]:
    app = KeyApp(tmp_path)
    yield app
    app.stop()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts the thread's wake-ups in /proc")
def test_input_thread_sleeps_while_there_is_no_input(key_app):
    key_app.type("a")
    assert key_app.wait_keys(1) == ["a"]
    before = key_app.wake_ups()
    # Textual's own driver wakes this thread ten times in this second.
    time.sleep(1.0)
    assert key_app.wake_ups() - before <= 1


def test_keys_and_a_lone_escape_arrive_and_q_quits(key_app):
    key_app.type("a")
    assert key_app.wait_keys(1) == ["a"]
    key_app.type("\x1b")  # nothing follows: once the parser's delay passes, it is the Escape key
    assert key_app.wait_keys(2) == ["a", "escape"]
    key_app.type("\x1b[A")  # a sequence that starts with Escape is one key
    assert key_app.wait_keys(3) == ["a", "escape", "up"]
    key_app.type("q")
    assert key_app.process.wait(DEADLINE_S) == 0
    assert key_app.keys() == ["a", "escape", "up", "q"]


def test_keys_arrive_after_a_suspend_and_resume(key_app):
    """Ctrl+Z's path: the driver stops its input thread (the wake-up pipe ends its wait) and starts a new one."""
    key_app.type("a")
    key_app.wait_keys(1)
    key_app.process.send_signal(signal.SIGTSTP)
    deadline = time.monotonic() + DEADLINE_S
    while Path(f"/proc/{key_app.process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "T":
        assert time.monotonic() < deadline, "the app never stopped"
        time.sleep(0.02)
    key_app.process.send_signal(signal.SIGCONT)
    key_app.type("b")
    assert key_app.wait_keys(2) == ["a", "b"]
    key_app.type("q")
    assert key_app.process.wait(DEADLINE_S) == 0


def test_board_uses_the_quiet_driver_unless_another_is_named(monkeypatch, settings, seeded):
    monkeypatch.setattr(constants, "DRIVER", None)
    assert ShiftboardApp(settings, seeded, []).get_driver_class() is QuietLinuxDriver
    # textual-serve names its own driver for the browser
    monkeypatch.setattr(constants, "DRIVER", "textual.drivers.headless_driver:HeadlessDriver")
    assert ShiftboardApp(settings, seeded, []).get_driver_class() is HeadlessDriver
