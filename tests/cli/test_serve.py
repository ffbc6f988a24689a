"""``shiftboard serve`` answers a browser on loopback, and says where it listens."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_on_loopback_only_by_default(shiftboard):
    port = _free_port()
    cache = shiftboard.home / "c.sqlite"
    config = shiftboard.config(f"[cache]\npath = '{cache}'\n")
    process = shiftboard.popen("serve", "--port", str(port), "--config", str(config))
    try:
        deadline = time.monotonic() + 60
        page = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)  # polling a condition (the port answering), bounded by the deadline
        assert page is not None, process.stderr.read() if process.poll() is not None else "serve did not answer"
        assert page.status_code == 200
        assert "shiftboard" in page.text
        listening = {conn for conn in Path("/proc/net/tcp").read_text().splitlines()[1:] if f":{port:04X} " in conn}
        assert listening and all(line.split()[1].startswith("0100007F:") for line in listening if " 0A " in line)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except Exception:
            process.kill()
    assert "this machine only" in process.stderr.read()
