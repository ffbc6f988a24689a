"""Keys from config: every binding of the board has an id, and ``[keys]`` maps ids to keys (``App.set_keymap``).

The ids are gathered from the bindings themselves (every widget, screen and the app under shiftboard.tui), so a new
screen's keys are remappable as soon as it exists, and an id in ``[keys]`` that no binding has is caught before the
board starts.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def tui_classes() -> list[type[DOMNode]]:
    """Every app, screen and widget class defined under shiftboard.tui (importing each module first)."""
    import shiftboard.tui

    for module in pkgutil.walk_packages(shiftboard.tui.__path__, "shiftboard.tui."):
        importlib.import_module(module.name)
    return [cls for cls in set(_subclasses(DOMNode)) if cls.__module__.startswith("shiftboard.tui.")]


def bindings() -> list[tuple[type[DOMNode], Binding | object]]:
    """Each binding a shiftboard.tui class declares itself (not those it inherits), with its class."""
    found = []
    for cls in sorted(tui_classes(), key=lambda c: (c.__module__, c.__qualname__)):
        for binding in cls.__dict__.get("BINDINGS", ()):
            found.append((cls, binding))
    return found


def binding_ids() -> dict[str, str]:
    """Binding id → what it does, for every binding on the board."""
    return {b.id: b.description or b.action for _, b in bindings() if isinstance(b, Binding) and b.id}


def keymap_problems(keys: Mapping[str, str], origin: Path | None) -> list[str]:
    """One line per ``[keys]`` entry naming no binding (the config error shiftboard exits 2 on)."""
    known = binding_ids()
    where = str(origin) if origin else "settings"
    return [
        f"{where}: keys.{name}: unknown binding id; expected one of {', '.join(sorted(known))}"
        for name in keys
        if name not in known
    ]
