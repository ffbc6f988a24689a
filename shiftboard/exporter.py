"""The board's figures in the Prometheus text format, for teams that chart and alert with Prometheus and Grafana.

Figures are computed at scrape time from the cache, by the same ``metrics.compute`` the board and ``snapshot`` use,
so the exporter serves exactly what ``snapshot --json`` prints for the same moment. Every figure is a gauge: window
counts such as ``offered`` restart each day, so they are not Prometheus counters. A null figure (nothing to measure)
is left out rather than exported as 0.

Names follow the snapshot layout: ``queues.<q>.contacts.asa_s`` becomes ``shiftboard_contacts_asa_s{queue="<q>"}``;
breakdowns become labels (``cases.backlog.by_status.open`` → ``shiftboard_cases_backlog_by_status{status="open"}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shiftboard import metrics
from shiftboard.config import Settings
from shiftboard.health import health
from shiftboard.store import Store

PREFIX = "shiftboard"
#: Snapshot keys whose dict values are a breakdown: the inner key becomes this label.
BREAKDOWNS = {
    "by_status": "status",
    "by_priority": "priority",
    "by_age": "age",
    "by_channel": "channel",
    "by_assignee": "assignee",
    "service_level_pct_by_policy": "policy",
    "agents": "state",
}
_NAME_SAFE = re.compile(r"[^a-zA-Z0-9_]")


def flatten(data: dict[str, Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every numeric figure of a snapshot document as {(metric name, sorted labels): value}; nulls left out."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for queue, figures in data["queues"].items():
        _walk(figures, [], {"queue": queue}, out)
    return out


def _walk(value: Any, path: list[str], labels: dict[str, str], out: dict) -> None:
    if isinstance(value, bool):
        value = float(value)
    if isinstance(value, int | float):
        name = "_".join([PREFIX, *(_NAME_SAFE.sub("_", p) for p in path)])
        out[(name, tuple(sorted(labels.items())))] = float(value)
        return
    if not isinstance(value, dict):
        return  # strings and lists (comments, names) are not figures
    label = BREAKDOWNS.get(path[-1]) if path else None
    for key, inner in value.items():
        if label is not None:
            _walk(inner, path, {**labels, label: str(key)}, out)
        else:
            _walk(inner, [*path, str(key)], labels, out)


class FiguresCollector(Collector):
    """A prometheus-client collector that reads the cache at every scrape."""

    def __init__(self, settings: Settings, store: Store, clock: Callable[[], float]) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        at = self.clock()
        data = metrics.compute(self.store, self.settings.metrics, at, costs=self.settings.costs)
        families: dict[str, GaugeMetricFamily] = {}
        for (name, labels), value in sorted(flatten(data).items()):
            family = families.get(name)
            if family is None:
                family = families[name] = GaugeMetricFamily(
                    name, f"shiftboard figure {name[len(PREFIX) + 1 :]}", labels=[k for k, _ in labels]
                )
            family.add_metric([v for _, v in labels], value)
        yield from families.values()
        states = {s.source: s for s in self.store.sync_states()}
        up = GaugeMetricFamily(f"{PREFIX}_source_up", "1 when the source's last sync succeeded", labels=["source"])
        last = GaugeMetricFamily(
            f"{PREFIX}_source_last_success_timestamp_seconds", "time of the last good sync", labels=["source"]
        )
        failures = GaugeMetricFamily(
            f"{PREFIX}_source_consecutive_failures", "failed syncs in a row", labels=["source"]
        )
        for source in self.settings.source_settings():
            state = health(source, states.get(source.name), at)
            up.add_metric([source.name], 1.0 if state.status == "ok" else 0.0)
            failures.add_metric([source.name], float(state.consecutive_failures))
            if state.last_success_at is not None:
                last.add_metric([source.name], state.last_success_at)
        yield from (up, last, failures)


def serve_metrics(
    settings: Settings, store: Store, port: int, host: str, clock: Callable[[], float]
) -> tuple[Any, Any]:
    """Serve /metrics on host:port in a background thread; returns (server, thread)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FiguresCollector(settings, store, clock))
    return start_http_server(port, addr=host, registry=registry)
