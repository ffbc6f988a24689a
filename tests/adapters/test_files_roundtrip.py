"""Property: any valid records, written as JSON Lines or as CSV, are read back into the cache exactly.

The expected rows are built from the generated Python values (times via ``datetime.timestamp()``), not by the code
under test.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shiftboard.adapters.files import FilesSettings
from shiftboard.collector import Collector
from shiftboard.model import AGENT_STATES, CASE_STATUSES, PRIORITIES, RATING_KINDS
from shiftboard.store import Store

ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8)), timezone(timedelta(hours=14))]
# Any printable or not text but NUL and lone surrogates (which UTF-8 cannot carry).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)
QUEUE_NAME = (
    st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_ ."), min_size=1)
    .map(str.strip)
    .filter(bool)
)
MOMENT = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from(ZONES))
SECONDS = st.one_of(st.integers(0, 10**6), st.floats(0, 1e6, allow_nan=False, allow_infinity=False))


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


def moment_field(value: datetime | None) -> tuple[str | None, float | None]:
    return (None, None) if value is None else (value.isoformat(), value.timestamp())


@st.composite
def case(draw: st.DrawFn, ident: str) -> tuple[dict, dict]:
    raw = {"type": "case", "id": ident, "queue": draw(TEXT), "status": draw(st.sampled_from(CASE_STATUSES))}
    priority = draw(optional(st.sampled_from(PRIORITIES)))
    raw["priority"] = priority
    for name in ("channel", "subject", "customer", "assignee"):
        raw[name] = draw(optional(TEXT))
    row = {k: v for k, v in raw.items() if k != "type"} | {"priority": priority or "normal"}
    for name in ("created_at", "first_reply_at", "solved_at", "updated_at"):
        raw[name], row[name] = moment_field(draw(MOMENT if name == "created_at" else optional(MOMENT)))
    for name in ("agent_replies", "reopens"):
        raw[name] = row[name] = draw(optional(st.integers(0, 10**9)))
    return raw, row


@st.composite
def contact(draw: st.DrawFn, ident: str) -> tuple[dict, dict]:
    raw = {"type": "contact", "id": ident, "queue": draw(TEXT), "channel": draw(optional(TEXT))}
    raw["customer"], raw["agent"] = draw(optional(TEXT)), draw(optional(TEXT))
    raw["blocked"] = draw(optional(st.booleans()))
    row = {k: v for k, v in raw.items() if k != "type"} | {
        "channel": raw["channel"] or "voice",
        "blocked": int(bool(raw["blocked"])),
    }
    for name in ("offered_at", "answered_at", "ended_at", "abandoned_at"):
        raw[name], row[name] = moment_field(draw(MOMENT if name == "offered_at" else optional(MOMENT)))
    for name in ("hold_s", "wrap_up_s"):
        raw[name] = draw(optional(SECONDS))
        row[name] = None if raw[name] is None else float(raw[name])
    return raw, row


@st.composite
def agent_state(draw: st.DrawFn, ident: str) -> tuple[dict, dict]:
    queues = draw(st.lists(QUEUE_NAME, max_size=4))
    raw = {"type": "agent_state", "agent": ident, "state": draw(st.sampled_from(AGENT_STATES)), "queues": queues}
    raw["since"], since = moment_field(draw(MOMENT))
    raw["name"] = draw(optional(TEXT))
    row = {"agent": ident, "since": since, "state": raw["state"], "name": raw["name"], "queues": json.dumps(queues)}
    return raw, row


@st.composite
def rating(draw: st.DrawFn, ident: str) -> tuple[dict, dict]:
    kind = draw(st.sampled_from(RATING_KINDS))
    scale_max = draw(st.integers(1, 100) if kind != "nps" else optional(st.just(10)))
    score = draw(st.integers(0, scale_max or 10))
    raw = {"type": "rating", "id": ident, "kind": kind, "score": score, "scale_max": scale_max}
    for name in ("case_id", "queue", "agent", "comment"):
        raw[name] = draw(optional(TEXT))
    raw["rated_at"], rated_at = moment_field(draw(MOMENT))
    row = {k: v for k, v in raw.items() if k != "type"} | {
        "score": float(score),
        "scale_max": float(scale_max or 10),
        "scale_min": 0.0,
        "rated_at": rated_at,
    }
    return raw, row


BUILDERS = {"cases": case, "contacts": contact, "agent_states": agent_state, "ratings": rating}
KEYS = {"cases": "id", "contacts": "id", "agent_states": "agent", "ratings": "id"}


@st.composite
def record_sets(draw: st.DrawFn) -> dict[str, list[tuple[dict, dict]]]:
    out = {}
    for table, builder in BUILDERS.items():
        idents = draw(st.lists(TEXT, max_size=6, unique=True))
        out[table] = [draw(builder(ident)) for ident in idents]
    return out


def to_jsonl(records: list[dict], drop_nulls: bool) -> bytes:
    lines = [json.dumps({k: v for k, v in r.items() if v is not None or not drop_nulls}) for r in records]
    return "".join(line + "\n" for line in lines).encode()


def to_csv(records: list[dict], booleans: tuple[str, str]) -> bytes:
    columns = sorted({k for r in records for k in r})
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(columns)
    for record in records:
        cells = []
        for column in columns:
            value = record.get(column)
            if value is None:
                cells.append("")
            elif isinstance(value, bool):
                cells.append(booleans[0] if value else booleans[1])
            elif isinstance(value, list):
                cells.append(";".join(value))
            else:
                cells.append(value)
        writer.writerow(cells)
    return out.getvalue().encode()


def import_and_read(name: str, data: bytes) -> dict[str, list[dict]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / name).write_bytes(data)
        with Store(folder / "cache.sqlite") as store:
            (outcome,) = Collector(store, [FilesSettings(name="f", kind="files", path=str(folder / name))]).sync_once()
            assert (outcome.error, outcome.skipped) == (None, 0), store.sync_state("f").last_skipped_sample
            found = {}
            for table, key in KEYS.items():
                found[table] = [dict(row) for row in store.query(f"SELECT * FROM {table} ORDER BY {key}")]
                for row in found[table]:
                    assert row.pop("source") == "f"
            return found


def expected(records: dict[str, list[tuple[dict, dict]]]) -> dict[str, list[dict]]:
    return {table: sorted((row for _, row in pairs), key=lambda r: r[KEYS[table]]) for table, pairs in records.items()}


def all_raw(records: dict[str, list[tuple[dict, dict]]]) -> list[dict]:
    return [raw for pairs in records.values() for raw, _ in pairs]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=record_sets(), drop_nulls=st.booleans())
def test_jsonl_round_trip(records: dict, drop_nulls: bool) -> None:
    assert import_and_read("export.jsonl", to_jsonl(all_raw(records), drop_nulls)) == expected(records)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=record_sets(), booleans=st.sampled_from([("true", "false"), ("1", "0"), ("YES", "No")]))
def test_csv_round_trip(records: dict, booleans: tuple[str, str]) -> None:
    assert import_and_read("export.csv", to_csv(all_raw(records), booleans)) == expected(records)
