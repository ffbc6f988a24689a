"""The commented Freshdesk, LiveAgent, Groove and HubSpot examples in config.example.toml are valid configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shiftboard.config import ConfigError, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
KINDS = ("freshdesk", "liveagent", "groove", "hubspot")


def example_block(kind: str) -> str:
    """The commented ``[[sources]]`` block of ``kind``, uncommented."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line == f'# kind = "{kind}"') - 2
    block: list[str] = []
    for line in lines[start:]:
        if not line.startswith("# ") and block:
            break
        block.append(re.sub(r"^# ?", "", line))
    return "\n".join(block)


@pytest.mark.parametrize("kind", KINDS)
def test_the_example_block_loads(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "shiftboard.toml"
    path.write_text(example_block(kind), encoding="utf-8")
    [source] = load_settings(path, environ={}).source_settings()
    assert source.kind == kind and source.name == kind
    assert source.url.startswith("https://")  # type: ignore[attr-defined]


def test_freshdesk_status_map_keys_are_codes(tmp_path: Path) -> None:
    path = tmp_path / "shiftboard.toml"
    path.write_text(example_block("freshdesk"), encoding="utf-8")
    [source] = load_settings(path, environ={}).source_settings()
    assert source.status_map == {6: "on_hold", 7: "pending"}  # type: ignore[attr-defined]


def test_an_unknown_status_is_refused_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "shiftboard.toml"
    path.write_text(example_block("hubspot").replace('"on_hold"', '"parked"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={}).source_settings()
    assert "stage_map" in str(caught.value)
