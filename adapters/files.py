"""The files source: imports JSON Lines and CSV exports, so data from any phone system or helpdesk can reach the
board without an adapter of its own.

``path`` is a glob (``~`` expanded, ``**`` recursing). Each matching file holds one record per line; what a line
means is in ``_file_records``. A file's format comes from its name (``.csv``; ``.jsonl``, ``.ndjson``, ``.json``,
``.jl``), otherwise from its first character (``{`` is JSON Lines, anything else CSV).

Syncs are incremental. The cursor records, per file, its device and inode, the bytes consumed, the lines consumed
(for ``file:line`` reasons), a fingerprint of its first bytes and of the bytes just before the offset, and for CSV
the header. Only appended lines are read; a file whose inode changed, that is shorter than the offset, or whose
fingerprints differ was rewritten and is read again whole (a later record with the same key replaces the earlier
one, so reading again changes nothing that did not change). A line is consumed only once its newline is written:
a half-written last line waits for the next sync. Deleted files are forgotten; new ones are picked up.

Between polls the source waits for a matching file to appear, grow, be replaced or go away, and then polls at once,
so an appended line reaches the cache well within a second whatever ``interval_s`` is; ``interval_s`` still bounds
the wait. On Linux the kernel says when the glob's folders change (``_glob_watch``), and the source looks at the files
(a glob and a stat each) only then; elsewhere, and for folders on a network file system, it looks every
``WATCH_S``. While the files keep changing, polls start at least MIN_POLL_GAP_S apart, so a file appended many
times a second is read in batches.

A bad line is skipped and reported as ``file:line: reason``; the rest is imported. A file that cannot be opened
(permissions, say) is reported the same way, once per change of the file's metadata, and retried when it changes;
it never fails the source. A glob that matches nothing is not an error either: the files may not exist yet.
"""

from __future__ import annotations

import csv
import gc
import glob
import hashlib
import json
import math
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, Final, Literal

import orjson
from pydantic import Field

from shiftboard.adapters import _file_records as records
from shiftboard.adapters._glob_watch import GlobWatch, open_watch, why_unwatched
from shiftboard.adapters.base import Adapter, Cursor, FetchResult, SourceError, SourceSettings
from shiftboard.model import Batch

#: A line longer than this is skipped (and never held in memory whole).
MAX_LINE_BYTES: Final = 1 << 20
#: Bytes read from a file at a time.
CHUNK_BYTES: Final = 1 << 20
#: Bytes at the start of a file, and before the offset, whose fingerprints tell an append from a rewrite.
HEAD_BYTES: Final = 1024
TAIL_BYTES: Final = 256
CURSOR_VERSION: Final = 1
#: Seconds between looks at the files while waiting for the next poll, where the kernel cannot say when they change
#: (a change is read within this much).
WATCH_S: Final = 0.2
#: Least seconds between the starts of two polls while the files keep changing: a file appended many times a second
#: is read in batches of what came meanwhile, not a commit (and a board's read) per line.
MIN_POLL_GAP_S: Final = WATCH_S
_BOM: Final = b"\xef\xbb\xbf"
_JSONL_SUFFIXES: Final = (".jsonl", ".ndjson", ".json", ".jl")
_DECODER: Final = json.JSONDecoder()


class FilesSettings(SourceSettings):
    """Keys of a ``kind = "files"`` source."""

    path: str = Field(
        min_length=1,
        description="Glob of the files to import, e.g. '~/exports/*.jsonl'; ~ is expanded, ** recurses. A relative "
        "glob is taken from the folder shiftboard runs in.",
    )
    record_type: Literal["case", "contact", "agent_state", "rating"] | None = Field(
        None, description="Type of the records that carry no type of their own (a CSV file without a type column)."
    )
    interval_s: float = Field(
        2.0, ge=1.0, description="Longest wait between polls (floor 1 s); a change to the files is read at once."
    )
    batch_size: int = Field(
        50_000, ge=1, le=1_000_000, description="Lines read per page; each page is committed with its cursor."
    )


@dataclass(slots=True)
class _Progress:
    """Where reading one file stands: bytes and lines consumed, and the CSV header once read."""

    offset: int = 0
    line: int = 0
    header: list[str] | None = None


class FilesAdapter(Adapter):
    """Reads the files matching ``path``; see the module docstring for the rules."""

    kind = "files"
    Settings = FilesSettings
    settings: FilesSettings
    #: The files as the last fetch found them before reading: ``wait`` compares with this, not with the files when it
    #: starts, so a line appended while a fetch was reading is polled for at once instead of after ``interval_s``.
    _seen: list[tuple[str, int, int, int]] | None = None
    #: The waits' watch on the glob's folders, from the first wait to ``close`` (``wake`` may come from another thread;
    #: waking one just closed does nothing).
    _watch: GlobWatch | None = None
    #: When the last two fetches began (``time.monotonic``): a change is polled for at once unless those two were
    #: close, as in a file appended many times a second; then the next poll waits out MIN_POLL_GAP_S.
    _fetched_at: float = -math.inf
    _fetched_before: float = -math.inf

    def pattern(self) -> str:
        return os.path.expanduser(self.settings.path)

    def matching(self) -> list[str]:
        """Absolute paths of the files matching the glob now, sorted (the order files are read in)."""
        return sorted({os.path.abspath(p) for p in glob.glob(self.pattern(), recursive=True)})

    def look(self) -> list[tuple[str, int, int, int]]:
        """What a change to the files would alter: each matching file's path, inode, size and modification time."""
        seen = []
        for path in self.matching():
            try:
                info = os.stat(path)
            except OSError:
                continue  # gone between the glob and the stat: the next look or fetch sees it gone
            seen.append((path, info.st_ino, info.st_size, info.st_mtime_ns))
        return seen

    def wait(self, stop: threading.Event, seconds: float) -> None:
        """Wait ``seconds``, but return soon after a matching file appears, grows, is replaced or goes away: as the
        kernel reports it, or within WATCH_S where it cannot (see the module docstring). ``wake`` ends it early."""
        before = self.look() if self._seen is None else self._seen
        deadline = time.monotonic() + seconds
        files = [path for path, *_ in before]
        if self._watch is None:
            # Kept from wait to wait: closing an inotify instance cost 2 ms of the source's thread each time here.
            self._watch = open_watch(self.pattern(), files)
        if self._watch is not None:
            try:
                changed = self._wait_watching(self._watch, files, before, stop, deadline)
            except OSError:  # the kernel refused a watch on a new folder (none left): look on a timer instead
                self.close()
            else:
                if changed and self._fetched_at - self._fetched_before < 2 * MIN_POLL_GAP_S:
                    # The files keep changing (the last two polls were close): a poll per MIN_POLL_GAP_S at most.
                    stop.wait(max(0.0, MIN_POLL_GAP_S - (time.monotonic() - self._fetched_at)))
                return
        while not stop.wait(min(WATCH_S, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline or self.look() != before:
                return

    def _wait_watching(
        self,
        watch: GlobWatch,
        files: list[str],
        before: list[tuple[str, int, int, int]],
        stop: threading.Event,
        deadline: float,
    ) -> bool:
        """Wait as ``wait`` does, on the watch; whether the files changed."""
        watch.follow(files)
        watch.wait(0)  # events since the last wait: the look below sees what they could tell
        if stop.is_set():
            return False
        if self.look() != before:
            return True
        while (left := deadline - time.monotonic()) > 0:
            if watch.wait(left):
                if stop.is_set():
                    return False
                if self.look() != before:
                    return True
        return False

    def wake(self) -> None:
        watch = self._watch
        if watch is not None:
            watch.wake()

    def close(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()

    def fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        """Read what was appended since ``cursor``: at most ``batch_size`` lines, ``more`` when lines remain."""
        # Not the list to read: a file look() cannot stat (a symlink loop) must still be tried, and reported.
        self._fetched_before, self._fetched_at = self._fetched_at, time.monotonic()
        self._seen = self.look()
        known: dict[str, Any] = {}
        if cursor and cursor.get("version") == CURSOR_VERSION and isinstance(cursor.get("files"), dict):
            known = cursor["files"]
        batch = Batch()
        budget = self.settings.batch_size
        files: dict[str, Any] = {}
        more = False
        with _gc_paused():
            more = self._fetch_files(known, batch, budget, files)
        return FetchResult(batch, {"version": CURSOR_VERSION, "files": files}, more)

    def _fetch_files(self, known: dict[str, Any], batch: Batch, budget: int, files: dict[str, Any]) -> bool:
        """Read the matching files into ``batch`` and their new entries into ``files``; True when lines remain."""
        more = False
        for path in self.matching():
            entry = known.get(path)
            if budget <= 0:
                # Page full: look at this file on the next page, keeping what we knew of it.
                if entry is not None:
                    files[path] = entry
                more = True
                continue
            entry, used, stopped = _FileReader(path, entry, batch, self.settings).read(budget)
            budget -= used
            more = more or stopped
            if entry is not None:
                files[path] = entry
        return more

    def check(self) -> str:
        """Count the matching files; a file that cannot be read fails the check (``fetch`` only reports it)."""
        count = 0
        matching = self.matching()
        for path in matching:
            try:
                if not stat.S_ISREG(os.stat(path).st_mode):
                    continue
                with open(path, "rb") as handle:
                    handle.read(1)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise SourceError(f"cannot read {path}: {error.strerror}", retryable=False) from None
            count += 1
        unwatched = why_unwatched(self.pattern(), matching)
        seen = f"looked at every {WATCH_S} s: {unwatched}" if unwatched else "changes are read at once (inotify)"
        if not count:
            return f"no files match {self.pattern()} yet; they are imported when they appear; {seen}"
        return f"{count} file(s) match {self.pattern()}; {seen}"


ADAPTER = FilesAdapter


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a page is read. A page makes tens of thousands of records that all outlive
    it, so the collector ran over and over, walking them each time, and found nothing (records hold no cycles): a
    tenth of the cost of reading. Resumed afterwards if it was on; whatever garbage the page left is collected then."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _FileReader:
    """One file in one fetch: decides where to resume, reads complete lines up to a budget, returns the new entry."""

    def __init__(self, path: str, entry: dict[str, Any] | None, batch: Batch, settings: FilesSettings) -> None:
        self.path = path
        self.entry = entry
        self.batch = batch
        self.source = settings.name
        self.default_type = settings.record_type
        self.lists = {
            "case": batch.cases,
            "contact": batch.contacts,
            "agent_state": batch.agent_states,
            "rating": batch.ratings,
        }

    def skip(self, line: int, reason: str) -> None:
        self.batch.skip(f"{self.path}:{line}: {reason}")

    def read(self, budget: int) -> tuple[dict[str, Any] | None, int, bool]:
        """(new cursor entry or None to forget the file, lines used from the budget, stopped by the budget)."""
        entry = self.entry
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None, 0, False  # gone between the glob and now: forget it, as a deleted file
        except OSError as error:
            return self._failed(f"cannot read: {error.strerror}", None), 0, False
        if not stat.S_ISREG(info.st_mode):
            return None, 0, False  # a folder or a device matching the glob is not ours to read
        signature = [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns]
        if entry is not None and entry.get("signature") == signature:
            return entry, 0, False  # unchanged since it was read to the end (or found unreadable)
        try:
            handle = open(self.path, "rb", buffering=0)  # noqa: SIM115 - closed below, after a fstat
        except FileNotFoundError:
            return None, 0, False
        except OSError as error:
            return self._failed(f"cannot read: {error.strerror}", None), 0, False
        try:
            with handle:
                return self._read_open(handle, budget)
        except OSError as error:
            # A read error in the middle (a vanished network share, EIO): keep the old place, try again next sync.
            self.skip((entry or {}).get("line", 0) + 1, f"read error: {error.strerror}")
            return entry, 0, False

    def _failed(self, reason: str, signature: list[int] | None) -> dict[str, Any]:
        if self.entry is None or self.entry.get("error") != reason:
            self.batch.skip(f"{self.path}: {reason}")
        return {"error": reason, "signature": signature}

    def _read_open(self, handle: BinaryIO, budget: int) -> tuple[dict[str, Any], int, bool]:
        info = os.fstat(handle.fileno())
        fd = handle.fileno()
        entry = self.entry or {}
        progress = _Progress()
        file_format = entry.get("format")
        resumable = (
            "error" not in entry
            and entry.get("device") == info.st_dev
            and entry.get("inode") == info.st_ino
            and isinstance(entry.get("offset"), int)
            and 0 <= entry["offset"] <= info.st_size
            and _fingerprint(os.pread(fd, entry.get("head_len", 0), 0)) == entry.get("head")
            and _fingerprint(_before(fd, entry["offset"])) == entry.get("tail")
        )
        if resumable:
            progress = _Progress(entry["offset"], entry.get("line", 0), entry.get("header"))
        else:
            file_format = None
        if file_format is None:
            file_format = _detect_format(self.path, os.pread(fd, 4096, 0))
        used, stopped, problem = 0, False, None
        if file_format == "jsonl":
            used, stopped = self._read_jsonl(handle, progress, budget)
        elif file_format == "csv":
            used, stopped, problem = self._read_csv(handle, progress, budget)
        head = os.pread(fd, HEAD_BYTES, 0)
        new_entry: dict[str, Any] = {
            "device": info.st_dev,
            "inode": info.st_ino,
            "offset": progress.offset,
            "line": progress.line,
            "head": _fingerprint(head),
            "head_len": len(head),
            "tail": _fingerprint(_before(fd, progress.offset)),
            "format": file_format,
            "header": progress.header,
            # Read to the end as of the stat: the next sync may skip this file while its metadata stays the same.
            "signature": None if stopped else [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns],
        }
        if problem is not None:
            # The file as a whole cannot be read (a CSV without a usable header): report it once, and look again
            # each sync (no signature), as the fix may be in the settings (record_type) rather than in the file.
            if self.entry is None or self.entry.get("error") != problem:
                self.skip(1, problem)
            new_entry["error"] = problem
            new_entry["signature"] = None
        return new_entry, used, stopped

    # -- JSON Lines ---------------------------------------------------------------------------------------------

    def _read_jsonl(self, handle: BinaryIO, progress: _Progress, budget: int) -> tuple[int, bool]:
        # The hot loop of a JSON Lines import: everything it uses is bound to a local name first. Each line is read
        # by orjson (a third of the standard library's cost) and built; a line either step refuses is decided by
        # ``_jsonl_line`` with the standard library, which gives the reason (or accepts what orjson could not).
        used = 0
        line = progress.line
        end = progress.offset
        source = self.source
        default_type = self.default_type
        fast = {name: (records.ORJSON_BUILDERS[name], self.lists[name].append) for name in records.TYPES}
        loads = orjson.loads
        try:
            for raw, end in _complete_lines(handle, progress.offset):  # noqa: B007 - end is read after the loop
                line += 1
                try:
                    obj = loads(raw)
                    handler = fast[obj.get("type", default_type)]
                    record = handler[0](obj, source)
                except Exception:  # any refusal is decided again, exactly, just below
                    if not self._jsonl_line(raw, line):
                        continue  # a blank line
                else:
                    handler[1](record)
                used += 1
                if used >= budget:
                    return used, True
            return used, False
        finally:
            progress.offset, progress.line = end, line

    def _jsonl_line(self, raw: bytes | None, line: int) -> bool:
        """Read one line with the standard library: add its record or skip it with the reason. False for a blank
        line, which counts for nothing."""
        if raw is None:
            self.skip(line, f"line longer than {MAX_LINE_BYTES} bytes")
            return True
        if not raw or raw.isspace():
            return False  # blank lines separate nothing
        try:
            if b"\x00" in raw:
                raise records.BadRecord("NUL byte in the line")
            text = raw.decode()
            try:
                obj, stop = _DECODER.raw_decode(text)
            except json.JSONDecodeError:
                obj, stop = json.loads(text), len(text)  # leading blanks are fine; else the error
            if stop != len(text) and not text[stop:].isspace():
                raise records.BadRecord(f"unexpected text after the JSON object at column {stop + 1}")
            if obj.__class__ is not dict:
                raise records.BadRecord(f"expected a JSON object, got {type(obj).__name__}")
            kind = records.record_type(obj.get("type"), self.default_type).name
            self.lists[kind].append(records.JSON_BUILDERS[kind](obj, self.source))
        except UnicodeDecodeError as error:
            self.skip(line, f"invalid UTF-8 at byte {error.start + 1}")
        except RecursionError:
            self.skip(line, "JSON nested too deeply")
        except (ValueError, TypeError) as error:  # BadRecord, JSONDecodeError
            self.skip(line, _reason(error))
        return True

    # -- CSV ----------------------------------------------------------------------------------------------------

    def _read_csv(self, handle: BinaryIO, progress: _Progress, budget: int) -> tuple[int, bool, str | None]:
        """Read CSV records (a quoted cell may span lines). Returns (used, stopped by budget, file-level problem).

        A line without quotes, NUL or a carriage return before its end, and not longer than a csv field may be,
        is split at its commas: what csv.reader would give, at a fraction of the cost. Any other line starts a
        record that csv.reader reads, taking more lines if a quoted cell spans them.
        """
        used = 0
        builders: dict[str, tuple[Callable[[list[str], str], Any], Callable[[Any], None]]] = {}
        type_column: int | None = None
        if progress.header is not None:
            problem, type_column = self._check_header(progress.header)
            if problem:
                return 0, False, problem
        field_limit = csv.field_size_limit()
        lines = _complete_lines(handle, progress.offset)
        flags = _RecordLines()
        # One reader for the whole read: a record the split cannot take is handed to it through ``flags.pending``,
        # and it takes further lines from ``lines`` only while a quoted cell spans them. (A reader per record cost
        # as much as the parsing.) It is between records whenever it returns one, so it can be reused.
        reader = csv.reader(_decoded(lines, flags))
        while used < budget:
            item = next(lines, None)
            if item is None:
                return used, False, None
            raw, end = item
            if raw is not None and raw.find(b'"') < 0 and raw.find(b"\x00") < 0 and len(raw) <= field_limit:
                cr = raw.find(b"\r")
                if cr < 0 or cr == len(raw) - 1:
                    progress.offset = end
                    progress.line += 1
                    try:
                        text = raw.decode()
                    except UnicodeDecodeError as error:
                        self.skip(progress.line, f"invalid UTF-8 at byte {error.start + 1}")
                        used += 1
                        continue
                    if cr >= 0:
                        text = text[:-1]
                    if not text:
                        continue  # a blank line
                    row = text.split(",")
                    if progress.header is None:
                        problem, type_column = self._use_header(row, progress)
                        if problem:
                            return used, False, problem
                        continue
                    used += 1
                    if len(row) == len(progress.header):
                        handler = builders.get(row[type_column] if type_column is not None else "")
                        if handler is not None:
                            try:
                                handler[1](handler[0](row, self.source))
                            except (ValueError, TypeError) as error:
                                self.skip(progress.line, _reason(error))
                            continue
                    self._csv_row(row, progress.header, type_column, builders, progress.line)
                    continue
            flags.begin()
            flags.pending = item
            try:
                row = next(reader)
            except StopIteration:  # not expected: the reader was given a line
                return used, False, None
            except csv.Error as error:
                if flags.first_end is None:
                    return used, False, None
                # Skip the record's first line only, and read on just after it.
                progress.offset = flags.first_end
                progress.line += 1
                self.skip(progress.line, f"malformed CSV: {error}")
                used += 1
                lines = _complete_lines(handle, progress.offset)
                reader = csv.reader(_decoded(lines, flags))
                continue
            if flags.exhausted:
                return used, False, None  # the record is not complete yet (no newline after it)
            first_line = progress.line + 1
            progress.offset = flags.end
            progress.line += flags.lines
            if flags.bad is not None:
                self.skip(first_line, flags.bad)
                used += 1
                continue
            if not row:
                continue  # a blank line
            if progress.header is None:
                problem, type_column = self._use_header(row, progress)
                if problem:
                    return used, False, problem
                continue
            used += 1
            self._csv_row(row, progress.header, type_column, builders, first_line)
        return used, True, None

    def _use_header(self, row: list[str], progress: _Progress) -> tuple[str | None, int | None]:
        """Take ``row`` as the file's header: (why it cannot be used or None, the index of its type column)."""
        header = records.normalize_header(row)
        problem, type_column = self._check_header(header)
        if not problem:
            progress.header = header
        return problem, type_column

    def _check_header(self, header: list[str]) -> tuple[str | None, int | None]:
        """(why this header cannot be used or None, the index of its type column or None)."""
        if not any(name in records.KNOWN_COLUMNS for name in header):
            return (
                "the first line is not a header: no known column (expected names such as type, id, queue, "
                "status, offered_at, agent, state, since, kind, score); file skipped",
                None,
            )
        type_column = header.index("type") if "type" in header else None
        if type_column is None and self.default_type is None:
            return "no type column and no record_type in the source's settings; file skipped", None
        return None, type_column

    def _csv_row(
        self,
        row: list[str],
        header: list[str],
        type_column: int | None,
        builders: dict[str, tuple[Callable[[list[str], str], Any], Callable[[Any], None]]],
        line: int,
    ) -> None:
        if len(row) != len(header):
            self.skip(line, f"{len(row)} cells, the header has {len(header)}")
            return
        try:
            written = row[type_column] if type_column is not None else ""
            handler = builders.get(written)
            if handler is None:  # first row of this spelling of a type (only valid spellings are remembered)
                kind = records.record_type(written, self.default_type)
                handler = builders[written] = (
                    records.csv_builder(tuple(header), kind.name),
                    self.lists[kind.name].append,
                )
            handler[1](handler[0](row, self.source))
        except (ValueError, TypeError) as error:
            self.skip(line, _reason(error))


class _RecordLines:
    """What the lines of the CSV record being read looked like (filled in by ``_decoded`` as the reader pulls)."""

    __slots__ = ("bad", "end", "exhausted", "first_end", "lines", "pending")

    def __init__(self) -> None:
        self.end = 0
        self.exhausted = False
        #: The record's first line, read already: ``_decoded`` gives it before taking the next from its lines.
        self.pending: tuple[bytes | None, int] | None = None
        self.begin()

    def begin(self) -> None:
        self.exhausted = False
        self.lines = 0
        self.first_end: int | None = None
        self.bad: str | None = None


def _decoded(lines: Iterator[tuple[bytes | None, int]], flags: _RecordLines) -> Iterator[str]:
    """Text lines for csv.reader (``flags.pending`` first, then ``lines``), noting in ``flags`` each line's end and
    whether it was bad (the record then is)."""
    while True:
        item = flags.pending
        if item is None:
            item = next(lines, None)
            if item is None:
                break
        else:
            flags.pending = None
        raw, end = item
        flags.lines += 1
        flags.end = end
        if flags.first_end is None:
            flags.first_end = end
        if raw is None:
            flags.bad = flags.bad or f"line longer than {MAX_LINE_BYTES} bytes"
            yield "\n"
            continue
        if b"\x00" in raw:
            flags.bad = flags.bad or "NUL byte in the line"
        try:
            text = raw.decode()
        except UnicodeDecodeError as error:
            flags.bad = flags.bad or f"invalid UTF-8 at byte {error.start + 1}"
            text = raw.decode(errors="replace")
        yield text + "\n"
    flags.exhausted = True


def _complete_lines(handle: BinaryIO, offset: int) -> Iterator[tuple[bytes | None, int]]:
    """Each complete line from ``offset`` as (bytes without the newline, file offset just past its newline).

    A line longer than MAX_LINE_BYTES comes as (None, end) and is never held whole. The bytes after the last
    newline are not a line yet and are not yielded. A UTF-8 byte order mark at the start of the file is dropped.
    Hand-written because the standard line readers cannot stop at a size without losing the line's end.
    """
    handle.seek(offset)
    base = offset  # file offset of buffer[0]
    buffer = b""
    overlong = False  # inside a line already too long: drop bytes until its newline
    while True:
        block = handle.read(CHUNK_BYTES)
        if not block:
            return
        if overlong:
            cut = block.find(b"\n")
            if cut < 0:
                base += len(block)
                continue
            base += cut + 1
            yield None, base
            block = block[cut + 1 :]
            overlong = False
        if buffer:
            buffer += block
        else:
            buffer = block
        start = base
        if start == 0 and buffer.startswith(_BOM):
            buffer = buffer[len(_BOM) :]
            start = base = len(_BOM)
        lines = buffer.split(b"\n")
        buffer = lines.pop()
        for line in lines:
            start += len(line) + 1
            if len(line) > MAX_LINE_BYTES:
                yield None, start
            else:
                yield line, start
        base = start
        if len(buffer) > MAX_LINE_BYTES:
            base += len(buffer)
            buffer = b""
            overlong = True


def _detect_format(path: str, head: bytes) -> Literal["jsonl", "csv"] | None:
    """The file's format from its name, else from its first character; None while the file is still empty."""
    lowered = path.lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith(_JSONL_SUFFIXES):
        return "jsonl"
    text = head.removeprefix(_BOM).lstrip()
    if not text:
        return None
    return "jsonl" if text.startswith(b"{") else "csv"


def _before(fd: int, offset: int) -> bytes:
    """The bytes just before ``offset`` (up to TAIL_BYTES): a rewrite that kept the first bytes rarely keeps these."""
    size = min(TAIL_BYTES, offset)
    return os.pread(fd, size, offset - size) if size else b""


def _fingerprint(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"invalid JSON: {error.msg} at column {error.colno}"
    return str(error)
