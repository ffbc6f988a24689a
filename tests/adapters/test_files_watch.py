"""The files source's wait between polls: woken by the kernel (inotify) when the glob's files may have changed, not by
a timer, and ended at once when the collector stops.

inotify queues an event during the system call that causes it, so a ``GlobWatch.wait(0)`` right after a write sees
it: the checks that nothing relevant happened need no waiting.
"""

from __future__ import annotations

import errno
import itertools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shiftboard.adapters import _glob_watch
from shiftboard.adapters._glob_watch import file_system_types, glob_folders, open_watch, remote_folders
from shiftboard.adapters.files import MIN_POLL_GAP_S, FilesAdapter, FilesSettings
from shiftboard.collector import Collector
from shiftboard.store import Store

pytestmark = pytest.mark.skipif(not Path("/proc/self/mountinfo").exists(), reason="inotify is Linux's")

LINE = '{"type": "contact", "id": "w1", "queue": "Billing"}\n'
OFFERED = "2026-11-24T01:00:00Z"


def settings(pattern: Path, interval_s: float = 3600) -> FilesSettings:
    return FilesSettings(name="files", kind="files", path=str(pattern), interval_s=interval_s)


def write(path: Path, text: str = LINE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(text)


def waiting(adapter: FilesAdapter, stop: threading.Event, seconds: float = 3600) -> threading.Thread:
    """A wait between polls in its own thread, started once its watch is on (so a change made next is one the
    wait must see)."""
    adapter.fetch(None, time.time())
    thread = threading.Thread(target=adapter.wait, args=(stop, seconds), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while adapter._watch is None:
        assert thread.is_alive(), "the wait returned before anything changed"
        assert time.monotonic() < deadline, "the wait never put its watch on"
        time.sleep(0.001)
    return thread


def ends(thread: threading.Thread) -> bool:
    thread.join(30)
    return not thread.is_alive()


def mkdir(path: Path) -> None:
    path.mkdir(parents=True)


CHANGES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "a line appended": ("in/*.jsonl", lambda root: write(root / "in" / "a.jsonl")),
    "a new file": ("in/*.jsonl", lambda root: write(root / "in" / "b.jsonl")),
    "a file moved into place": ("in/*.jsonl", lambda root: os.replace(root / "spare.jsonl", root / "in" / "b.jsonl")),
    "a file deleted": ("in/*.jsonl", lambda root: (root / "in" / "a.jsonl").unlink()),
    "a file touched": ("in/*.jsonl", lambda root: os.utime(root / "in" / "a.jsonl", (1, 1))),
    "a file in a folder made after the wait began": ("in/*/day/*.jsonl", lambda root: write(root / "in/x/day/b.jsonl")),
    "a file deep under **, in new folders": ("in/**/*.jsonl", lambda root: write(root / "in/p/q/r/b.jsonl")),
    "a file under a root that did not exist": (
        "later/deeper/*.jsonl",
        lambda root: write(root / "later/deeper/b.jsonl"),
    ),
    "the target of a matching symlink appended": ("in/*.jsonl", lambda root: write(root / "elsewhere" / "t.log")),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_wait_ends_on_a_change_to_the_matches(tmp_path: Path, change: str) -> None:
    glob, make = CHANGES[change]
    write(tmp_path / "in" / "a.jsonl")
    write(tmp_path / "spare.jsonl")
    write(tmp_path / "elsewhere" / "t.log")
    (tmp_path / "in" / "link.jsonl").symlink_to(tmp_path / "elsewhere" / "t.log")
    (tmp_path / "in" / "x").mkdir()
    adapter = FilesAdapter(settings(tmp_path / glob))
    stop = threading.Event()
    thread = waiting(adapter, stop)
    try:
        make(tmp_path)
        assert ends(thread), f"the wait did not notice {change}"
    finally:
        stop.set()
        adapter.wake()


def test_changes_beside_the_matches_wake_no_look(tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.jsonl")
    watch = open_watch(str(tmp_path / "in" / "*.jsonl"), [str(tmp_path / "in" / "a.jsonl")])
    assert watch is not None
    try:
        assert watch.folders == {str(tmp_path / "in")}
        write(tmp_path / "in" / "notes.txt")
        write(tmp_path / "other" / "a.jsonl")  # not in a watched folder
        assert not watch.wait(0)
        write(tmp_path / "in" / "a.jsonl")
        assert watch.wait(0)
        assert not watch.wait(0)  # each event is reported once
    finally:
        watch.close()


def test_a_quiet_wait_looks_at_the_files_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the watch: the old wait looked every 0.2 s (300 times a minute); this one looks once, after its
    watch is on, and then only when told."""
    write(tmp_path / "in" / "a.jsonl")
    adapter = FilesAdapter(settings(tmp_path / "in" / "*.jsonl"))
    adapter.fetch(None, time.time())
    looks = []
    look = adapter.look
    monkeypatch.setattr(adapter, "look", lambda: looks.append(1) or look())
    started = time.monotonic()
    adapter.wait(threading.Event(), 0.6)
    assert time.monotonic() - started >= 0.6
    assert len(looks) == 1


def test_folders_that_come_and_go_are_watched_and_dropped(tmp_path: Path) -> None:
    watch = open_watch(str(tmp_path / "in" / "*" / "*.jsonl"))
    assert watch is not None
    root, folder, day = str(tmp_path), str(tmp_path / "in"), str(tmp_path / "in" / "day")
    try:
        assert watch.folders == {root}  # "in" does not exist yet: its parent says when it comes
        os.mkdir(folder)
        assert watch.wait(0)
        assert watch.folders == {folder}
        os.mkdir(day)
        assert watch.wait(0)
        assert watch.folders == {folder, day}
        os.rmdir(day)
        assert watch.wait(0)
        assert watch.folders == {folder}
        os.rmdir(folder)
        assert watch.wait(0)
        assert watch.folders == {root}
    finally:
        watch.close()


def test_glob_folders(tmp_path: Path) -> None:
    for folder in ("a/x/deep", "b/x", "b/y", ".hidden/x"):
        (tmp_path / folder).mkdir(parents=True)
    root = str(tmp_path)
    assert glob_folders(f"{root}/a/x/*.csv") == {f"{root}/a/x"}
    assert glob_folders(f"{root}/missing/x/*.csv") == {root}
    assert glob_folders(f"{root}/*/x/*.csv") == {root, f"{root}/a", f"{root}/b", f"{root}/a/x", f"{root}/b/x"}
    assert glob_folders(f"{root}/a/**/*.csv") == {f"{root}/a", f"{root}/a/x", f"{root}/a/x/deep"}


def test_stopping_the_collector_ends_a_files_source_at_once(store: Store, tmp_path: Path) -> None:
    """The board waits for its collector on quit: a source asleep until its next poll an hour away must wake."""
    write(tmp_path / "in" / "a.jsonl")
    collector = Collector(store, [settings(tmp_path / "in" / "*.jsonl")])
    stop = threading.Event()
    runner = threading.Thread(target=collector.run, args=(stop,), daemon=True)
    runner.start()
    deadline = time.monotonic() + 30
    # Through _adapter: the adapter property would make one of its own if the source's thread had not yet.
    while (adapter := collector.runners[0]._adapter) is None or adapter._watch is None:
        assert time.monotonic() < deadline, "the source never began waiting"
        time.sleep(0.001)
    stop.set()
    assert ends(runner)
    assert not [thread.name for thread in threading.enumerate() if thread.name == "source:files"]


MOUNTINFO = """\
22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
41 22 0:52 / /srv/exports rw,relatime shared:20 - nfs4 fs:/exports rw,vers=4.2
42 22 0:53 / /home/me/remote rw,nosuid,nodev shared:21 master:3 - fuse.sshfs me@host: rw
broken line
"""


def test_file_system_types_from_mountinfo() -> None:
    assert file_system_types(MOUNTINFO) == {(252, 1): "ext4", (98, 0): "ext3", (0, 52): "nfs4", (0, 53): "fuse.sshfs"}


@pytest.mark.parametrize("kind", ["nfs4", "fuse.sshfs", "9p"])
def test_a_remote_folder_is_looked_at_on_a_timer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    """A change made on another machine never reaches this kernel's inotify: such a glob keeps the timed look."""
    device = os.stat(tmp_path).st_dev
    here = f"30 22 {os.major(device)}:{os.minor(device)} / /data rw - {kind} server:/data rw\n"
    assert remote_folders([str(tmp_path)], here) == {str(tmp_path)}
    monkeypatch.setattr(_glob_watch, "_read_mountinfo", lambda: here)
    assert open_watch(str(tmp_path / "*.jsonl")) is None
    write(tmp_path / "a.jsonl")
    adapter = FilesAdapter(settings(tmp_path / "*.jsonl"))
    adapter.fetch(None, time.time())
    stop = threading.Event()
    thread = threading.Thread(target=adapter.wait, args=(stop, 3600), daemon=True)
    thread.start()
    try:
        write(tmp_path / "a.jsonl")
        assert ends(thread), "the timed look did not notice the append"
    finally:
        stop.set()


def test_a_local_folder_is_not_remote(tmp_path: Path) -> None:
    assert remote_folders([str(tmp_path)]) == set()


def test_a_watch_refused_mid_wait_falls_back_to_the_timed_look(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No inotify watch left for a new folder (ENOSPC): the wait goes on looking every 0.2 s, and still ends."""
    write(tmp_path / "in" / "a.jsonl")
    adapter = FilesAdapter(settings(tmp_path / "in" / "**" / "*.jsonl"))
    stop = threading.Event()
    thread = waiting(adapter, stop)
    watch = adapter._watch
    assert watch is not None

    def refused() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(watch, "watch_folders", refused)
    try:
        (tmp_path / "in" / "new").mkdir()  # a folder event: the watch asks for one more watch, and is refused
        deadline = time.monotonic() + 30
        while adapter._watch is not None:
            assert time.monotonic() < deadline, "the refused watch was kept"
            time.sleep(0.001)
        assert thread.is_alive()  # nothing matching changed yet
        write(tmp_path / "in" / "new" / "b.jsonl")
        assert ends(thread), "the timed look did not notice the new file"
    finally:
        stop.set()


def test_doctor_says_how_changes_are_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "a.jsonl")
    adapter = FilesAdapter(settings(tmp_path / "*.jsonl"))
    assert adapter.check() == f"1 file(s) match {tmp_path}/*.jsonl; changes are read at once (inotify)"
    device = os.stat(tmp_path).st_dev
    monkeypatch.setattr(
        _glob_watch, "_read_mountinfo", lambda: f"30 22 {os.major(device)}:{os.minor(device)} / /d rw - nfs4 s:/d rw\n"
    )
    assert adapter.check().endswith(f"; looked at every 0.2 s: {tmp_path} is on a network or user-space file system")


def test_a_relative_glob_watches_the_folder_it_is_taken_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    assert glob_folders("*.jsonl") == {str(tmp_path)}
    assert glob_folders("in/*.jsonl") == {str(tmp_path / "in")}
    adapter = FilesAdapter(settings(Path("*.jsonl")))
    stop = threading.Event()
    thread = waiting(adapter, stop)
    try:
        write(tmp_path / "first.jsonl")  # no file matched when the wait began
        assert ends(thread), "the wait did not notice a new file in the current folder"
    finally:
        stop.set()
        adapter.wake()


def test_a_file_appended_many_times_a_second_is_read_in_batches(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The watch wakes the source at every append; while appends go on, the polls still start at least
    MIN_POLL_GAP_S apart (as the timed look did), each reading what came meanwhile, instead of a commit, and a
    board's read, per line."""
    feed = tmp_path / "in" / "feed.jsonl"
    write(feed, "")
    starts: list[float] = []
    fetch = FilesAdapter.fetch

    def timed(self: FilesAdapter, cursor: Any, at: float) -> Any:
        starts.append(time.monotonic())
        return fetch(self, cursor, at)

    monkeypatch.setattr(FilesAdapter, "fetch", timed)
    collector = Collector(store, [settings(tmp_path / "in" / "*.jsonl")])
    stop = threading.Event()
    runner = threading.Thread(target=collector.run, args=(stop,), daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while store.sync_state("files") is None:
            assert time.monotonic() < deadline, "the first poll never committed"
            time.sleep(0.001)
        lines = 0
        appending_until = time.monotonic() + 1.0
        while time.monotonic() < appending_until:
            lines += 1
            write(feed, f'{{"type": "contact", "id": "c{lines}", "queue": "Billing", "offered_at": "{OFFERED}"}}\n')
            time.sleep(0.005)
        while store.query("SELECT COUNT(*) AS n FROM contacts")[0]["n"] < lines:
            assert time.monotonic() < deadline, "not every appended line was read"
            time.sleep(0.01)
    finally:
        stop.set()
        runner.join(10)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert len(starts) < lines / 4  # batches, not a poll per line
    # A change after a quiet spell is polled for at once; once two polls came close together, the gap is kept.
    assert sum(gap < MIN_POLL_GAP_S for gap in gaps) <= 1


class RecordedStop(threading.Event):
    """A stop event that records the waits made on it (the pacing between polls is one)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return super().wait(timeout)


def test_a_change_after_a_quiet_spell_is_polled_for_at_once_and_one_after_close_polls_paced(tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.jsonl")
    adapter = FilesAdapter(settings(tmp_path / "in" / "*.jsonl"))
    # The first wait follows one poll; the second follows two in quick succession (the first wait's and its own).
    for paced in (False, True):
        stop = RecordedStop()
        thread = waiting(adapter, stop)
        write(tmp_path / "in" / "a.jsonl")
        assert ends(thread)
        assert len(stop.waits) == paced, stop.waits
