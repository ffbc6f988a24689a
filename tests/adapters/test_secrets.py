"""Tokens never leak: not into logs (captured at DEBUG, httpx included), errors, the health line, the cache file,
nor doctor's output; for several HTTP adapters against their emulators, with the right token and with a wrong one."""

from __future__ import annotations

import base64
import logging
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shiftboard.store import Store
from tests.adapters import test_freshdesk, test_groove, test_hubspot, test_liveagent
from tests.adapters.support import FakeTime, source_health, sync
from tests.emulators.freshdesk import FreshdeskEmulator
from tests.emulators.groove import GrooveEmulator
from tests.emulators.hubspot import HubSpotEmulator
from tests.emulators.liveagent import LiveAgentEmulator
from tests.emulators.server import EmulatorServer


@dataclass
class Case:
    kind: str
    module: Any
    emulator: Any
    token_field: str


CASES = [
    Case("freshdesk", test_freshdesk, FreshdeskEmulator, "api_key"),
    Case("groove", test_groove, GrooveEmulator, "token"),
    Case("liveagent", test_liveagent, LiveAgentEmulator, "api_key"),
    Case("hubspot", test_hubspot, HubSpotEmulator, "token"),
]
# 24 characters (a multiple of 3), so the token's base64 is a prefix of the base64 of "token:anything" (basic auth).
GOOD = "GOOD-sekrit-0123456789ab"
WRONG = "BAD--sekrit-9876543210zy"


def _forms(token: str) -> list[bytes]:
    """The ways a token could show up in bytes: as is, and base64-encoded (an Authorization: Basic header)."""
    return [token.encode(), base64.b64encode(token.encode())]


def _cache_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.kind)
@pytest.mark.parametrize("token", [GOOD, WRONG], ids=["right-token", "wrong-token"])
def test_the_token_is_never_logged_stored_or_shown(tmp_path: Path, caplog, case: Case, token: str):
    caplog.set_level(logging.DEBUG)
    emulator = case.emulator().seed()
    setattr(emulator, case.token_field, GOOD)
    cache = tmp_path / "cache.sqlite"
    with Store(cache) as store, EmulatorServer(emulator) as server:
        settings = case.module.settings(server.url, max_retries=1)
        time = FakeTime(emulator.now)
        outcome = sync(store, settings, time.context({case.module.ENV: token}), emulator.now)
        if token == GOOD:
            assert outcome.error is None and outcome.records > 0
        else:
            assert outcome.error is not None and ("401" in outcome.error or "403" in outcome.error)
        reason = source_health(store, settings, emulator.now).reason or ""
        assert server.requests, "the adapter never reached the emulator"
    shown = "\n".join([caplog.text, outcome.error or "", reason]).encode()
    stored = _cache_bytes(cache)
    for form in _forms(token):
        assert form not in shown
        assert form not in stored


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_doctor_and_snapshot_never_print_the_token(tmp_path: Path):
    emulator = FreshdeskEmulator().seed(count=20)
    emulator.api_key = GOOD
    with EmulatorServer(emulator) as server:
        config = tmp_path / "shiftboard.toml"
        config.write_text(
            f"[cache]\npath = '{tmp_path / 'c.sqlite'}'\n[[sources]]\nname = 'desk'\nkind = 'freshdesk'\n"
            f"url = '{server.url}'\ntoken_env = 'FD_TOKEN'\nmax_retries = 0\n"
        )
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FD_TOKEN": WRONG}
        outputs = []
        for args in (("doctor",), ("snapshot",), ("snapshot", "--json"), ("-v", "snapshot", "--no-sync")):
            result = subprocess.run(
                [sys.executable, "-m", "shiftboard", *args, "--config", str(config)],
                env=env,
                capture_output=True,
                timeout=120,
            )
            outputs.append(result.stdout + result.stderr)
        assert b"401" in outputs[0] and b"FAIL" in outputs[0]
        assert b"failing" in outputs[1]
    for output in outputs:
        for form in _forms(WRONG):
            assert form not in output
    for form in _forms(WRONG):
        assert form not in _cache_bytes(tmp_path / "c.sqlite")
