"""The commented Zendesk and Twilio examples in config.example.toml, uncommented, are valid configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shiftboard.config import load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def example_block(kind: str) -> str:
    """The commented ``[[sources]]`` block whose kind is ``kind``, uncommented."""
    blocks = re.split(r"\n(?=# \[\[sources\]\])", EXAMPLE.read_text(encoding="utf-8"))
    [block] = [b for b in blocks if f'# kind = "{kind}"' in b]
    lines = [line[2:] for line in block.splitlines() if line.startswith("# ") and not line.startswith("# (")]
    return "\n".join(line for line in lines if re.match(r"\[\[sources\]\]|\w+ = ", line))


@pytest.mark.parametrize("kind", ["zendesk", "twilio_taskrouter"])
def test_example_block_is_valid(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "shiftboard.toml"
    path.write_text(example_block(kind), encoding="utf-8")
    [source] = load_settings(path, environ={}).source_settings()
    assert source.kind == kind
