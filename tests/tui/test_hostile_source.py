"""Hostile text through a real files source, the real collector and the real app: every screen shows it literally,
nothing in it is run (a [@click=app.quit] stays text), and no escape sequence reaches the terminal. ``snapshot``
prints none either."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from rich.text import Text

from shiftboard.adapters.files import FilesSettings
from shiftboard.collector import Collector
from shiftboard.config import Settings
from shiftboard.model import format_time
from shiftboard.store import Store
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.screens.detail import DetailScreen
from shiftboard.tui.screens.help import HelpScreen
from shiftboard.tui.screens.rows import RowsScreen
from shiftboard.tui.widgets.board_header import BoardHeader
from shiftboard.tui.widgets.row_table import RowTable
from tests.tui.conftest import until

MARKUP = ("[/bold]", "[link=https://evil.example]x[/link]", "[@click=app.quit]x[/]", "[$accent]x[/]")
HOSTILE = (
    *MARKUP,
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;https://evil.example\x07osc-link\x1b]8;;\x07",
    "\x1b]0;pwned-title\x07",
    "bidi \u202eevil\u202c",
    "nul\x00byte",
    "W" * 10_000,
    "wide 👩‍👩‍👧‍👦🎉 emoji",
)
#: What must never reach a widget or a terminal: ESC, BEL, NUL and the bidi override.
FORBIDDEN = ("\x1b", "\x07", "\x00", "\u202e")


def _lines(now: float) -> bytes:
    lines = []
    for i, text in enumerate(HOSTILE):
        queue = text if i < len(MARKUP) else f"Q{i}"
        created = format_time(now - 3600 + i)
        lines.append({"type": "case", "id": f"C{i}", "queue": queue, "status": "open", "created_at": created,
                      "subject": text, "customer": text})  # fmt: skip
        lines.append({"type": "contact", "id": f"K{i}", "queue": queue, "offered_at": format_time(now - 60 - i),
                      "customer": text})  # fmt: skip
        lines.append({"type": "agent_state", "agent": f"a{i}", "state": "available", "since": created,
                      "name": text, "queues": [queue]})  # fmt: skip
        lines.append({"type": "rating", "id": f"R{i}", "kind": "csat", "score": 4, "scale_max": 5, "scale_min": 1,
                      "rated_at": created, "queue": queue, "comment": text})  # fmt: skip
    data = b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)
    # Bytes no JSON encoder writes: invalid UTF-8 and a raw NUL. Each line is skipped and counted; the rest stays.
    data += b'{"type": "case", "id": "BAD1", "queue": "Q", "status": "open", "subject": "caf\xe9 \xff"}\n'
    data += b'{"type": "case", "id": "BAD2", "queue": "Q", "status": "open", "subject": "a\x00b"}\n'
    return data


def _check(text: str) -> None:
    for char in FORBIDDEN:
        assert char not in text, repr(char)


async def test_hostile_text_from_a_files_source_is_literal_on_every_screen(tmp_path: Path):
    now = time.time()
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "hostile.jsonl").write_bytes(_lines(now))
    settings = Settings(
        cache={"path": str(tmp_path / "cache.sqlite")},
        # A rolling window, not "today": the records are an hour old, which is yesterday just after midnight.
        metrics={"timezone": "UTC", "window": "240m"},
        board={"refresh_s": 1},
    )
    source = FilesSettings(name="evil[/b]", kind="files", path=str(exports / "*.jsonl"))
    with Store(settings.cache.resolved_path()) as store:
        [outcome] = Collector(store, [source]).sync_once()
        assert outcome.error is None and outcome.skipped == 2 and outcome.records == 4 * len(HOSTILE)
        app = ShiftboardApp(settings, store, [source])
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: app.data is not None and len(app.data.queue_names) >= len(MARKUP))
            names = app.data.queue_names
            for number, queue in enumerate(names[:9], start=1):
                await pilot.press(str(number))
                header = str(app.screen.query_one(BoardHeader).content)
                _check(header)
                if queue in MARKUP:
                    assert queue in header  # literally, not as markup
            header = str(app.screen.query_one(BoardHeader).content)
            assert "evil[/b]" in header and "2 skipped" in header
            await pilot.press("0")
            svg = app.export_screenshot()
            _check(svg)

            for figure in ("backlog_open", "waiting_now", "agents_available", "csat_pct"):
                app.action_drill(figure)
                await until(pilot, lambda: isinstance(app.screen, RowsScreen) and app.screen.loaded)
                table = app.screen.query_one(RowTable)
                cells = [cell for i in range(table.row_count) for cell in table.get_row_at(i)]
                assert cells and all(isinstance(cell, Text) and not cell.spans for cell in cells)
                shown = " ".join(cell.plain for cell in cells)
                _check(shown)
                for markup in MARKUP:
                    assert markup in shown, (figure, markup)
                assert "wide 👩‍👩‍👧‍👦🎉 emoji" in shown
                assert max(len(cell.plain) for cell in cells) <= 80  # the 10 kB string is cut in a cell
                svg = app.export_screenshot()
                _check(svg)
                # A click on the rows holding markup (written first: the oldest), then each one's detail.
                for row in range(min(table.row_count, len(MARKUP) + 1)):
                    table.move_cursor(row=row)
                    await pilot.click(RowTable, offset=(4, row + 1))
                    table.focus()
                    await pilot.press("enter")
                    await until(pilot, lambda: isinstance(app.screen, DetailScreen))
                    detail = str(app.screen.query_one("#detail").content)
                    _check(detail)
                    await pilot.click("#detail", offset=(30, 3))
                    await pilot.press("escape")
                    await until(pilot, lambda: isinstance(app.screen, RowsScreen))
                    table = app.screen.query_one(RowTable)
                await pilot.press("escape")
                assert app.is_running

            for text in HOSTILE:
                app.notify(text, markup=False)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            _check(app.export_screenshot())
            await pilot.press("escape")
            await pilot.pause()
            _check(app.export_screenshot())
            assert app.is_running and app.return_code is None


def test_snapshot_to_a_terminal_prints_no_escape_sequences(tmp_path: Path):
    now = time.time()
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "hostile.jsonl").write_bytes(_lines(now))
    config = tmp_path / "shiftboard.toml"
    config.write_text(
        f"[cache]\npath = '{tmp_path / 'c.sqlite'}'\n[[sources]]\nname = 'evil'\nkind = 'files'\n"
        f"path = '{exports}/*.jsonl'\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm-256color"}
    for args in (("snapshot",), ("snapshot", "--json", "--no-sync")):
        controller, terminal = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "shiftboard", *args, "--config", str(config)],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            env=env,
        )
        os.close(terminal)
        output = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the process is done writing
                break
            if not chunk:
                break
            output += chunk
        os.close(controller)
        assert process.wait(timeout=60) == 0, output[-2000:]
        assert output, args
        for byte in (b"\x1b", b"\x07", b"\x00", "\u202e".encode()):
            assert byte not in output, (args, byte)
        if "--json" in args:
            document = json.loads(output.decode().replace("\r\n", "\n"))
            assert any(queue in document["queues"] for queue in MARKUP)
