"""Run the real ``shiftboard`` command in a subprocess, isolated from the user's config and cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


class Shiftboard:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "NO_COLOR": "1",
        }
        self.env.pop("SHIFTBOARD_CONFIG", None)

    def __call__(self, *args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shiftboard", *args],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "shiftboard", *args],
            cwd=self.home,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def config(self, text: str, name: str = "shiftboard.toml") -> Path:
        path = self.home / name
        path.write_text(text)
        return path


@pytest.fixture
def shiftboard(tmp_path: Path) -> Shiftboard:
    home = tmp_path / "home"
    home.mkdir()
    return Shiftboard(home)
