"""A board notices another connection's commits (tui/cache_watch.py), with inotify and with the polling fallback."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from shiftboard.model import Batch, Case
from shiftboard.store import Store
from shiftboard.tui import cache_watch

WAIT_S = 20.0


class Watcher:
    def __init__(self, path: Path, *, inotify: bool) -> None:
        self.stop = threading.Event()
        self.calls = 0
        self.called = threading.Event()
        self.thread = threading.Thread(target=cache_watch.watch_commits, args=(path, self.stop, self._on_commit),
                                       kwargs={"inotify": inotify}, daemon=True)  # fmt: skip

    def _on_commit(self) -> None:
        self.calls += 1
        self.called.set()

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive()


def watching(store: Store, watcher: Watcher) -> None:
    """Commit until the watcher notices: it reads data_version once it has started, and a commit before that is
    not a change to it."""
    for n in range(int(WAIT_S / 0.5)):
        store.write_batch("src", "test", Batch(), None, n)
        if watcher.called.wait(0.5):
            watcher.called.clear()
            return
    raise AssertionError("the watcher never noticed a commit")


@pytest.mark.parametrize("inotify", [True, False], ids=["inotify", "polling"])
def test_each_commit_of_another_connection_is_noticed(store, inotify):
    with Watcher(store.path, inotify=inotify) as watcher:
        watching(store, watcher)
        for n in range(3):
            store.write_batch("src", "test", Batch(cases=[Case("src", str(n), "Mail", "open", "low", 1.0)]), None, 1)
            assert watcher.called.wait(WAIT_S), f"commit {n} not noticed"
            watcher.called.clear()


def test_on_linux_a_write_to_the_cache_wakes_the_watch(store, tmp_path):
    pytest.importorskip("inotify_simple")
    with cache_watch._inotify_watch(store.path) as watch:
        (tmp_path / "another-file").write_text("not the cache", encoding="utf-8")
        assert not watch.written(0)
        store.write_batch("src", "test", Batch(cases=[Case("src", "1", "Mail", "open", "low", 1.0)]), None, 1)
        assert watch.written(0)


def test_a_missing_cache_ends_the_watch_quietly(tmp_path):
    with Watcher(tmp_path / "absent.sqlite", inotify=True) as watcher:
        watcher.thread.join(WAIT_S)
        assert not watcher.thread.is_alive()
    assert watcher.calls == 0
