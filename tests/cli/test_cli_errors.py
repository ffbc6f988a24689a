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


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("[cache]\nretention = 3\n", "cache.retention: unknown key"),
        ("[[sources]]\nname = 'pbx'\nkind = 'files'\npath = '*.csv'\ncolour = 'red'\n", "colour: unknown key"),
        ("[board]\nrefresh_s = 'often'\n", "board.refresh_s: Input should be a valid number"),
        (
            "[[sources]]\nname = 'pbx'\nkind = 'files'\npath = '*.csv'\ninterval_s = 'soon'\n",
            "interval_s: Input should",
        ),
        ("[[sources]]\nname = 'x'\nkind = 'telepathy'\n", "unknown kind 'telepathy'"),
        (
            "[[sources]]\nname = 'desk'\nkind = 'freshdesk'\nurl = 'http://127.0.0.1:9'\n"
            "token_env = 'SB_TEST_NO_SUCH_VAR'\n",
            "('desk').token_env: environment variable SB_TEST_NO_SUCH_VAR is not set",
        ),
        ("[cache\npath = 'x'\n", "not valid TOML"),
    ],
)
@pytest.mark.parametrize("command", ["snapshot", "collect", "doctor"])
def test_each_config_problem_is_one_line_and_exit_2(shiftboard, config, expected, command):
    path = shiftboard.config(config)
    result = shiftboard(command, "--config", str(path), timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"shiftboard: config: {path}"), result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_a_set_token_variable_is_accepted_and_never_echoed(shiftboard):
    shiftboard.env["SB_TEST_TOKEN"] = "sekrit-value-42"
    path = shiftboard.config(
        f"[cache]\npath = '{shiftboard.home / 'c.sqlite'}'\n"
        "[[sources]]\nname = 'desk'\nkind = 'freshdesk'\nurl = 'http://127.0.0.1:9'\ntoken_env = 'SB_TEST_TOKEN'\n"
        "max_retries = 0\n"
    )
    result = shiftboard("snapshot", "--json", "--config", str(path), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "sekrit-value-42" not in result.stdout + result.stderr


@pytest.mark.parametrize("kind", ["directory", "binary"])
def test_an_unreadable_config_file_is_one_line_and_exit_2(shiftboard, kind):
    if kind == "directory":
        path = shiftboard.home / "conf.toml"
        path.mkdir()
        expected = "is a directory"
    else:
        path = shiftboard.home / "conf.toml"
        path.write_bytes(b"\xff\xfe[cache]\n")
        expected = "not UTF-8"
    result = shiftboard("snapshot", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"shiftboard: config: {path}: {expected}" or expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("at", ["yesterday", "2026-13-40T99:00", ""])
def test_a_bad_at_is_one_line_and_exit_2(shiftboard, at):
    for args in (("snapshot", "--at", at), ("board", "--at", at), ("--at", at)):
        result = shiftboard(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.strip().splitlines() == [
            f"shiftboard: --at/--since: not an ISO-8601 time: {at!r} (e.g. 2026-11-22T14:30:00+01:00)"
        ]
