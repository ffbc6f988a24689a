"""The layering contract covers every core module, and importing the core does not load Textual."""

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import shiftboard

ROOT = Path(__file__).resolve().parents[2]
# cli opens the board on request (a lazy import); tui is the board itself.
ALLOWED_TO_IMPORT_TUI = {"shiftboard.cli", "shiftboard.tui", "shiftboard.adapters"}


def _contract(name: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return next(c for c in config["tool"]["importlinter"]["contracts"] if c["name"].startswith(name))


def test_every_core_module_is_under_the_no_textual_contract():
    listed = set(_contract("Core and adapters")["source_modules"])
    core = {
        f"shiftboard.{m.name}"
        for m in pkgutil.iter_modules(shiftboard.__path__)
        if f"shiftboard.{m.name}" not in ALLOWED_TO_IMPORT_TUI and m.name != "__main__"
    }
    assert core - listed == set(), "add these modules to the import-linter contract in pyproject.toml"
    assert "shiftboard.adapters" in listed


def test_headless_commands_do_not_load_textual():
    code = (
        "import sys, shiftboard.cli, shiftboard.collector, shiftboard.metrics;"
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
