"""The files source's shortcuts for large imports give what the plain path gives: quoted CSV records between split
ones (one csv.reader for the whole read), queue lists, and the garbage collector left as it was found."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from shiftboard.adapters.base import AdapterContext
from shiftboard.store import Store
from tests.adapters.test_files import rows, source, sync, ts, write

T = "2026-03-02T10:00:00Z"


def test_quoted_records_between_split_ones_and_after_a_malformed_one(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "in" / "cases.csv",
        "id,queue,status,created_at,subject\n"
        f'A,Q,open,{T},"one, quoted"\n'
        f"B,Q,open,{T},plain\n"
        f'C,Q,open,{T},"two\nlines"\n'
        f'D,Q,open,{T},"say ""hi"", then go"\n'
        f"E,Q,open,{T},a\rb\n"
        f'F,Q,open,{T},"after, the error"\n'
        f"G,Q,open,{T},plain again\n",
    )
    outcome = sync(store, source(tmp_path / "in", record_type="case"))
    assert (outcome.records, outcome.skipped) == (6, 1)
    assert [(r["id"], r["subject"], r["created_at"]) for r in rows(store, "cases")] == [
        ("A", "one, quoted", ts(2026, 3, 2, 10)),
        ("B", "plain", ts(2026, 3, 2, 10)),
        ("C", "two\nlines", ts(2026, 3, 2, 10)),
        ("D", 'say "hi", then go', ts(2026, 3, 2, 10)),
        ("F", "after, the error", ts(2026, 3, 2, 10)),
        ("G", "plain again", ts(2026, 3, 2, 10)),
    ]
    # E is on physical line 7: C's quoted cell took lines 4 and 5.
    assert store.sync_state("files").last_skipped_sample.startswith(f"{path}:7: malformed CSV:")


def test_after_a_malformed_record_of_several_lines_reading_resumes_after_its_first_line(
    store: Store, tmp_path: Path
) -> None:
    # K opens a quoted cell on line 2, closes it on line 3 and opens another, closes that on line 4 and breaks there
    # (a carriage return in an unquoted cell). Line 2 is skipped and reading starts again at line 3, whose second
    # cell opens a quote that line 4 closes before breaking the same way; then line 4 alone breaks again.
    path = write(
        tmp_path / "in" / "cases.csv",
        "id,queue,status,created_at,subject\n"
        f'K,Q,open,{T},"a\n'
        'x","y\n'
        'z",w\rv\n'
        f'L,Q,open,{T},"fine, quoted"\n'
        f"M,Q,open,{T},plain\n",
    )
    outcome = sync(store, source(tmp_path / "in", record_type="case"))
    assert (outcome.records, outcome.skipped) == (2, 3)
    assert [(r["id"], r["subject"]) for r in rows(store, "cases")] == [("L", "fine, quoted"), ("M", "plain")]
    assert store.sync_state("files").skipped_total == 3
    assert store.sync_state("files").last_skipped_sample.startswith(f"{path}:4: malformed CSV:")


def test_quoted_records_across_pages_resume_where_the_page_ended(store: Store, tmp_path: Path) -> None:
    lines = [f'Q{n},Q,open,{T},"row {n}, quoted\nover two lines"\n' for n in range(7)]
    write(tmp_path / "in" / "cases.csv", "id,queue,status,created_at,subject\n" + "".join(lines))
    outcome = sync(store, source(tmp_path / "in", record_type="case", batch_size=3))
    assert (outcome.records, outcome.pages, outcome.skipped) == (7, 3, 0)
    assert [r["subject"] for r in rows(store, "cases")] == [f"row {n}, quoted\nover two lines" for n in range(7)]


@pytest.mark.parametrize(
    ("cell", "queues"),
    [
        ("Billing;Tech", '["Billing", "Tech"]'),
        (" Billing | Tech ;; VIP ;", '["Billing", "Tech", "VIP"]'),
        ("Billing", '["Billing"]'),
        ("", "[]"),
        (" ; | ", "[]"),
    ],
)
def test_csv_queue_lists(store: Store, tmp_path: Path, cell: str, queues: str) -> None:
    write(tmp_path / "in" / "agents.csv", f"type,agent,state,since,queues\nagent_state,ana,available,{T},{cell}\n")
    sync(store, source(tmp_path / "in"))
    assert [r["queues"] for r in rows(store, "agent_states", order="agent")] == [queues]


@pytest.fixture
def gc_state() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("gc_state")
@pytest.mark.parametrize("enabled", [True, False])
def test_a_fetch_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path, enabled: bool) -> None:
    from shiftboard.adapters.files import FilesAdapter

    write(tmp_path / "in" / "cases.csv", f"id,queue,status,created_at\nA,Q,open,{T}\nB,Q,bad,{T}\n")
    adapter = FilesAdapter(source(tmp_path / "in", record_type="case"), AdapterContext())
    (gc.enable if enabled else gc.disable)()
    result = adapter.fetch(None, 0.0)
    assert (len(result.batch), result.batch.skipped) == (1, 1)
    assert gc.isenabled() is enabled
