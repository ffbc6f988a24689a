"""Each source's health in ``snapshot`` and ``doctor``: ok, stale, failing (reason and since when), records skipped;
malformed records skipped and counted per source with a sample logged, the rest of the batch kept."""

from __future__ import annotations

import json
import socket
import time

from shiftboard.model import Batch, Case
from shiftboard.store import Store


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_snapshot_and_doctor_report_ok_stale_failing_and_skipped(shiftboard, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    good = {"type": "contact", "queue": "Billing", "offered_at": "2026-11-22T10:00:00Z"}
    lines = [
        {**good, "id": "k1"},
        {**good},  # no id
        {**good, "id": "k2", "offered_at": "22/11/2026 10:00"},  # a date in an unexpected format
        {**good, "id": "k3", "hold_s": "long"},  # a string where a number belongs
        {**good, "id": "k4"},
    ]
    (exports / "calls.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    cache = tmp_path / "cache.sqlite"
    with Store(cache) as store:  # a source that last answered a day ago, since switched off
        store.write_batch("old", "files", Batch(cases=[Case("old", "1", "Tech", "open", "normal", 1.0)]), None,
                          time.time() - 86400)  # fmt: skip
    shiftboard.env["FD_TOKEN"] = "x" * 12
    config = shiftboard.config(
        f"[cache]\npath = '{cache}'\n"
        f"[[sources]]\nname = 'pbx'\nkind = 'files'\npath = '{exports}/*.jsonl'\n"
        f"[[sources]]\nname = 'desk'\nkind = 'freshdesk'\nurl = 'http://127.0.0.1:{_closed_port()}'\n"
        "token_env = 'FD_TOKEN'\nmax_retries = 0\ntimeout_s = 2\n"
        f"[[sources]]\nname = 'old'\nkind = 'files'\npath = '{tmp_path}/none/*.csv'\nenabled = false\n"
    )
    result = shiftboard("snapshot", "--json", "--config", str(config))
    assert result.returncode == 0, result.stderr
    sources = {s["name"]: s for s in json.loads(result.stdout)["sources"]}
    assert sources["pbx"]["status"] == "ok" and sources["pbx"]["records"] == 2 and sources["pbx"]["skipped"] == 3
    assert sources["desk"]["status"] == "failing" and "cannot connect" in sources["desk"]["error"]
    assert sources["desk"]["failing_since"] is not None
    assert sources["old"]["status"] == "stale"
    # A sample of each skipped record is logged with its file:line and the reason.
    logged = [line for line in result.stderr.splitlines() if "pbx: skipped a record" in line]
    assert len(logged) == 3
    assert "calls.jsonl:2:" in logged[0] and "id" in logged[0]
    assert "calls.jsonl:3:" in logged[1] and "calls.jsonl:4:" in logged[2]

    doctor = shiftboard("doctor", "--config", str(config))
    assert doctor.returncode == 1  # desk cannot be reached
    health = {
        line.split(":")[1].split()[-1]: line for line in doctor.stdout.splitlines() if line.startswith("cache: source ")
    }
    assert health["pbx"].startswith("cache: source pbx: ok last sync ")
    assert "2 records, 3 malformed records skipped" in health["pbx"]
    # desk never answered: doctor says so, with the last error (its source line FAILs the run above).
    assert health["desk"].startswith("cache: source desk: WARN never synced; last error: cannot connect")
    assert health["old"].startswith("cache: source old: WARN stale: last sync ")
