"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shiftboard.adapters.base import AdapterContext
from shiftboard.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real, empty cache file in a temporary folder."""
    with Store(tmp_path / "cache.sqlite") as opened:
        yield opened


@pytest.fixture
def instant_context() -> AdapterContext:
    """An adapter context whose retry sleeps return at once (the waits asked for are recorded)."""
    waits: list[float] = []
    context = AdapterContext(sleep=waits.append)
    context.waits = waits  # type: ignore[attr-defined]
    return context
