"""SteadyFooter looks like Textual's Footer, follows the keys, repaints only when they change, and presses a key
that is clicked."""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from shiftboard.tui.widgets.steady_footer import SteadyFooter
from tests.tui.conftest import until


class Plain(Widget, can_focus=True):
    DEFAULT_CSS = "Plain { height: 1; }"  # nothing to scroll: focusing a widget would animate a scroll bar
    BINDINGS = [Binding("j", "noop", "Hidden", show=False, id="test-hidden")]


class Extra(Widget, can_focus=True):
    DEFAULT_CSS = "Extra { height: 1; }"
    BINDINGS = [Binding("x", "extra", "Extra", id="test-extra")]


class Demo(App[None]):
    BINDINGS = [
        Binding("a", "always", "Always", id="test-always"),
        Binding("b", "never", "Never possible", id="test-never"),
        Binding("ctrl+y", "always", "Same action again", id="test-again"),
    ]

    def __init__(self, footer: type[Widget] = SteadyFooter) -> None:
        super().__init__()
        self.footer = footer
        self.pressed: list[str] = []

    def compose(self) -> ComposeResult:
        yield Plain(id="one")
        yield Plain(id="two")
        yield Extra(id="extra")
        yield self.footer()

    def action_always(self) -> None:
        self.pressed.append("always")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "never" else True  # shown, but disabled (dim)


def _shown(app: App) -> list[str]:
    return [entry.description for entry in app.screen.query_one(SteadyFooter).entries]


def _drawn(app: App) -> list[str]:
    """The keys either footer shows."""
    if app.screen.query(SteadyFooter):
        return _shown(app)
    return [key.description for key in app.screen.query(FooterKey)]


@pytest.mark.parametrize(
    ("size", "hover", "theme"),
    [
        ((100, 6), None, None),
        ((40, 6), None, None),
        ((100, 6), 3, None),
        ((100, 6), 1000, None),
        ((100, 6), 3, "ansi-dark"),
        ((100, 6), 1000, "ansi-dark"),
    ],
)
async def test_it_draws_what_textuals_footer_draws(size, hover, theme):
    """Same screen with either footer, cell for cell and colour for colour: at 40 columns the keys are cut off
    before the command palette's key; the mouse over the first key, then over the palette's; the ANSI theme."""
    shots = []
    for footer in (Footer, SteadyFooter):
        app = Demo(footer)
        if theme:
            app.theme = theme
        async with app.run_test(size=size, tooltips=False) as pilot:
            app.query_one("#extra").focus()
            await until(pilot, lambda app=app: "Extra" in _drawn(app))
            if hover is not None:
                await pilot.hover(offset=(min(hover, size[0] - 1), size[1] - 1))
                await pilot.hover(offset=(min(hover, size[0] - 1), size[1] - 1))
            await pilot.pause()
            # Contiguous cells of one style as one run (Footer's widgets split them); the SVG's class names hash
            # the content's length, not its cells.
            shots.append(re.sub(r"terminal-\d+", "terminal", app.export_screenshot(simplify=True)))
    assert shots[0] == shots[1]


async def test_footer_follows_the_keys_and_repaints_only_when_they_change():
    app = Demo()
    async with app.run_test() as pilot:
        footer = app.query_one(SteadyFooter)
        await until(pilot, lambda: "Always" in _shown(app))
        assert "Extra" not in _shown(app) and "Hidden" not in _shown(app)
        assert "Same action again" not in _shown(app)  # one key per action, as in Footer
        repaints = []
        footer.refresh = lambda *args, **kwargs: repaints.append(1)  # type: ignore[method-assign]

        app.query_one("#two").focus()  # other hidden keys only: the footer stays as it is
        await pilot.pause()
        await pilot.pause()
        assert repaints == []
        del footer.refresh

        app.query_one("#extra").focus()  # a key to show
        await until(pilot, lambda: "Extra" in _shown(app))
        app.query_one("#one").focus()
        await until(pilot, lambda: "Extra" not in _shown(app))
        assert "Always" in _shown(app)


async def test_a_footer_behind_another_screen_is_brought_up_to_date_when_it_is_in_front_again():
    app = Demo()
    async with app.run_test() as pilot:
        base = app.screen
        app.query_one("#extra").focus()
        await until(pilot, lambda: "Extra" in _shown(app) and "Always" in _shown(app))
        footer = base.query_one(SteadyFooter)
        await app.push_screen(Screen())
        base.set_focus(base.query_one("#one"))  # its keys change while it is out of sight
        await pilot.pause()
        await pilot.pause()
        assert "Extra" in [entry.description for entry in footer.entries]
        app.pop_screen()
        await until(pilot, lambda: "Extra" not in _shown(app))
        assert "Always" in _shown(app)


async def test_a_click_on_a_key_presses_it_and_a_disabled_key_does_nothing():
    app = Demo()
    async with app.run_test(size=(100, 6)) as pilot:
        await until(pilot, lambda: "Always" in _shown(app))
        footer = app.query_one(SteadyFooter)
        text = footer.render().plain  # " a Always  b Never possible  ..."
        await pilot.click(SteadyFooter, offset=(text.index("Always"), 0))
        await until(pilot, lambda: app.pressed == ["always"])
        await pilot.click(SteadyFooter, offset=(text.index("Never"), 0))
        await pilot.pause()
        assert app.pressed == ["always"]
