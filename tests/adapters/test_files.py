"""The files source, through the real Collector into a real SQLite cache in tmp_path.

Expected rows are written out by hand (times from ``datetime(...).timestamp()``), never produced by the adapter.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shiftboard.adapters.base import SourceError
from shiftboard.adapters.files import MAX_LINE_BYTES, FilesAdapter, FilesSettings
from shiftboard.collector import Collector, SourceRunner
from shiftboard.config import ConfigError, load_settings
from shiftboard.store import Store


def ts(*parts: int) -> float:
    """UTC epoch seconds of a UTC wall time, computed by the standard library."""
    return datetime(*parts, tzinfo=UTC).timestamp()


def source(folder: Path, pattern: str = "*", **keys: object) -> FilesSettings:
    return FilesSettings(name="files", kind="files", path=str(folder / pattern), **keys)


def sync(store: Store, settings: FilesSettings):
    """One sync by a freshly started collector (as after a restart: the cursor comes from the cache)."""
    (outcome,) = Collector(store, [settings]).sync_once()
    assert outcome.error is None, outcome.error
    return outcome


def rows(store: Store, table: str, order: str = "id") -> list[dict]:
    found = [dict(row) for row in store.query(f"SELECT * FROM {table} ORDER BY {order}")]
    for row in found:
        assert row.pop("source") == "files"
    return found


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def append(path: Path, text: str | bytes) -> None:
    with path.open("ab") as out:
        out.write(text.encode() if isinstance(text, str) else text)


def jsonl(*objects: dict) -> str:
    return "".join(json.dumps(o) + "\n" for o in objects)


# -- every record type, both formats, lands exactly -----------------------------------------------------------------

CASE_FULL = {
    "type": "case",
    "id": "T-1",
    "queue": "Billing",
    "status": "solved",
    "priority": "high",
    "channel": "email",
    "subject": 'Refund <b>not</b> received; "urgent"',
    "customer": "ana@example.com",
    "assignee": "bo",
    "created_at": "2026-03-02T09:00:00+01:00",
    "first_reply_at": "2026-03-02T08:15:30Z",
    "solved_at": "2026-03-02T12:00:00.5Z",
    "updated_at": "2026-03-02T07:00:00-05:00",
    "agent_replies": 3,
    "reopens": 1,
}
CASE_FULL_ROW = {
    "id": "T-1",
    "queue": "Billing",
    "status": "solved",
    "priority": "high",
    "created_at": ts(2026, 3, 2, 8, 0, 0),
    "channel": "email",
    "subject": 'Refund <b>not</b> received; "urgent"',
    "customer": "ana@example.com",
    "assignee": "bo",
    "first_reply_at": ts(2026, 3, 2, 8, 15, 30),
    "solved_at": ts(2026, 3, 2, 12, 0, 0) + 0.5,
    "updated_at": ts(2026, 3, 2, 12, 0, 0),
    "agent_replies": 3,
    "reopens": 1,
}
CASE_MINIMAL = {"type": "case", "id": "T-2", "queue": "Tech", "status": "open", "created_at": "2026-03-02T10:00:00Z"}
CASE_MINIMAL_ROW = {
    "id": "T-2",
    "queue": "Tech",
    "status": "open",
    "priority": "normal",
    "created_at": ts(2026, 3, 2, 10),
    "channel": None,
    "subject": None,
    "customer": None,
    "assignee": None,
    "first_reply_at": None,
    "solved_at": None,
    "updated_at": None,
    "agent_replies": None,
    "reopens": None,
}
CONTACT_ANSWERED = {
    "type": "contact",
    "id": "C-1",
    "queue": "Billing",
    "channel": "chat",
    "customer": "+4930123",
    "agent": "bo",
    "offered_at": "2026-03-02T08:00:00Z",
    "answered_at": "2026-03-02T08:00:20Z",
    "ended_at": "2026-03-02T08:05:00Z",
    "blocked": False,
    "hold_s": 12.5,
    "wrap_up_s": 30,
}
CONTACT_ANSWERED_ROW = {
    "id": "C-1",
    "queue": "Billing",
    "offered_at": ts(2026, 3, 2, 8),
    "channel": "chat",
    "customer": "+4930123",
    "agent": "bo",
    "answered_at": ts(2026, 3, 2, 8, 0, 20),
    "ended_at": ts(2026, 3, 2, 8, 5),
    "abandoned_at": None,
    "blocked": 0,
    "hold_s": 12.5,
    "wrap_up_s": 30.0,
}
CONTACT_BLOCKED = {
    "type": "contact",
    "id": "C-2",
    "queue": "Tech",
    "offered_at": "2026-03-02T08:01:00Z",
    "blocked": True,
}
CONTACT_BLOCKED_ROW = {
    "id": "C-2",
    "queue": "Tech",
    "offered_at": ts(2026, 3, 2, 8, 1),
    "channel": "voice",
    "customer": None,
    "agent": None,
    "answered_at": None,
    "ended_at": None,
    "abandoned_at": None,
    "blocked": 1,
    "hold_s": None,
    "wrap_up_s": None,
}
CONTACT_ABANDONED = {
    "type": "contact",
    "id": "C-3",
    "queue": "Tech",
    "offered_at": "2026-03-02T08:02:00Z",
    "abandoned_at": "2026-03-02T08:02:04Z",
}
CONTACT_ABANDONED_ROW = CONTACT_BLOCKED_ROW | {
    "id": "C-3",
    "offered_at": ts(2026, 3, 2, 8, 2),
    "abandoned_at": ts(2026, 3, 2, 8, 2, 4),
    "blocked": 0,
}
AGENT = {"type": "agent_state", "agent": "bo", "state": "busy", "since": "2026-03-02T08:00:20Z", "queues": ["a", "b"]}
AGENT_ROW = {"agent": "bo", "since": ts(2026, 3, 2, 8, 0, 20), "state": "busy", "name": None, "queues": '["a", "b"]'}
AGENT_NO_QUEUES = {"type": "agent_state", "agent": "cy", "state": "wrap_up", "since": "2026-03-02T08:00:00Z"}
AGENT_NO_QUEUES_ROW = {"agent": "cy", "since": ts(2026, 3, 2, 8), "state": "wrap_up", "name": None, "queues": "[]"}
RATING = {
    "type": "rating",
    "id": "R-1",
    "kind": "csat",
    "score": 4,
    "scale_max": 5,
    "case_id": "T-1",
    "queue": "Billing",
    "rated_at": "2026-03-02T13:00:00Z",
    "comment": "fast, thanks",
}
RATING_ROW = {
    "id": "R-1",
    "kind": "csat",
    "score": 4.0,
    "scale_max": 5.0,
    "rated_at": ts(2026, 3, 2, 13),
    "scale_min": 0.0,
    "case_id": "T-1",
    "queue": "Billing",
    "agent": None,
    "comment": "fast, thanks",
}
RATING_NPS = {"type": "rating", "id": "R-2", "kind": "nps", "score": 9, "rated_at": "2026-03-02T13:01:00Z"}
RATING_NPS_ROW = RATING_ROW | {
    "id": "R-2",
    "kind": "nps",
    "score": 9.0,
    "scale_max": 10.0,
    "rated_at": ts(2026, 3, 2, 13, 1),
    "case_id": None,
    "queue": None,
    "comment": None,
}
ALL_RECORDS = [
    CASE_FULL,
    CASE_MINIMAL,
    CONTACT_ANSWERED,
    CONTACT_BLOCKED,
    CONTACT_ABANDONED,
    AGENT,
    AGENT_NO_QUEUES,
    RATING,
    RATING_NPS,
]


def assert_all_landed(store: Store) -> None:
    assert rows(store, "cases") == [CASE_FULL_ROW, CASE_MINIMAL_ROW]
    assert rows(store, "contacts") == [CONTACT_ANSWERED_ROW, CONTACT_BLOCKED_ROW, CONTACT_ABANDONED_ROW]
    assert rows(store, "agent_states", "agent") == [AGENT_ROW, AGENT_NO_QUEUES_ROW]
    assert rows(store, "ratings") == [RATING_ROW, RATING_NPS_ROW]


def test_jsonl_of_every_type_lands_exactly(store: Store, tmp_path: Path) -> None:
    write(tmp_path / "in" / "export.jsonl", jsonl(*ALL_RECORDS))
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (9, 0)
    assert_all_landed(store)


CSV_ALL = (
    "type,id,queue,status,priority,channel,subject,customer,assignee,created_at,first_reply_at,solved_at,updated_at,"
    "agent_replies,reopens,agent,offered_at,answered_at,ended_at,abandoned_at,blocked,hold_s,wrap_up_s,state,since,"
    "queues,kind,score,scale_max,case_id,rated_at,comment\r\n"
    'case,T-1,Billing,solved,high,email,"Refund <b>not</b> received; ""urgent""",ana@example.com,bo,'
    "2026-03-02T09:00:00+01:00,2026-03-02T08:15:30Z,2026-03-02T12:00:00.5Z,2026-03-02T07:00:00-05:00,3,1"
    ",,,,,,,,,,,,,,,,,\r\n"
    "case,T-2,Tech,open,,,,,,2026-03-02T10:00:00Z,,,,,,,,,,,,,,,,,,,,,,\r\n"
    "contact,C-1,Billing,,,chat,,+4930123,,,,,,,,bo,2026-03-02T08:00:00Z,2026-03-02T08:00:20Z,"
    "2026-03-02T08:05:00Z,,no,12.5,30,,,,,,,,,\r\n"
    "contact,C-2,Tech,,,,,,,,,,,,,,2026-03-02T08:01:00Z,,,,yes,,,,,,,,,,,\r\n"
    "contact,C-3,Tech,,,,,,,,,,,,,,2026-03-02T08:02:00Z,,,2026-03-02T08:02:04Z,0,,,,,,,,,,,\r\n"
    "agent_state,,,,,,,,,,,,,,,bo,,,,,,,,busy,2026-03-02T08:00:20Z,a;b,,,,,,\r\n"
    "agent_state,,,,,,,,,,,,,,,cy,,,,,,,,wrap_up,2026-03-02T08:00:00Z,,,,,,,\r\n"
    'rating,R-1,Billing,,,,,,,,,,,,,,,,,,,,,,,,csat,4,5,T-1,2026-03-02T13:00:00Z,"fast, thanks"\r\n'
    "rating,R-2,,,,,,,,,,,,,,,,,,,,,,,,,nps,9,,,2026-03-02T13:01:00Z,\r\n"
)


def test_csv_of_every_type_lands_exactly(store: Store, tmp_path: Path) -> None:
    write(tmp_path / "in" / "export.csv", CSV_ALL)
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (9, 0)
    assert_all_landed(store)


def test_csv_without_type_column_uses_record_type(store: Store, tmp_path: Path) -> None:
    write(
        tmp_path / "in" / "agents.csv",
        "\ufeffAgent, State ,since,queues\n"  # a byte order mark and loose header spelling, as spreadsheets write
        "bo,busy,2026-03-02T08:00:20Z,a|b\n"
        "cy,WRAP_UP,2026-03-02T08:00:00Z,\n",
    )
    outcome = sync(store, source(tmp_path / "in", record_type="agent_state"))
    assert (outcome.records, outcome.skipped) == (2, 0)
    assert rows(store, "agent_states", "agent") == [AGENT_ROW, AGENT_NO_QUEUES_ROW]


def test_csv_without_type_column_or_record_type_reports_the_file_once(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "in" / "agents.csv", "agent,state,since\nbo,busy,2026-03-02T08:00:20Z\n")
    first = sync(store, source(tmp_path / "in"))
    assert (first.records, first.skipped) == (0, 1)
    assert (
        store.sync_state("files").last_skipped_sample == f"{path}:1: no type column and no record_type in the "
        "source's settings; file skipped"
    )
    again = sync(store, source(tmp_path / "in"))
    assert (again.records, again.skipped) == (0, 0)


def test_csv_cell_may_span_lines(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "in" / "cases.csv",
        'id,queue,status,created_at,subject\nT-9,Tech,new,2026-03-02T10:00:00Z,"line one\nline two"\nT-10,x,bad,,\n',
    )
    outcome = sync(store, source(tmp_path / "in", record_type="case"))
    assert (outcome.records, outcome.skipped) == (1, 1)
    assert rows(store, "cases")[0]["subject"] == "line one\nline two"
    # T-10 starts on physical line 4: the quoted cell took lines 2 and 3.
    assert store.sync_state("files").last_skipped_sample.startswith(f"{path}:4: status: 'bad'")


# -- bad lines ----------------------------------------------------------------------------------------------------

GOOD_A = {"type": "case", "id": "A", "queue": "Q", "status": "open", "created_at": "2026-03-02T10:00:00Z"}
GOOD_B = GOOD_A | {"id": "B"}

BAD_JSONL = [
    (json.dumps(GOOD_A | {"id": None}).encode(), "id: missing"),
    (json.dumps({k: v for k, v in GOOD_A.items() if k != "id"}).encode(), "id: missing"),
    (json.dumps(GOOD_A | {"created_at": "2026-03-02 10:00"}).encode(), "created_at: time has no offset or Z"),
    (json.dumps(GOOD_A | {"created_at": "yesterday"}).encode(), "created_at: not an ISO-8601 time: 'yesterday'"),
    (json.dumps(GOOD_A | {"reopens": "two"}).encode(), "reopens: expected a whole number ≥ 0, got 'two'"),
    (json.dumps(GOOD_A | {"status": "escalated"}).encode(), "status: 'escalated' is not one of new, open,"),
    (json.dumps(GOOD_A | {"subject": "caf\u00e9"}).encode().replace(b"\\u00e9", b"\xe9"), "invalid UTF-8 at byte"),
    (json.dumps(GOOD_A).encode().replace(b'"Q"', b'"Q\x00"'), "NUL byte in the line"),
    (b"{not json", "invalid JSON:"),
    (b'["a list"]', "expected a JSON object, got list"),
    (json.dumps(GOOD_A | {"type": "ticket"}).encode(), "unknown type 'ticket'"),
    (json.dumps({k: v for k, v in GOOD_A.items() if k != "type"}).encode(), "missing type"),
    (json.dumps(GOOD_A).encode() + b" trailing", "unexpected text after the JSON object"),
    (b"[" * 100_000, "JSON nested too deeply"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_JSONL, ids=[reason for _, reason in BAD_JSONL])
def test_bad_jsonl_line_is_reported_with_file_and_line_and_the_rest_kept(
    store: Store, tmp_path: Path, line: bytes, reason: str
) -> None:
    path = write(tmp_path / "in" / "cases.jsonl", json.dumps(GOOD_A).encode() + b"\n" + line + b"\n")
    append(path, json.dumps(GOOD_B) + "\n")
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (2, 1)
    assert [r["id"] for r in rows(store, "cases")] == ["A", "B"]
    sample = store.sync_state("files").last_skipped_sample
    assert sample.startswith(f"{path}:2: {reason}"), sample


CSV_HEADER = b"type,id,queue,status,created_at,reopens,queues\n"
CSV_GOOD_A = b"case,A,Q,open,2026-03-02T10:00:00Z,,\n"
CSV_GOOD_B = b"case,B,Q,open,2026-03-02T10:00:00Z,,\n"
BAD_CSV = [
    (b"case,,Q,open,2026-03-02T10:00:00Z,,", "id: missing"),
    (b"case,X,Q,open,02/03/2026 10:00,,", "created_at: not an ISO-8601 time: '02/03/2026 10:00'"),
    (b"case,X,Q,open,2026-03-02T10:00:00Z,two,", "reopens: expected a whole number ≥ 0, got 'two'"),
    (b"case,X,Q,open,2026-03-02T10:00:00Z,-1,", "reopens: expected a whole number ≥ 0, got '-1'"),
    (b"case,X,Q,escalated,2026-03-02T10:00:00Z,,", "status: 'escalated' is not one of new, open,"),
    (b"case,X,Caf\xe9,open,2026-03-02T10:00:00Z,,", "invalid UTF-8 at byte 11"),
    (b"case,X,Q\x00,open,2026-03-02T10:00:00Z,,", "NUL byte in the line"),
    (b"case,X,Q,open", "4 cells, the header has 7"),
    (b"ticket,X,Q,open,2026-03-02T10:00:00Z,,", "unknown type 'ticket'"),
    (b"case,X,Q,open,2026-03-02T10:00:00Z,,a\rb", "malformed CSV"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_CSV, ids=[reason for _, reason in BAD_CSV])
def test_bad_csv_line_is_reported_with_file_and_line_and_the_rest_kept(
    store: Store, tmp_path: Path, line: bytes, reason: str
) -> None:
    path = write(tmp_path / "in" / "cases.csv", CSV_HEADER + CSV_GOOD_A + line + b"\n" + CSV_GOOD_B)
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (2, 1)
    assert [r["id"] for r in rows(store, "cases")] == ["A", "B"]
    sample = store.sync_state("files").last_skipped_sample
    assert sample.startswith(f"{path}:3: {reason}"), sample


def test_bad_booleans_and_ratings_are_rejected(store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(
        tmp_path / "in" / "mixed.jsonl",
        jsonl(
            CONTACT_BLOCKED | {"blocked": "maybe"},
            RATING | {"score": 6},
            RATING | {"scale_max": None},
            AGENT | {"queues": "a;b"},
            AGENT | {"state": "lunch"},
        ),
    )
    with caplog.at_level(logging.WARNING):
        outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (0, 5)
    messages = [r.getMessage() for r in caplog.records if "skipped a record" in r.getMessage()]
    assert [m.split(": skipped a record: ")[1] for m in messages] == [
        f"{path}:1: blocked: expected true/false/1/0/yes/no, got 'maybe'",
        f"{path}:2: score 6 is outside the scale 0 to 5",
        f"{path}:3: missing scale_max (only nps has a default scale, 0 to 10)",
        f"{path}:4: queues: expected a list of queue names, got 'a;b'",
        f"{path}:5: state: 'lunch' is not one of available, busy, wrap_up, away, offline",
    ]


def test_overlong_line_is_skipped_without_holding_it(store: Store, tmp_path: Path) -> None:
    huge = json.dumps(GOOD_A | {"subject": "x" * (MAX_LINE_BYTES * 3)})
    path = write(tmp_path / "in" / "cases.jsonl", huge + "\n" + json.dumps(GOOD_B) + "\n")
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (1, 1)
    assert store.sync_state("files").last_skipped_sample == f"{path}:1: line longer than {MAX_LINE_BYTES} bytes"


def test_blank_lines_are_ignored(store: Store, tmp_path: Path) -> None:
    write(tmp_path / "in" / "cases.jsonl", "\n" + json.dumps(GOOD_A) + "\r\n   \n\n" + json.dumps(GOOD_B) + "\n")
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (2, 0)


# -- incremental ----------------------------------------------------------------------------------------------------


def numbered_cases(first: int, count: int) -> str:
    return jsonl(
        *(GOOD_A | {"id": f"N{n:05d}", "subject": f"case number {n:05d}"} for n in range(first, first + count))
    )


def test_append_reads_only_the_new_lines(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "in" / "cases.jsonl", numbered_cases(0, 60))
    first = sync(store, source(tmp_path / "in"))
    assert (first.records, first.skipped) == (60, 0)

    # Break line 30 on disk (same length, well inside the file): it was read already and must not be read again.
    data = path.read_bytes()
    broken = data.replace(b'"id": "N00030"', b'"id": 123456.7', 1)
    assert len(broken) == len(data) and broken != data
    path.write_bytes(broken)
    append(path, numbered_cases(60, 2))

    second = sync(store, source(tmp_path / "in"))
    assert (second.records, second.skipped) == (2, 0)
    assert store.counts()["cases"] == 62
    assert rows(store, "cases")[30]["id"] == "N00030"

    third = sync(store, source(tmp_path / "in"))
    assert (third.records, third.skipped) == (0, 0)


def test_csv_append_resumes_with_the_remembered_header(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "in" / "cases.csv", CSV_HEADER + CSV_GOOD_A)
    assert sync(store, source(tmp_path / "in")).records == 1
    append(path, CSV_GOOD_B)
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (1, 0)
    assert [r["id"] for r in rows(store, "cases")] == ["A", "B"]


def test_rewritten_file_is_read_again_whole(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    path = write(folder / "cases.jsonl", numbered_cases(0, 5))
    assert sync(store, source(folder)).records == 5

    # Replaced by a new file (new inode), as an export job writing to a temporary name and renaming does.
    replacement = write(folder / "cases.tmp", numbered_cases(0, 7))
    os.replace(replacement, path)
    assert sync(store, source(folder, "*.jsonl")).records == 7

    # Truncated in place to fewer bytes than were read.
    path.write_text(numbered_cases(100, 2))
    assert sync(store, source(folder, "*.jsonl")).records == 2

    # Same inode, longer, but different first bytes.
    path.write_text(jsonl(GOOD_A) + numbered_cases(100, 2))
    assert sync(store, source(folder, "*.jsonl")).records == 3
    assert store.counts()["cases"] == 7 + 2 + 1


def test_half_written_last_line_waits_until_complete(store: Store, tmp_path: Path) -> None:
    line = json.dumps(GOOD_B)
    path = write(tmp_path / "in" / "cases.jsonl", json.dumps(GOOD_A) + "\n" + line[:20])
    first = sync(store, source(tmp_path / "in"))
    assert (first.records, first.skipped) == (1, 0)
    append(path, line[20:])  # complete, but no newline yet: the writer may still add to it
    assert (sync(store, source(tmp_path / "in")).records, store.counts()["cases"]) == (0, 1)
    append(path, "\n")
    second = sync(store, source(tmp_path / "in"))
    assert (second.records, second.skipped) == (1, 0)
    assert [r["id"] for r in rows(store, "cases")] == ["A", "B"]


def test_half_written_csv_record_with_open_quote_waits(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "in" / "cases.csv",
        b'id,queue,status,created_at,subject\nA,Q,open,2026-03-02T10:00:00Z,"first line\n',
    )
    first = sync(store, source(tmp_path / "in", record_type="case"))
    assert (first.records, first.skipped) == (0, 0)
    append(path, 'second line"\n')
    second = sync(store, source(tmp_path / "in", record_type="case"))
    assert (second.records, second.skipped) == (1, 0)
    assert rows(store, "cases")[0]["subject"] == "first line\nsecond line"


def test_later_record_with_the_same_id_replaces_the_earlier(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "in" / "cases.jsonl", jsonl(GOOD_A, GOOD_A | {"status": "pending", "priority": "low"}))
    sync(store, source(tmp_path / "in"))
    assert [(r["status"], r["priority"]) for r in rows(store, "cases")] == [("pending", "low")]
    append(path, jsonl(GOOD_A | {"status": "solved", "solved_at": "2026-03-02T11:00:00Z"}))
    sync(store, source(tmp_path / "in"))
    assert [(r["status"], r["solved_at"]) for r in rows(store, "cases")] == [("solved", ts(2026, 3, 2, 11))]


def test_agent_state_is_keyed_by_agent_and_since(store: Store, tmp_path: Path) -> None:
    write(
        tmp_path / "in" / "a.jsonl", jsonl(AGENT, AGENT | {"state": "away"}, AGENT | {"since": "2026-03-02T09:00:00Z"})
    )
    sync(store, source(tmp_path / "in"))
    assert [(r["state"], r["since"]) for r in rows(store, "agent_states", "since")] == [
        ("away", ts(2026, 3, 2, 8, 0, 20)),
        ("busy", ts(2026, 3, 2, 9)),
    ]


def test_large_file_goes_page_by_page_and_resumes_after_a_kill(store: Store, tmp_path: Path) -> None:
    write(tmp_path / "in" / "cases.jsonl", numbered_cases(0, 5_500))
    settings = source(tmp_path / "in", batch_size=1_000)

    # One page committed, then the process dies (no further fetch): the next start resumes after that page.
    runner = SourceRunner(settings, store, Collector(store, []).context)
    page = runner.adapter.fetch(None, 0.0)
    assert (len(page.batch), page.more) == (1_000, True)
    store.write_batch("files", "files", page.batch, page.cursor, 0.0)

    outcome = sync(store, settings)
    assert (outcome.records, outcome.pages, outcome.skipped) == (4_500, 5, 0)
    assert store.counts()["cases"] == 5_500
    assert store.sync_state("files").records_total == 5_500  # nothing read twice


def test_new_file_is_found_and_deleted_file_forgotten(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    first_file = write(folder / "one.jsonl", jsonl(GOOD_A))
    assert sync(store, source(folder, "*.jsonl")).records == 1
    second_file = write(folder / "two.jsonl", jsonl(GOOD_B))
    assert sync(store, source(folder, "*.jsonl")).records == 1
    assert set(store.sync_state("files").cursor["files"]) == {str(first_file), str(second_file)}
    first_file.unlink()
    assert sync(store, source(folder, "*.jsonl")).records == 0
    assert set(store.sync_state("files").cursor["files"]) == {str(second_file)}
    assert store.counts()["cases"] == 2  # records already imported stay


def test_recursive_glob_and_home_expansion(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / "exports" / "2026" / "03" / "cases.jsonl", jsonl(GOOD_A))
    settings = FilesSettings(name="files", kind="files", path="~/exports/**/*.jsonl")
    assert sync(store, settings).records == 1


def test_missing_folder_is_not_an_error(store: Store, tmp_path: Path) -> None:
    outcome = sync(store, source(tmp_path / "not-there", "*.csv"))
    assert (outcome.records, outcome.skipped, outcome.error) == (0, 0, None)
    state = store.sync_state("files")
    assert state.last_error is None and state.last_success_at is not None
    adapter = FilesAdapter(source(tmp_path / "not-there", "*.csv"))
    assert adapter.check().startswith("no files match")


def test_unreadable_file_is_reported_once_and_others_still_import(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder / "good.jsonl", jsonl(GOOD_A))
    loop = folder / "loop.jsonl"
    loop.symlink_to(loop)  # opening it fails with ELOOP, even for root
    first = sync(store, source(folder, "*.jsonl"))
    assert (first.records, first.skipped) == (1, 1)
    assert store.sync_state("files").last_skipped_sample == f"{loop}: cannot read: Too many levels of symbolic links"
    again = sync(store, source(folder, "*.jsonl"))
    assert (again.records, again.skipped, again.error) == (0, 0, None)
    with pytest.raises(SourceError, match="cannot read"):
        FilesAdapter(source(folder, "*.jsonl")).check()
    # Once it can be read, it is imported.
    loop.unlink()
    write(loop, jsonl(GOOD_B))
    assert sync(store, source(folder, "*.jsonl")).records == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_file_without_read_permission_is_reported(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "in" / "secret.jsonl", jsonl(GOOD_A))
    path.chmod(0)
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (0, 1)
    assert store.sync_state("files").last_skipped_sample == f"{path}: cannot read: Permission denied"


def test_settings_defaults_and_bounds() -> None:
    settings = FilesSettings(name="f", kind="files", path="/x/*.csv")
    assert (settings.interval_s, settings.batch_size, settings.record_type) == (2.0, 50_000, None)
    with pytest.raises(ValueError, match="record_type"):
        FilesSettings(name="f", kind="files", path="/x", record_type="ticket")
    with pytest.raises(ValueError, match="batch_size"):
        FilesSettings(name="f", kind="files", path="/x", batch_size=0)


def readme_example(language: str) -> str:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("#### Files (JSON Lines and CSV)", 1)[1]
    return section.split(f"```{language}\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize(("language", "name", "count"), [("json", "example.jsonl", 5), ("csv", "example.csv", 4)])
def test_readme_examples_import_cleanly(store: Store, tmp_path: Path, language: str, name: str, count: int) -> None:
    write(tmp_path / "in" / name, readme_example(language))
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (count, 0), store.sync_state("files").last_skipped_sample


def test_csv_without_type_is_read_once_record_type_is_set(store: Store, tmp_path: Path) -> None:
    write(tmp_path / "in" / "agents.csv", "agent,state,since\nbo,busy,2026-03-02T08:00:20Z\n")
    assert sync(store, source(tmp_path / "in")).skipped == 1
    fixed = sync(store, source(tmp_path / "in", record_type="agent_state"))
    assert (fixed.records, fixed.skipped) == (1, 0)


def test_csv_whose_first_line_is_not_a_header_is_reported(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "in" / "cases.csv", "case,A,Q,open,2026-03-02T10:00:00Z\n")
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (0, 1)
    assert store.sync_state("files").last_skipped_sample.startswith(f"{path}:1: the first line is not a header")


def test_config_example_block_validates(tmp_path: Path) -> None:
    example = (Path(__file__).resolve().parents[2] / "config.example.toml").read_text()
    block = example.split("# Files: JSON Lines and CSV exports", 1)[1].split("\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if not line.startswith("# "):
            break
        lines.append(line[2:])
    config = write(tmp_path / "shiftboard.toml", "\n".join(lines) + "\n")
    (settings,) = load_settings(config, environ={}).source_settings()
    assert isinstance(settings, FilesSettings)
    assert (settings.kind, settings.record_type, settings.batch_size) == ("files", "contact", 50_000)

    write(config, '[[sources]]\nname = "x"\nkind = "files"\npath = "/x"\nbatchsize = 5\n')
    with pytest.raises(ConfigError, match="batchsize"):
        load_settings(config, environ={}).source_settings()


def test_rewrite_that_keeps_the_first_bytes_is_still_noticed(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "in" / "cases.jsonl", numbered_cases(0, 60))
    assert sync(store, source(tmp_path / "in")).records == 60
    # Same inode, same first 50 lines, different lines just before the old offset, and longer than before.
    changed = jsonl(*(GOOD_A | {"id": f"M{n:05d}", "subject": f"moved {n:05d}"} for n in range(50, 65)))
    with path.open("r+") as out:
        out.write(numbered_cases(0, 50) + changed)
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (65, 0)


def test_folder_matching_the_glob_is_ignored(store: Store, tmp_path: Path) -> None:
    (tmp_path / "in" / "archive.jsonl").mkdir(parents=True)
    write(tmp_path / "in" / "cases.jsonl", jsonl(GOOD_A))
    outcome = sync(store, source(tmp_path / "in", "*.jsonl"))
    assert (outcome.records, outcome.skipped) == (1, 0)


# -- the fast paths read exactly what the general ones read ---------------------------------------------------------

ANSWERED_AT = [
    ("2026-03-02T08:15:30Z", ts(2026, 3, 2, 8, 15, 30)),
    ("2026-03-02T08:15:30+00:00", ts(2026, 3, 2, 8, 15, 30)),
    ("2026-03-02T09:15:30+01:00", ts(2026, 3, 2, 8, 15, 30)),
    ("2026-03-02T03:15:30-05:00", ts(2026, 3, 2, 8, 15, 30)),
    ("2026-03-02 08:15:30Z", ts(2026, 3, 2, 8, 15, 30)),
    ("2026-03-02t08:15:30z", ts(2026, 3, 2, 8, 15, 30)),
    ("20260302T081530Z", ts(2026, 3, 2, 8, 15, 30)),
    ("2026-W10-1T08:15:30Z", ts(2026, 3, 2, 8, 15, 30)),  # ISO week 10 of 2026, Monday = 2 March
    ("2026-03-02T08:15:30.25Z", ts(2026, 3, 2, 8, 15, 30) + 0.25),
    ("2026-03-02T08:15:30.000001+00:00", ts(2026, 3, 2, 8, 15, 30) + 0.000001),
    ("1970-01-01T00:00:00Z", None),  # the epoch is "unset" (RT's convention), as for every source
]


@pytest.mark.parametrize(("written", "expected"), ANSWERED_AT, ids=[w for w, _ in ANSWERED_AT])
@pytest.mark.parametrize("language", ["jsonl", "csv"])
def test_each_accepted_time_format_gives_the_same_instant(
    store: Store, tmp_path: Path, language: str, written: str, expected: float | None
) -> None:
    if language == "jsonl":
        text = jsonl(CONTACT_ABANDONED | {"answered_at": written})
    else:
        text = f"type,id,queue,offered_at,answered_at\ncontact,C-3,Tech,2026-03-02T08:02:00Z,{written}\n"
    write(tmp_path / "in" / f"contacts.{language}", text)
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (1, 0)
    assert rows(store, "contacts")[0]["answered_at"] == expected


BAD_TIMES = [
    ("2026-03-02T08:15:30", "answered_at: time has no offset or Z: '2026-03-02T08:15:30'"),
    ("2026-13-02T08:15:30Z", "answered_at: not an ISO-8601 time: '2026-13-02T08:15:30Z'"),
    ("2026-03-02T24:15:30Z", "answered_at: not an ISO-8601 time: '2026-03-02T24:15:30Z'"),
    ("02/03/2026 08:15", "answered_at: not an ISO-8601 time: '02/03/2026 08:15'"),
]


@pytest.mark.parametrize(("written", "reason"), BAD_TIMES, ids=[w for w, _ in BAD_TIMES])
@pytest.mark.parametrize("language", ["jsonl", "csv"])
def test_a_bad_time_is_a_clear_reason_for_its_record_only(
    store: Store, tmp_path: Path, language: str, written: str, reason: str
) -> None:
    if language == "jsonl":
        text = jsonl(CONTACT_ABANDONED | {"answered_at": written}, CONTACT_BLOCKED)
    else:
        text = (
            "type,id,queue,offered_at,answered_at,blocked\n"
            f"contact,C-3,Tech,2026-03-02T08:02:00Z,{written},\n"
            "contact,C-2,Tech,2026-03-02T08:01:00Z,,yes\n"
        )
    path = write(tmp_path / "in" / f"contacts.{language}", text)
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (1, 1)
    assert rows(store, "contacts") == [CONTACT_BLOCKED_ROW]
    line = 2 if language == "csv" else 1  # after the CSV header
    assert store.sync_state("files").last_skipped_sample == f"{path}:{line}: {reason}"


def test_a_json_number_is_not_a_time(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "in" / "c.jsonl", jsonl(CONTACT_ABANDONED | {"answered_at": 1772438400}))
    assert (sync(store, source(tmp_path / "in")).skipped, rows(store, "contacts")) == (1, [])
    assert store.sync_state("files").last_skipped_sample == (
        f"{path}:1: answered_at: expected an ISO-8601 time with offset or Z, got 1772438400"
    )


# hold_s, wrap_up_s, blocked as CSV cells, and the values stored (or the reason the record is skipped).
CSV_NUMBERS = [
    ("12.5", "30", "TRUE", (12.5, 30.0, 1)),
    ("1e3", " 7 ", " yes ", (1000.0, 7.0, 1)),
    ("1_0", "0", "No", (10.0, 0.0, 0)),
    ("0", "0", "1", (0.0, 0.0, 1)),
    ("nan", "0", "0", "hold_s: expected a number, got 'nan'"),
    ("inf", "0", "0", "hold_s: expected a number, got 'inf'"),
    ("-2", "0", "0", "hold_s: expected seconds ≥ 0, got '-2'"),
    ("2", "1e400", "0", "wrap_up_s: expected a number, got '1e400'"),
    ("2", "x", "0", "wrap_up_s: expected a number, got 'x'"),
    ("2", "3", "maybe", "blocked: expected true/false/1/0/yes/no, got 'maybe'"),
]


@pytest.mark.parametrize(("hold", "wrap", "blocked", "expected"), CSV_NUMBERS, ids=[repr(c[:3]) for c in CSV_NUMBERS])
def test_csv_numbers_and_booleans(
    store: Store, tmp_path: Path, hold: str, wrap: str, blocked: str, expected: tuple | str
) -> None:
    path = write(
        tmp_path / "in" / "c.csv",
        f"id,queue,offered_at,hold_s,wrap_up_s,blocked\nC-1,Q,2026-03-02T08:00:00Z,{hold},{wrap},{blocked}\n",
    )
    sync(store, source(tmp_path / "in", record_type="contact"))
    if isinstance(expected, str):
        assert store.sync_state("files").last_skipped_sample == f"{path}:2: {expected}"
        assert rows(store, "contacts") == []
    else:
        (row,) = rows(store, "contacts")
        assert (row["hold_s"], row["wrap_up_s"], row["blocked"]) == expected


# agent_replies and reopens as CSV cells and as JSON values; None: the record is skipped.
COUNTS = [
    ("3", 3, 3),
    ("+3", 3, None),
    ("3.0", 3, None),
    ("\u0663", 3, None),  # ARABIC-INDIC DIGIT THREE: Python reads it as 3, and so did the files source before
    (" 4 ", 4, None),
    ("-1", None, None),
    ("9223372036854775807", 9223372036854775807, 9223372036854775807),  # SQLite's largest integer
    ("9223372036854775808", None, None),
    ("18446744073709551617", None, None),  # beyond 64 bits: orjson reads it as a float, the files source must not
]


@pytest.mark.parametrize(("written", "from_csv", "from_json"), COUNTS, ids=[c[0] for c in COUNTS])
def test_counts_from_csv_and_json(
    store: Store, tmp_path: Path, written: str, from_csv: int | None, from_json: int | None
) -> None:
    write(tmp_path / "in" / "a.csv", f"id,queue,status,created_at,reopens\nA,Q,open,2026-03-02T10:00:00Z,{written}\n")
    # In JSON the digits are written as a number literal, anything else as a string.
    literal = written if written.lstrip("-").isdigit() and written.isascii() else json.dumps(written)
    write(tmp_path / "in" / "b.jsonl", json.dumps(GOOD_B).removesuffix("}") + f', "reopens": {literal}}}\n')
    outcome = sync(store, source(tmp_path / "in", record_type="case"))
    found = {r["id"]: r["reopens"] for r in rows(store, "cases")}
    assert found.get("A") == from_csv and found.get("B") == from_json
    assert outcome.skipped == (from_csv is None) + (from_json is None)


def test_json_numbers_beyond_64_bits_are_read_exactly(store: Store, tmp_path: Path) -> None:
    # orjson reads integers beyond 64 bits as floats; the standard library keeps them exact, and decides.
    path = write(
        tmp_path / "in" / "big.jsonl",
        json.dumps(GOOD_A).replace('"A"', "18446744073709551617")
        + "\n"
        + json.dumps(CONTACT_BLOCKED).removesuffix("}")
        + ', "hold_s": 1'
        + "0" * 400
        + "}\n"
        + json.dumps(GOOD_B).removesuffix("}")
        + ', "reopens": 18446744073709551617}\n',
    )
    outcome = sync(store, source(tmp_path / "in"))
    assert (outcome.records, outcome.skipped) == (1, 2)
    assert [r["id"] for r in rows(store, "cases")] == ["18446744073709551617"]
    with_reasons = store.sync_state("files").last_skipped_sample
    assert with_reasons == f"{path}:3: reopens: whole number too large: 18446744073709551617"
    assert rows(store, "contacts") == []


def test_csv_lines_split_at_commas_follow_the_csv_module(store: Store, tmp_path: Path) -> None:
    # Lines without quotes are split at their commas; what csv.reader would refuse or read differently still goes to
    # it: a cell longer than its field limit, a carriage return inside a line. Blank lines and CRLF ends are fine.
    long_subject = "x" * 140_000
    path = write(
        tmp_path / "in" / "cases.csv",
        "id,queue,status,created_at,subject\r\n"
        "\r\n"
        f"L,Q,open,2026-03-02T10:00:00Z,{long_subject}\r\n"
        "A,Q,open,2026-03-02T10:00:00Z,plain; no quotes\r\n"
        "\n"
        'B,Q,open,2026-03-02T10:00:00Z,"quoted, with a comma"\n'
        "C,Q,open,2026-03-02T10:00:00Z,a\rb\n"
        "D,Q,open,2026-03-02T10:00:00Z,\n",
    )
    outcome = sync(store, source(tmp_path / "in", record_type="case"))
    assert (outcome.records, outcome.skipped) == (3, 2)
    assert [(r["id"], r["subject"]) for r in rows(store, "cases")] == [
        ("A", "plain; no quotes"),
        ("B", "quoted, with a comma"),
        ("D", None),
    ]
    state = store.sync_state("files")
    assert state.skipped_total == 2
    assert state.last_skipped_sample.startswith(f"{path}:7: malformed CSV: new-line character seen in unquoted field")


def test_a_running_collector_reads_an_appended_line_long_before_its_interval(store: Store, tmp_path: Path) -> None:
    import threading
    import time

    path = write(tmp_path / "feed.jsonl", "")
    settings = source(tmp_path, "*.jsonl", interval_s=3600)  # without the watch, the next poll is an hour away
    stop = threading.Event()
    collector = Collector(store, [settings])
    runner = threading.Thread(target=collector.run, args=(stop,), daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while store.sync_state(settings.name) is None:  # the first poll (of the empty file) has committed
            assert time.monotonic() < deadline, "the first poll never committed"
            time.sleep(0.01)
        append(path, jsonl({"type": "contact", "id": "w1", "queue": "Billing", "offered_at": "2026-11-23T01:00:00Z"}))
        while not rows(store, "contacts"):
            assert time.monotonic() < deadline, "the appended line was not read"
            time.sleep(0.01)
        assert [r["id"] for r in rows(store, "contacts")] == ["w1"]
    finally:
        stop.set()
        runner.join(10)


def test_a_line_appended_while_a_fetch_reads_is_polled_for_at_once(tmp_path: Path) -> None:
    """The race behind a 1.02 s lag with a 1 s interval: a line appended after the fetch looked at the files but
    before the wait began. The wait compares with what the fetch saw, so it returns at once."""
    import threading

    path = write(tmp_path / "feed.jsonl", jsonl({"type": "contact", "id": "w0", "queue": "Billing"}))
    adapter = FilesAdapter(source(tmp_path, "*.jsonl", interval_s=3600))
    adapter.fetch(None, ts(2026, 11, 23, 1))
    append(path, jsonl({"type": "contact", "id": "w1", "queue": "Billing"}))  # after the fetch, before the wait
    stop = threading.Event()
    waiting = threading.Thread(target=adapter.wait, args=(stop, 3600.0), daemon=True)
    waiting.start()
    waiting.join(30)
    stop.set()
    assert not waiting.is_alive(), "the wait did not notice the line appended after the fetch"
