"""An unknown binding id in ``[keys]`` stops the board before it starts: one line, exit code 2."""

from __future__ import annotations


def test_unknown_binding_id_exits_2_with_one_line(shiftboard):
    cache = shiftboard.home / "cache.sqlite"
    path = shiftboard.config(f"[cache]\npath = '{cache}'\n[keys]\nquit = 'x'\nrewnid-back = 'b'\n")
    result = shiftboard("--config", str(path), timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"shiftboard: config: {path}: keys.rewnid-back: unknown binding id; expected one of")
    assert "rewind-back" in lines[0]
    assert "Traceback" not in result.stderr
    result = shiftboard("board", "--config", str(path), "--at", "2026-11-23T09:00:00Z", timeout=60)
    assert result.returncode == 2 and "keys.rewnid-back" in result.stderr
