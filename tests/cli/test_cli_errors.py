"""Bad arguments and configuration: one clear line per problem, exit code 2, never a traceback."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("snapshot", "--at", "yesterday"), "not an ISO-8601 time: 'yesterday'"),
        (("snapshot", "--at", "2026-11-22T10:00:00Z", "--since", "2026-11-22T11:00:00Z"), "--since must be before"),
        (("collect", "--metrics-port", "http"), "not a port number"),
        (("serve", "--port", "70000"), "port out of range"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_arguments(shiftboard, args, expected):
    result = shiftboard(*args)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_lists_every_problem_and_exits_2(shiftboard):
    path = shiftboard.config(
        "[board]\nrefresh = 2\n[[sources]]\nname = 'desk'\nkind = 'zendsk'\n[metrics]\nwindow = 'always'\n"
    )
    result = shiftboard("snapshot", "--config", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) >= 2
    assert all(line.startswith(f"shiftboard: config: {path}") for line in lines)
    assert any("board.refresh: unknown key" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_unreadable_config_file_exits_2(shiftboard):
    result = shiftboard("doctor", "--config", str(shiftboard.home / "nope.toml"))
    assert result.returncode == 2
    assert "nope.toml: no such file" in result.stderr


def test_cache_from_a_newer_version_exits_3_and_is_untouched(shiftboard):
    import sqlite3

    cache = shiftboard.home / "cache.sqlite"
    with sqlite3.connect(cache) as conn:
        conn.execute("PRAGMA user_version = 999")
    before = cache.read_bytes()
    path = shiftboard.config(f"[cache]\npath = '{cache}'\n")
    result = shiftboard("snapshot", "--no-sync", "--config", str(path))
    assert result.returncode == 3
    assert "newer shiftboard" in result.stderr and "Traceback" not in result.stderr
    assert cache.read_bytes() == before
