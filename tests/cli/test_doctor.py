"""``shiftboard doctor`` run as a user would: one line per check, each saying what to fix.

A good simulator config passes; a source whose token variable is unset, and one whose url is a closed loopback port,
fail with the fix named; the cache lines give path, schema, size, records and each source's last sync.
"""

from __future__ import annotations

import socket

from shiftboard.store import SCHEMA_VERSION


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on leaving: nothing listens there


def test_a_good_simulator_config_passes(shiftboard):
    cache = shiftboard.home / "cache.sqlite"
    path = shiftboard.config(f"[cache]\npath = '{cache}'\n[[sources]]\nname = 'sim'\nkind = 'simulator'\n")
    assert shiftboard("snapshot", "--config", str(path)).returncode == 0  # one sync fills the cache
    result = shiftboard("doctor", "--config", str(path), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"config: ok {path}; 1 source(s)"
    assert lines[1].startswith("source sim (simulator): ok ")
    assert lines[2].startswith(f"cache: ok {cache}: writable, schema {SCHEMA_VERSION} (current), ")
    assert " MB, " in lines[2] and " records (cases " in lines[2]
    assert lines[3].startswith("cache: source sim: ok last sync ")
    assert len(lines) == 4
    assert all(" FAIL " not in line for line in lines)


def test_missing_token_and_unreachable_url_say_what_to_fix(shiftboard):
    cache = shiftboard.home / "cache.sqlite"
    port = closed_port()
    shiftboard.env.pop("SB_DOCTOR_MISSING", None)
    shiftboard.env["SB_DOCTOR_TOKEN"] = "not-a-real-token"
    path = shiftboard.config(
        f"""[cache]
path = '{cache}'
[[sources]]
name = 'desk'
kind = 'zendesk'
url = 'http://127.0.0.1:{port}'
token_env = 'SB_DOCTOR_MISSING'
[[sources]]
name = 'fresh'
kind = 'freshdesk'
url = 'http://127.0.0.1:{port}'
token_env = 'SB_DOCTOR_TOKEN'
timeout_s = 2
"""
    )
    result = shiftboard("doctor", "--config", str(path), timeout=60)
    # An unset token variable is a configuration problem (exit 2, as for every command); the report still runs.
    assert result.returncode == 2, result.stdout + result.stderr
    assert "sources ('desk').token_env: environment variable SB_DOCTOR_MISSING is not set" in result.stderr
    lines = result.stdout.splitlines()
    desk = next(line for line in lines if line.startswith("source desk (zendesk): "))
    assert desk.startswith("source desk (zendesk): FAIL ")
    assert "environment variable SB_DOCTOR_MISSING is not set" in desk
    assert desk.endswith("— fix: export SB_DOCTOR_MISSING=<token> in the environment that runs shiftboard")
    fresh = next(line for line in lines if line.startswith("source fresh (freshdesk): "))
    assert fresh.startswith("source fresh (freshdesk): FAIL cannot connect")
    assert f"— fix: check url = 'http://127.0.0.1:{port}'" in fresh
    assert "not-a-real-token" not in result.stdout + result.stderr
    # The cache does not exist yet: doctor says so and does not create it.
    assert any(line.startswith(f"cache: WARN {cache} does not exist yet — fix: run") for line in lines)
    assert not cache.exists()
    assert "Traceback" not in result.stderr
