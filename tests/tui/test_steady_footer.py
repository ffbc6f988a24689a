"""SteadyFooter shows the same keys as Textual's Footer, rebuilds when they change, and not when they don't."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets._footer import FooterKey

from shiftboard.tui.widgets.steady_footer import SteadyFooter
from tests.tui.conftest import until


class Plain(Widget, can_focus=True):
    BINDINGS = [Binding("j", "noop", "Hidden", show=False, id="test-hidden")]


class Extra(Widget, can_focus=True):
    BINDINGS = [Binding("x", "extra", "Extra", id="test-extra")]


class Demo(App[None]):
    BINDINGS = [Binding("a", "always", "Always", id="test-always")]

    def compose(self) -> ComposeResult:
        yield Plain(id="one")
        yield Plain(id="two")
        yield Extra(id="extra")
        yield SteadyFooter()


def _shown(app: App) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


async def test_footer_follows_the_keys_and_skips_needless_rebuilds():
    app = Demo()
    async with app.run_test() as pilot:
        footer = app.query_one(SteadyFooter)
        await until(pilot, lambda: "Always" in _shown(app))
        assert "Extra" not in _shown(app) and "Hidden" not in _shown(app)
        built = app.query_one(FooterKey)

        app.query_one("#two").focus()  # other hidden keys only: the footer stays as it is
        await pilot.pause()
        await pilot.pause()
        assert not footer._pending
        assert app.query_one(FooterKey) is built

        app.query_one("#extra").focus()  # a key to show: rebuilt
        await until(pilot, lambda: "Extra" in _shown(app))
        app.query_one("#one").focus()
        await until(pilot, lambda: "Extra" not in _shown(app))
        assert "Always" in _shown(app)


async def test_a_footer_behind_another_screen_is_rebuilt_when_it_is_in_front_again():
    from textual.screen import Screen

    app = Demo()
    async with app.run_test() as pilot:
        base = app.screen
        app.query_one("#extra").focus()
        await until(pilot, lambda: "Extra" in _shown(app) and "Always" in _shown(app))
        built = base.query_one(FooterKey)
        await app.push_screen(Screen())
        base.set_focus(base.query_one("#one"))  # its keys change while it is out of sight
        await pilot.pause()
        await pilot.pause()
        assert base.query_one(FooterKey) is built
        app.pop_screen()
        await until(pilot, lambda: "Extra" not in _shown(app))
        assert "Always" in _shown(app)
