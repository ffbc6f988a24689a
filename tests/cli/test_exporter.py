"""The Prometheus endpoint serves the same figures as ``snapshot --json`` at the same moment."""

from __future__ import annotations

import json

import httpx
from prometheus_client.parser import text_string_to_metric_families

from shiftboard.cli import snapshot_data
from shiftboard.config import load_settings
from shiftboard.exporter import serve_metrics
from shiftboard.model import AgentState, Batch, Case, Contact
from shiftboard.store import Store

AT = 1_795_000_000.0


def _fill(store: Store) -> None:
    store.write_batch(
        "desk",
        "files",
        Batch(
            contacts=[
                Contact("desk", "c1", "Billing", AT - 300, answered_at=AT - 290, ended_at=AT - 100, wrap_up_s=30),
                Contact("desk", "c2", "Billing", AT - 200, abandoned_at=AT - 150),
                Contact("desk", "c3", "Sales", AT - 40),
                Contact("desk", "c4", "Sales", AT - 30, blocked=True),
            ],
            cases=[
                Case("desk", "k1", "Billing", "open", "high", AT - 7200),
                Case("desk", "k2", "Sales", "pending", "low", AT - 60),
            ],
            agent_states=[AgentState("desk", "ana", "busy", AT - 500, queues=("Billing",))],
        ),
        None,
        AT - 1,
    )


def _scrape(url: str) -> dict[tuple[str, tuple], float]:
    text = httpx.get(url).text
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_scrape_equals_snapshot_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "shiftboard.toml"
    config.write_text(
        f"[cache]\npath = '{tmp_path / 'c.sqlite'}'\n[metrics]\ntimezone = 'UTC'\n"
        f"[[sources]]\nname = 'desk'\nkind = 'files'\npath = '{tmp_path / 'none' / '*.jsonl'}'\n"
    )
    settings = load_settings(config, {})
    with Store(settings.cache.resolved_path()) as store:
        _fill(store)
        snapshot = json.loads(json.dumps(snapshot_data(settings, store, AT, None)))
        server, _ = serve_metrics(settings, store, 0, "127.0.0.1", lambda: AT)
        try:
            host, port = server.server_address[:2]
            assert host == "127.0.0.1"
            scraped = _scrape(f"http://{host}:{port}/metrics")
        finally:
            server.shutdown()

    def value(name, **labels):
        return scraped[(name, tuple(sorted(labels.items())))]

    billing = snapshot["queues"]["Billing"]["contacts"]
    assert value("shiftboard_contacts_answered", queue="Billing") == billing["answered"] == 1
    assert value("shiftboard_contacts_abandoned", queue="Billing") == billing["abandoned"] == 1
    assert value("shiftboard_contacts_waiting_now", queue="Sales") == 1
    assert value("shiftboard_contacts_longest_wait_s", queue="Sales") == 40
    assert value("shiftboard_contacts_blocked", queue="all") == 1
    assert value("shiftboard_contacts_asa_s", queue="Billing") == billing["asa_s"] == 10
    for policy, pct in billing["service_level_pct_by_policy"].items():
        if pct is not None:
            assert value("shiftboard_contacts_service_level_pct_by_policy", queue="Billing", policy=policy) == pct
    assert value("shiftboard_cases_backlog_by_priority", queue="all", priority="high") == 1
    assert value("shiftboard_cases_backlog_by_status", queue="Sales", status="pending") == 1
    assert value("shiftboard_agents", queue="Billing", state="busy") == 1
    assert value("shiftboard_source_up", source="desk") == 1
    # A null figure is left out rather than exported as 0.
    assert snapshot["queues"]["Sales"]["contacts"]["asa_s"] is None
    assert ("shiftboard_contacts_asa_s", (("queue", "Sales"),)) not in scraped

    def leaves(node):
        if isinstance(node, int | float):  # bool is an int too
            yield float(node)
        elif isinstance(node, dict):
            for inner in node.values():
                yield from leaves(inner)

    figure_values = sorted(v for (name, _), v in scraped.items() if not name.startswith("shiftboard_source_"))
    assert figure_values == sorted(leaves(snapshot["queues"]))
