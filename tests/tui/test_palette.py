"""The command palette: board actions, jumps to a queue, an agent or a case, and hostile subjects shown literally."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.content import Content
from textual.fuzzy import Matcher

from shiftboard import drilldown
from shiftboard.model import Batch, Case
from shiftboard.tui.app import ShiftboardApp
from shiftboard.tui.palette import highlight
from shiftboard.tui.screens.board import BoardScreen
from shiftboard.tui.screens.detail import DetailScreen
from shiftboard.tui.screens.rows import RowsScreen
from shiftboard.tui.widgets.row_table import RowTable
from tests.tui.conftest import until
from tests.tui.seed import NOW, write

HOSTILE = ("refund [/bold] please", "[@click=app.quit]x[/]")


def options(app: ShiftboardApp) -> list[str]:
    command_list = app.screen.query_one(CommandList)
    found = [getattr(command_list.get_option_at_index(i), "hit", None) for i in range(command_list.option_count)]
    return [str(hit.text) if hit is not None else "" for hit in found]


async def choose(pilot, app: ShiftboardApp, query: str, title_start: str, key: str = "ctrl+p") -> Content:
    """Open the palette, type ``query``, pick the hit whose text starts with ``title_start``; return its prompt."""
    await pilot.press(key)
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*query)
    await until(pilot, lambda: any(text.startswith(title_start) for text in options(app)))
    command_list = app.screen.query_one(CommandList)
    index = next(i for i, text in enumerate(options(app)) if text.startswith(title_start))
    prompt = command_list.get_option_at_index(index).prompt
    command_list.highlighted = index
    await pilot.press("enter")
    await pilot.pause()
    return prompt


async def test_palette_runs_board_actions(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await choose(pilot, app, "sales", "Queue: Sales", key="colon")
        assert isinstance(app.screen, BoardScreen)
        assert app.queue == "Sales"
        await choose(pilot, app, "rewind", "Rewind one step")
        assert app.at == NOW - 300
        await choose(pilot, app, "live", "Back to live")
        assert app.at is None
        await choose(pilot, app, "queue all", "Queue: all")
        assert app.queue is None
        await choose(pilot, app, "rows behind open", "Rows behind Open cases")
        await until(pilot, lambda: isinstance(app.screen, RowsScreen) and app.screen.loaded)
        table = app.screen.query_one(RowTable)
        assert [k.split("\x1f")[1] for k in table.row_keys] == ["C-1", "C-2", "C-3", "C-4"]
        # From a drilled table, a queue jump returns to the board.
        await choose(pilot, app, "billing", "Queue: Billing")
        assert isinstance(app.screen, BoardScreen) and app.queue == "Billing"
        reads = app.reads
        await choose(pilot, app, "refresh", "Refresh")
        await until(pilot, lambda: app.reads > reads)


async def test_palette_jumps_to_a_case_and_an_agent(settings, seeded):
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await choose(pilot, app, "quote", "Case C-4")
        assert isinstance(app.screen, DetailScreen)
        await until(pilot, lambda: "Quote please" in str(app.screen.query_one("#detail").content))
        assert "urgent" in str(app.screen.query_one("#detail").content)
        await pilot.press("escape")
        await choose(pilot, app, "agent two", "Agent Agent Two (ag2)")
        assert isinstance(app.screen, DetailScreen)
        await until(pilot, lambda: "available" in str(app.screen.query_one("#detail").content))


async def test_hostile_subjects_are_literal_in_the_palette(settings, seeded):
    write(
        seeded,
        Batch(
            cases=[
                Case("seed", f"H-{i}", "Billing", "open", "normal", NOW - 600, subject=s) for i, s in enumerate(HOSTILE)
            ]
        ),
    )
    app = ShiftboardApp(settings, seeded, [], clock=lambda: NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.data is not None)
        await pilot.press("ctrl+p", *"h-")
        await until(pilot, lambda: sum(text.startswith("Case H-") for text in options(app)) == 2)
        command_list = app.screen.query_one(CommandList)
        prompts = [str(command_list.get_option_at_index(i).prompt) for i in range(command_list.option_count)]
        assert any("Case H-0: refund [/bold] please" in p for p in prompts)
        assert any("Case H-1: [@click=app.quit]x[/]" in p for p in prompts)
        # Clicking the hostile line opens the case; nothing in it is an action.
        index = next(i for i, text in enumerate(options(app)) if text.startswith("Case H-1"))
        command_list.highlighted = index
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await until(pilot, lambda: "[@click=app.quit]x[/]" in str(app.screen.query_one("#detail").content))
        await pilot.click("#detail", offset=(20, 3))
        await pilot.pause()
        assert app.is_running and app.return_code is None


def test_highlight_never_reads_markup():
    for subject in (*HOSTILE, "[$accent]x[/]", "[link=https://evil.example]x[/link]"):
        content = highlight(Matcher("x"), subject)
        assert content.plain == subject
        assert all(span.style is not None and "click" not in str(span.style) for span in content.spans)


def test_search_finds_cases_and_agents_with_a_limit(seeded):
    rows = drilldown.search(seeded, "c-", NOW)
    assert [(r["kind"], r["id"]) for r in rows] == [("case", f"C-{n}") for n in (1, 2, 3, 4, 5)]
    assert [r["id"] for r in drilldown.search(seeded, "C-5", NOW)] == ["C-5"]
    assert len(drilldown.search(seeded, "c-", NOW, limit=2)) == 2
    agents = drilldown.search(seeded, "agent t", NOW)
    assert [(r["kind"], r["agent"], r["name"]) for r in agents] == [
        ("agent", "ag2", "Agent Two"),
        ("agent", "ag3", "Agent Three"),
    ]
    assert drilldown.search(seeded, "%", NOW) == []  # LIKE wildcards are literal
    assert drilldown.search(seeded, "  ", NOW) == []
    # A solved case from a month ago: found by its exact id, not by a piece of its subject.
    old = Case(
        "seed", "OLD-7", "Sales", "solved", "low", NOW - 30 * 86400, solved_at=NOW - 29 * 86400, subject="Ancient"
    )
    write(seeded, Batch(cases=[old]))
    assert [r["id"] for r in drilldown.search(seeded, "OLD-7", NOW)] == ["OLD-7"]
    assert drilldown.search(seeded, "ancient", NOW) == []
    assert [r["id"] for r in drilldown.search(seeded, "ancient", NOW - 29 * 86400)] == ["OLD-7"]
