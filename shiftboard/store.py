"""The SQLite cache: one writer (the collector), any number of readers (boards, snapshot, the exporter).

WAL mode lets readers and the writer work at once. Every batch of records is written together with its source's
new cursor in one transaction, so a crash loses at most the batch in flight and never records it twice.
Times are UTC epoch seconds.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import os
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from shiftboard.model import AgentState, Batch, Case, Contact, QueueSnapshot, Rating

OPEN_SQL = "('new','open','pending','on_hold')"

# Each entry moves the schema from version i to i + 1. Never edit a released entry: append a new one.
MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE cases (
        source TEXT NOT NULL, id TEXT NOT NULL, queue TEXT NOT NULL, status TEXT NOT NULL,
        priority TEXT NOT NULL, created_at REAL NOT NULL, channel TEXT, subject TEXT, customer TEXT,
        assignee TEXT, first_reply_at REAL, solved_at REAL, updated_at REAL, agent_replies INTEGER,
        reopens INTEGER,
        PRIMARY KEY (source, id)
    ) WITHOUT ROWID;
    CREATE INDEX cases_open ON cases (queue, created_at) WHERE status IN {OPEN_SQL};
    CREATE INDEX cases_created ON cases (created_at);
    CREATE INDEX cases_solved ON cases (solved_at) WHERE solved_at IS NOT NULL;

    CREATE TABLE contacts (
        source TEXT NOT NULL, id TEXT NOT NULL, queue TEXT NOT NULL, offered_at REAL NOT NULL,
        channel TEXT NOT NULL, customer TEXT, agent TEXT, answered_at REAL, ended_at REAL,
        abandoned_at REAL, blocked INTEGER NOT NULL DEFAULT 0, hold_s REAL, wrap_up_s REAL,
        PRIMARY KEY (source, id)
    ) WITHOUT ROWID;
    CREATE INDEX contacts_offered ON contacts (offered_at);
    CREATE INDEX contacts_waiting ON contacts (queue, offered_at)
        WHERE answered_at IS NULL AND abandoned_at IS NULL AND ended_at IS NULL AND blocked = 0;
    CREATE INDEX contacts_answered ON contacts (answered_at) WHERE answered_at IS NOT NULL;
    CREATE INDEX contacts_abandoned ON contacts (abandoned_at) WHERE abandoned_at IS NOT NULL;
    CREATE INDEX contacts_ended ON contacts (ended_at) WHERE ended_at IS NOT NULL;
    CREATE INDEX contacts_customer ON contacts (customer, offered_at) WHERE customer IS NOT NULL;

    CREATE TABLE agent_states (
        source TEXT NOT NULL, agent TEXT NOT NULL, since REAL NOT NULL, state TEXT NOT NULL,
        name TEXT, queues TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (source, agent, since)
    ) WITHOUT ROWID;
    CREATE INDEX agent_states_since ON agent_states (since);

    CREATE TABLE ratings (
        source TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, score REAL NOT NULL,
        scale_max REAL NOT NULL, rated_at REAL NOT NULL, scale_min REAL NOT NULL DEFAULT 0, case_id TEXT,
        queue TEXT, agent TEXT, comment TEXT,
        PRIMARY KEY (source, id)
    ) WITHOUT ROWID;
    CREATE INDEX ratings_rated ON ratings (rated_at);

    CREATE TABLE queue_snapshots (
        source TEXT NOT NULL, queue TEXT NOT NULL, at REAL NOT NULL, waiting INTEGER,
        longest_wait_s REAL, agents_online INTEGER, agents_available INTEGER, window_start REAL,
        offered INTEGER, answered INTEGER, abandoned INTEGER, short_abandoned INTEGER,
        answered_within_sl INTEGER, abandoned_within_sl INTEGER, sl_threshold_s REAL, wait_total_s REAL,
        PRIMARY KEY (source, queue, at)
    ) WITHOUT ROWID;
    CREATE INDEX queue_snapshots_at ON queue_snapshots (at);

    CREATE TABLE sync_state (
        source TEXT PRIMARY KEY, kind TEXT, cursor TEXT, last_attempt_at REAL, last_success_at REAL,
        last_error TEXT, last_error_at REAL, failing_since REAL,
        consecutive_failures INTEGER NOT NULL DEFAULT 0, records_total INTEGER NOT NULL DEFAULT 0,
        skipped_total INTEGER NOT NULL DEFAULT 0, last_skipped_sample TEXT
    );
    """,
    # 2: covering indexes for the board's window and open-item queries (shiftboard/metrics.py): each query reads
    # one index range and never the table, so a refresh costs what the window holds, however long history is.
    f"""
    DROP INDEX contacts_offered;
    CREATE INDEX contacts_offered ON contacts
        (offered_at, queue, blocked, answered_at, abandoned_at, ended_at, channel, customer);
    DROP INDEX contacts_ended;
    CREATE INDEX contacts_ended ON contacts (ended_at, queue, answered_at, wrap_up_s, blocked)
        WHERE ended_at IS NOT NULL;
    DROP INDEX cases_created;
    CREATE INDEX cases_created ON cases (created_at, queue, status, solved_at);
    DROP INDEX cases_solved;
    CREATE INDEX cases_solved ON cases (solved_at, queue, status, created_at, agent_replies, reopens, priority,
        channel, assignee, first_reply_at) WHERE solved_at IS NOT NULL;
    CREATE INDEX cases_first_reply ON cases (first_reply_at, queue, status, created_at)
        WHERE first_reply_at IS NOT NULL;
    DROP INDEX agent_states_since;
    CREATE INDEX agent_states_since ON agent_states (since, source, agent, state, queues);
    CREATE INDEX cases_open_cover ON cases (created_at, queue, status, priority, channel, assignee, first_reply_at)
        WHERE status IN {OPEN_SQL};
    """,
    # 3: the backlog counted by SQLite in index order (shiftboard/metrics.py, _read_open_cases and
    # _read_backlog_times): by status, priority and channel, and by assignee, without a sort; ages and SLA states as
    # ranges of creation time per queue and priority. status is a column so that each index covers its query's status
    # test. The open test is spelt with OR, not IN: with several partial indexes on `status IN (...)`, each upsert of
    # a case rebuilt the IN lists and case updates became ~10x slower (SQLite 3.40).
    """
    CREATE INDEX cases_open_counts ON cases (queue, status, priority, channel, created_at)
        WHERE (status = 'new' OR status = 'open' OR status = 'pending' OR status = 'on_hold');
    CREATE INDEX cases_open_assignee ON cases (queue, assignee, created_at, status)
        WHERE (status = 'new' OR status = 'open' OR status = 'pending' OR status = 'on_hold');
    CREATE INDEX cases_open_sla ON cases (queue, priority, created_at, first_reply_at, status)
        WHERE (status = 'new' OR status = 'open' OR status = 'pending' OR status = 'on_hold');
    """,
    # 4: how many transactions have written each table (write_batch, prune), so a reader can keep what it computed
    # from a table until that table changes (the backlog, shiftboard/metrics.py) instead of recomputing it after
    # every commit: a source commits its sync state on every poll, most of them with no new record.
    """
    CREATE TABLE table_changes (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
    """,
    # 5: the earliest time each of a table's recent writes stored (write_batch; ``Store.written_since``), so that a
    # reader can extend what it computed from the rows up to a moment with the rows after it, rather than read
    # them all again: the agents' timeline from the window's start (shiftboard/metrics.py, _agents).
    """
    CREATE TABLE table_writes (name TEXT NOT NULL, n INTEGER NOT NULL, earliest REAL NOT NULL, PRIMARY KEY (name, n))
        WITHOUT ROWID;
    """,
    # 6: the queues each of the cases' recent writes touched (write_batch; ``Store.keys_written_since``), so that a
    # reader counts again only those queues' backlog after a write (shiftboard/metrics.py, _open_cases) rather than
    # every open case: with thousands open, a helpdesk's few writes a minute each cost a board a whole count.
    """
    CREATE TABLE table_write_keys (name TEXT NOT NULL, n INTEGER NOT NULL, key TEXT NOT NULL,
        PRIMARY KEY (name, n, key)) WITHOUT ROWID;
    """,
)
_BUMP_CHANGES = "INSERT INTO table_changes (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1"
_LOG_WRITE = "INSERT INTO table_writes (name, n, earliest) SELECT name, n, ? FROM table_changes WHERE name = ?"
#: On a writer's connection only (TEMP): the earliest offer or end of the stored contacts an update replaced, where
#: the same contact's new times do not reach as early (a contact offered or ended earlier than it is now, or no
#: longer ended). A write's earliest time (``_contacts_earliest``) is then the earliest of what it stored and this.
#: A trigger rather than reading every written contact first: that read was a fifth of a contacts write (10,000 in
#: 110 ms), and sources almost never move a contact's times back, so the trigger almost never fires.
_NOTE_REPLACED_CONTACTS = """
CREATE TEMP TABLE IF NOT EXISTS contacts_replaced (earliest REAL NOT NULL);
CREATE TEMP TRIGGER IF NOT EXISTS contacts_replaced AFTER UPDATE ON main.contacts
WHEN OLD.offered_at < NEW.offered_at
    OR (OLD.ended_at IS NOT NULL AND (NEW.ended_at IS NULL OR OLD.ended_at < NEW.ended_at))
BEGIN
    INSERT INTO contacts_replaced VALUES (MIN(OLD.offered_at, COALESCE(OLD.ended_at, OLD.offered_at)));
END;
"""
_TRIM_WRITES = "DELETE FROM table_writes WHERE name = ? AND n <= (SELECT n FROM table_changes WHERE name = ?) - ?"
_LOG_KEY = "INSERT INTO table_write_keys (name, n, key) SELECT name, n, ? FROM table_changes WHERE name = ?"
_TRIM_KEYS = "DELETE FROM table_write_keys WHERE name = ? AND n <= (SELECT n FROM table_changes WHERE name = ?) - ?"
#: On a writer's connection only (TEMP), like ``_NOTE_REPLACED_CONTACTS``: the queue a case left when an update moved
#: it to another, a queue the write touched besides those it stored (``_cases_queues``).
_NOTE_MOVED_CASES = """
CREATE TEMP TABLE IF NOT EXISTS cases_moved (queue TEXT NOT NULL);
CREATE TEMP TRIGGER IF NOT EXISTS cases_moved AFTER UPDATE OF queue ON main.cases WHEN OLD.queue IS NOT NEW.queue
BEGIN
    INSERT INTO cases_moved VALUES (OLD.queue);
END;
"""
#: Writes kept in ``table_writes`` per table: a reader that missed more than this reads the table again.
WRITES_KEPT = 64
SCHEMA_VERSION = len(MIGRATIONS)


#: Page cache of a read-only connection, KiB (a reader of the board's figures). The repeat-contact test seeks into the
#: customer index once per contact offered today, scattered over its pages: with SQLite's default 2 MiB every refresh
#: read them again.
READ_CACHE_KIB = 32768
#: The page cache of a prune (``PRAGMA cache_size``: negative is KiB).
PRUNE_CACHE_SIZE = -2048


class StoreError(Exception):
    """The cache cannot be used; the message says why and what to do."""


@dataclass(slots=True, frozen=True)
class SyncState:
    """What the collector last knew of one source."""

    source: str
    kind: str | None
    cursor: dict[str, Any] | None
    last_attempt_at: float | None
    last_success_at: float | None
    last_error: str | None
    last_error_at: float | None
    failing_since: float | None
    consecutive_failures: int
    records_total: int
    skipped_total: int
    last_skipped_sample: str | None


def _columns(record_type: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(record_type))


_TABLES: dict[type, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    Case: ("cases", _columns(Case), ("source", "id")),
    Contact: ("contacts", _columns(Contact), ("source", "id")),
    AgentState: ("agent_states", _columns(AgentState), ("source", "agent", "since")),
    Rating: ("ratings", _columns(Rating), ("source", "id")),
    QueueSnapshot: ("queue_snapshots", _columns(QueueSnapshot), ("source", "queue", "at")),
}


def _upsert_sql(table: str, columns: Sequence[str], key: Sequence[str], rows: int = 1) -> str:
    """An upsert of ``rows`` records at once. A later record with the key of an earlier one in the same statement
    updates it, as a later statement would."""
    names = ", ".join(columns)
    marks = ", ".join(["(" + ", ".join("?" for _ in columns) + ")"] * rows)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return f"INSERT INTO {table} ({names}) VALUES {marks} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"


_UPSERTS = {kind: _upsert_sql(*spec) for kind, spec in _TABLES.items()}


def _identity(value: object) -> object:
    return value


# sqlite3 binds int, float, str and bytes directly, but first looks every other value (None, bool) up as a possible
# adapter, and each miss formats and discards an AttributeError: a tenth of a bulk write. Registered adapters are
# found at once. They bind exactly what sqlite3 binds without them (NULL; 0 or 1), so no other user of sqlite3 in the
# process sees a difference; adapters someone registered already are kept.
for _type, _adapter in ((type(None), _identity), (bool, int)):
    if (_type, sqlite3.PrepareProtocol) not in sqlite3.adapters:
        sqlite3.register_adapter(_type, _adapter)
#: Records per statement in a large batch. One statement per record spent two fifths of a bulk write starting and
#: ending statements (opening a cursor on the table and on each index, resetting, binding calls) rather than inserting.
MULTI_ROWS = 100
# attrgetter rather than dataclasses.astuple: astuple deep-copies every field and cost ~25 µs a record, more than
# the SQLite insert itself, which made bulk imports (the files source) crawl.
_GETTERS = {kind: operator.attrgetter(*spec[1]) for kind, spec in _TABLES.items()}


@lru_cache(maxsize=1024)
def _queues_json(queues: tuple[str, ...]) -> str:
    """An agent's queues as stored: a JSON list. Cached: agents share a few sets of queues, and json.dumps cost 2 µs
    per agent state, more than binding all its other values."""
    return json.dumps(list(queues))


def _rows(record_type: type, records: list[Any]) -> Iterator[tuple[Any, ...]]:
    """The parameter rows of ``records`` (all of ``record_type``) in their table's column order."""
    getter = _GETTERS[record_type]
    if record_type is AgentState:
        # queues is the last column, stored as a JSON list.
        return ((*values[:-1], _queues_json(tuple(values[-1]))) for values in map(getter, records))
    # map() of the attrgetter runs in C: a Python function call per record cost as much as binding its values.
    return map(getter, records)


class Store:
    """An open cache file. Thread-safe: writes are serialized by a lock; reads use their own connection."""

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._lock = threading.RLock()
        self._multi: dict[type, tuple[int, str]] = {}
        try:
            self._conn = self._connect()
            # Refuse a newer or foreign file before changing anything in it (WAL mode rewrites the header).
            self._check_version()
            if not readonly:
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
                # 64 MiB of page cache for the writer (the default is 2 MiB): bulk imports into a cache of a million
                # rows were spending half their time re-reading index pages. Allocated only as pages are used.
                self._conn.execute("PRAGMA cache_size = -65536")
                # The writer's statement journals in memory instead of in temporary files. A multi-row upsert may
                # fail halfway (a NOT NULL column), so SQLite first copies each page it changes that an earlier
                # statement of the transaction changed already: a 1M-record import copied 4 GiB that way through
                # write(2), a quarter of the write's CPU. Only the statement's own rollback reads the copy, so commits
                # and their durability are unchanged; the copy is the pages one statement changes (< 1 MiB).
                self._conn.execute("PRAGMA temp_store = MEMORY")
                # Checkpoint (copy the WAL into the file, two fsyncs) once the WAL holds 40 MiB rather than SQLite's
                # 4 MiB. A large commit (an import's page of 50,000 records writes ~20 MiB) checkpointed every time:
                # the fsyncs were a tenth of a 1M-record import's time, and pages changed again by the next commit
                # were copied again. The WAL file then grows to ~65 MiB instead of ~33 MiB; readers find pages in it
                # through its index as before.
                self._conn.execute("PRAGMA wal_autocheckpoint = 10000")
                self._migrate()
                self._conn.executescript(_NOTE_REPLACED_CONTACTS)
                self._conn.executescript(_NOTE_MOVED_CASES)
        except sqlite3.DatabaseError as error:
            raise StoreError(_explain(error, self.path)) from None

    @cached_property
    def db(self) -> Any:
        """The cache as a ``sqlite_utils.Database`` on the same connection. Imported on first use: the board and the
        CLI never need it, and importing it costs a tenth of a second at start-up."""
        import sqlite_utils

        return sqlite_utils.Database(self._conn)

    # -- opening -------------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            if not self.path.exists():
                raise StoreError(f"cache {self.path} does not exist yet; start the collector first")
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
            conn.execute(f"PRAGMA cache_size = -{READ_CACHE_KIB}")
        else:
            _make_private_dir(self.path.parent)
            # Checked before SQLite opens the file, whose own errors ("unable to open database file") do not say
            # which: the file, or its folder where the WAL and shared-memory files must be created.
            if self.path.exists() and not os.access(self.path, os.W_OK):
                raise StoreError(
                    f"cache {self.path} is read-only (file permissions or a read-only filesystem); the collector needs "
                    "to write it: fix its permissions or use another [cache] path"
                )
            if not os.access(self.path.parent, os.W_OK):
                raise StoreError(
                    f"cache {self.path} is read-only: its folder cannot be written (SQLite keeps its journal there); "
                    "fix the folder's permissions or use another [cache] path"
                )
            if not self.path.exists():
                # Create the file owner-only before SQLite opens it: it holds customer names and subjects.
                fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        return conn

    def _check_version(self) -> int:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"cache {self.path} was written by a newer shiftboard (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade shiftboard or point [cache] path at another file"
            )
        if self.readonly and version < SCHEMA_VERSION:
            raise StoreError(f"cache {self.path} has an older schema ({version}); run the collector to migrate it")
        return version

    def _migrate(self) -> None:
        with self._lock:
            version = self._check_version()
            for number in range(version, SCHEMA_VERSION):
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _statements(MIGRATIONS[number]):
                        self._conn.execute(statement)
                    self._conn.execute(f"PRAGMA user_version = {number + 1}")
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, serialized with every other writer of this Store."""
        if self.readonly:
            raise StoreError("this cache is open read-only")
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise StoreError(_explain(error, self.path)) from None
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as error:
                self._rollback()
                raise StoreError(_explain(error, self.path)) from None
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        # SQLite rolls back by itself on some errors (a full disk); only roll back what is still open.
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def write_batch(self, source: str, kind: str, batch: Batch, cursor: dict[str, Any] | None, at: float) -> None:
        """Upsert a batch and record the source's new cursor and success, all in one transaction."""
        with self.transaction() as conn:
            for record_type, records in (
                (Case, batch.cases),
                (Contact, batch.contacts),
                (AgentState, batch.agent_states),
                (Rating, batch.ratings),
                (QueueSnapshot, batch.queue_snapshots),
            ):
                if records:
                    table = _TABLES[record_type][0]
                    self._upsert(conn, record_type, records)
                    conn.execute(_BUMP_CHANGES, (table,))
                    # The tables whose readers extend what they kept rather than read it again log each write's
                    # earliest time (``written_since``).
                    earliest = None
                    if record_type is Contact:
                        earliest = _contacts_earliest(conn, records)
                    elif record_type is AgentState:
                        earliest = min(state.since for state in records)
                    if earliest is not None:
                        conn.execute(_LOG_WRITE, (earliest, table))
                        conn.execute(_TRIM_WRITES, (table, table, WRITES_KEPT))
                    if record_type is Case:
                        conn.executemany(_LOG_KEY, ((queue, table) for queue in sorted(_cases_queues(conn, records))))
                        conn.execute(_TRIM_KEYS, (table, table, WRITES_KEPT))
            sample = batch.skipped_samples[-1] if batch.skipped_samples else None
            conn.execute(
                """
                INSERT INTO sync_state (source, kind, cursor, last_attempt_at, last_success_at,
                    consecutive_failures, failing_since, records_total, skipped_total, last_skipped_sample)
                VALUES (:source, :kind, :cursor, :at, :at, 0, NULL, :records, :skipped, :sample)
                ON CONFLICT (source) DO UPDATE SET kind = :kind, cursor = :cursor, last_attempt_at = :at,
                    last_success_at = :at, consecutive_failures = 0, failing_since = NULL,
                    records_total = records_total + :records, skipped_total = skipped_total + :skipped,
                    last_skipped_sample = COALESCE(:sample, last_skipped_sample)
                """,
                {
                    "source": source,
                    "kind": kind,
                    "cursor": None if cursor is None else json.dumps(cursor, sort_keys=True),
                    "at": at,
                    "records": len(batch),
                    "skipped": batch.skipped,
                    "sample": sample,
                },
            )

    def _upsert(self, conn: sqlite3.Connection, record_type: type, records: list[Any]) -> None:
        """Upsert ``records`` in their order: whole groups of ``_multi_rows`` per statement, the rest one by one."""
        # Every index is kept up to date row by row, even in a large import. Dropping the indexes for an import and
        # building them after it would save ~1.5 s of ~15 s per million records, but it is not safe: boards read
        # with INDEXED BY (metrics.py, drilldown.py), so one reading between the import's commits would fail with
        # "no such index"; dropping and building them inside each page's transaction instead rebuilds every index
        # over the whole table once per page, which costs more than it saves.
        rows = _rows(record_type, records)
        per, sql = self._multi_rows(record_type)
        groups = len(records) // per if per > 1 else 0
        if groups:
            flat = itertools.chain.from_iterable
            conn.executemany(sql, (tuple(flat(itertools.islice(rows, per))) for _ in range(groups)))
        conn.executemany(_UPSERTS[record_type], rows)  # what is left: fewer than ``per``

    def _multi_rows(self, record_type: type) -> tuple[int, str]:
        """(records per multi-row upsert, its SQL) for this connection, within its limit of bound values."""
        found = self._multi.get(record_type)
        if found is None:
            table, columns, key = _TABLES[record_type]
            per = min(MULTI_ROWS, self._conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(columns))
            found = self._multi[record_type] = (per, _upsert_sql(table, columns, key, per))
        return found

    def record_failure(self, source: str, kind: str, reason: str, at: float) -> None:
        """Note a failed sync: the reason, since when it has been failing, how many times in a row."""
        with self.transaction() as conn:
            conn.execute(
                """
                INSERT INTO sync_state (source, kind, last_attempt_at, last_error, last_error_at,
                    failing_since, consecutive_failures)
                VALUES (:source, :kind, :at, :reason, :at, :at, 1)
                ON CONFLICT (source) DO UPDATE SET kind = :kind, last_attempt_at = :at, last_error = :reason,
                    last_error_at = :at, failing_since = COALESCE(failing_since, :at),
                    consecutive_failures = consecutive_failures + 1
                """,
                {"source": source, "kind": kind, "reason": reason, "at": at},
            )

    def prune(self, before: float) -> dict[str, int]:
        """Delete history that ended before ``before``; open cases and waiting contacts are always kept."""
        statements = {
            "cases": f"DELETE FROM cases WHERE status NOT IN {OPEN_SQL} AND COALESCE(updated_at, solved_at, "
            "created_at) < ?",
            "contacts": "DELETE FROM contacts WHERE offered_at < ? AND (answered_at IS NOT NULL OR "
            "abandoned_at IS NOT NULL OR ended_at IS NOT NULL OR blocked = 1)",
            "ratings": "DELETE FROM ratings WHERE rated_at < ?",
            "queue_snapshots": "DELETE FROM queue_snapshots WHERE at < ?",
            # Keep each agent's latest state however old, so the board still knows who is offline.
            "agent_states": "DELETE FROM agent_states WHERE since < ? AND since < (SELECT MAX(b.since) FROM "
            "agent_states b WHERE b.source = agent_states.source AND b.agent = agent_states.agent)",
        }
        removed: dict[str, int] = {}
        with self.transaction() as conn:
            # A prune scans whole tables: under the writer's 64 MiB page cache it would leave that much resident
            # in a board that collects in-process (+66 MB on a 1M cache, for a prune that deletes nothing). With
            # SQLite's default 2 MiB, the same prune takes the same CPU; a huge one (2M rows) takes about a fifth more.
            size = conn.execute("PRAGMA cache_size").fetchone()[0]
            conn.execute(f"PRAGMA cache_size = {PRUNE_CACHE_SIZE}")
            try:
                for table, sql in statements.items():
                    removed[table] = conn.execute(sql, (before,)).rowcount
                    if removed[table]:
                        conn.execute(_BUMP_CHANGES, (table,))
            finally:
                conn.execute(f"PRAGMA cache_size = {int(size)}")
        return removed

    # -- reading -------------------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Run a read query and return its rows (sqlite3.Row: by index or by column name)."""
        with self._lock:
            try:
                cursor = self._conn.execute(sql, params)
                cursor.row_factory = sqlite3.Row
                return cursor.fetchall()
            except sqlite3.DatabaseError as error:
                raise StoreError(_explain(error, self.path)) from None

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read: every query inside sees the same moment of the cache."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    @staticmethod
    def changes(conn: sqlite3.Connection) -> Counter[str]:
        """How many transactions have written each table (0: never), read on ``conn`` inside ``read()``: equal
        numbers mean the table is as it was. One query for every table: a board's read looks at most of them."""
        return Counter(dict(conn.execute("SELECT name, n FROM table_changes")))

    @staticmethod
    def written_since(conn: sqlite3.Connection, table: str, before: int, now: int) -> float | None:
        """The earliest time stored in ``table`` by its writes after change ``before`` up to change ``now``
        (``changes``): inf when none, None when not every one of them is known (a prune, or more than WRITES_KEPT
        writes ago), so the reader must read the table again. The time of agent_states is ``since``; of contacts,
        the offer or end of each contact written, as it was before the write and as written."""
        if now == before:
            return math.inf
        count, earliest = conn.execute(
            "SELECT COUNT(*), MIN(earliest) FROM table_writes WHERE name = ? AND n > ? AND n <= ?", (table, before, now)
        ).fetchone()
        return earliest if count == now - before else None

    @staticmethod
    def keys_written_since(conn: sqlite3.Connection, table: str, before: int, now: int) -> set[str] | None:
        """The keys (of cases: the queues) that ``table``'s writes after change ``before`` up to change ``now``
        (``changes``) touched: empty when none, None when not every one of them is known (a prune, or more than
        WRITES_KEPT writes ago), so the reader must read the table again."""
        if now == before:
            return set()
        rows = conn.execute(
            "SELECT n, key FROM table_write_keys WHERE name = ? AND n > ? AND n <= ?", (table, before, now)
        ).fetchall()
        return {key for _, key in rows} if len({n for n, _ in rows}) == now - before else None

    def data_version(self) -> int:
        """A number that changes whenever another connection commits to the cache (SQLite ``PRAGMA data_version``):
        a check costing microseconds, so a viewer can read as soon as a collector writes instead of waiting a
        refresh interval."""
        with self._lock:
            return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def sync_states(self) -> list[SyncState]:
        return [_sync_state(row) for row in self.query("SELECT * FROM sync_state ORDER BY source")]

    def sync_state(self, source: str) -> SyncState | None:
        rows = self.query("SELECT * FROM sync_state WHERE source = ?", (source,))
        return _sync_state(rows[0]) if rows else None

    def counts(self) -> dict[str, int]:
        """Rows per table, for doctor and tests."""
        return {
            table: self.query(f"SELECT COUNT(*) FROM {table}")[0][0]
            for table in ("cases", "contacts", "agent_states", "ratings", "queue_snapshots")
        }


def _sync_state(row: sqlite3.Row) -> SyncState:
    values = dict(row)
    values["cursor"] = json.loads(values["cursor"]) if values["cursor"] else None
    return SyncState(**values)


def _statements(script: str) -> Iterable[str]:
    for statement in script.split(";"):
        if statement.strip():
            yield statement


def _make_private_dir(folder: Path) -> None:
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700)


def _explain(error: sqlite3.DatabaseError, path: Path) -> str:
    text = str(error)
    if "readonly" in text or "read-only" in text:
        return f"cache {path} is read-only: {text}; check the file's permissions or use another [cache] path"
    if "disk is full" in text or "database or disk is full" in text:
        return f"cache {path}: the disk is full; free space, the cache is unchanged"
    if "not a database" in text or "malformed" in text:
        return f"cache {path} is not a shiftboard cache or is damaged ({text}); move it aside"
    if "unable to open" in text:
        return f"cache {path} cannot be opened ({text}); check the folder exists and is writable"
    return f"cache {path}: {text}"


_OFFERED, _ENDED = operator.attrgetter("offered_at"), operator.attrgetter("ended_at")


def _cases_queues(conn: sqlite3.Connection, cases: Sequence[Case]) -> set[str]:
    """Just after writing ``cases``: the queues they are in, and those they left (``_NOTE_MOVED_CASES``)."""
    queues = {case.queue for case in cases}
    left = conn.execute("SELECT DISTINCT queue FROM temp.cases_moved").fetchall()
    if left:
        queues.update(queue for (queue,) in left)
        conn.execute("DELETE FROM temp.cases_moved")
    return queues


def _contacts_earliest(conn: sqlite3.Connection, contacts: Sequence[Contact]) -> float:
    """Just after writing ``contacts``: the earliest offer or end among them and the stored contacts they replaced
    (``_NOTE_REPLACED_CONTACTS``). A reader that kept sums over the contacts offered or ended before a moment keeps
    them while every write is at or after it."""
    written = min(map(_OFFERED, contacts))
    ended = [moment for moment in map(_ENDED, contacts) if moment is not None]
    if ended:
        written = min(written, min(ended))
    replaced = conn.execute("SELECT MIN(earliest) FROM temp.contacts_replaced").fetchone()[0]
    if replaced is None:
        return written
    conn.execute("DELETE FROM temp.contacts_replaced")
    return min(written, replaced)
