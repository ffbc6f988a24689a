"""Knowing when the files a glob matches may have changed, without looking at them on a timer.

A board with a files source waits between polls. Looking at the files (a glob and a stat each) every 0.2 s was
300 wake-ups a minute, 70–107 ms of CPU a minute on the bench machine: about what a whole bare Textual app costs. On
Linux the kernel says instead when an entry of a watched folder changes (inotify), and the wait looks only then.

Which folders: every existing folder that a prefix of the glob's folder part matches (with ``**``, every folder below
its root), so that a folder created later under one of them is seen and watched in turn; the nearest existing
ancestor of the glob's fixed root, for a root that does not exist yet; and the real folder of each matching file, for a
file that is a symlink into another folder.

inotify reports only changes made through this kernel. A folder on a network or user-space file system (NFS, SMB,
9p, FUSE, virtiofs) can change on another machine unseen, so such a glob is not watched: ``open_watch`` returns
``None`` and the caller looks on a timer as before.

Hand-written on ``inotify_simple`` (already the cache watch's) rather than watchfiles: watchfiles' ``watch`` wakes
every ``step`` (50 ms by default) to look at its stop event, and watches whole trees where a glob names a few folders.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import os
import re
import select
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from inotify_simple import INotify

#: File systems whose changes may come from elsewhere, unseen by inotify. ``fuse.*`` are matched by their prefix.
REMOTE_FILE_SYSTEMS: Final = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "virtiofs", "ceph", "glusterfs", "afs", "lustre", "gpfs", "fuse"}
)
_MAGIC: Final = re.compile(r"[*?[]")


class GlobWatch:
    """inotify on the folders whose entries can change what ``pattern`` matches (see the module docstring).

    ``wait`` blocks until an event concerns a file the glob could match or a folder it could reach, ``wake`` is
    called, or the time is up. ``wake`` may be called from another thread, also after ``close``.
    """

    def __init__(self, pattern: str, inotify: INotify, files: Iterable[str]) -> None:
        from inotify_simple import flags

        self.pattern = pattern
        self._inotify = inotify
        entries = flags.CREATE | flags.DELETE | flags.MOVED_FROM | flags.MOVED_TO | flags.MODIFY | flags.ATTRIB
        self._mask = entries | flags.DELETE_SELF | flags.MOVE_SELF
        self._folder_event = flags.ISDIR | flags.DELETE_SELF | flags.MOVE_SELF | flags.IGNORED
        self._name = os.path.basename(pattern)
        self._real_names: set[str] = set()
        self._real_folders: set[str] = set()
        self._folders: dict[str, int] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._poll = select.poll()
        self._poll.register(inotify.fileno(), select.POLLIN)
        self._poll.register(self._wake_read, select.POLLIN)
        self._follow(files)

    def follow(self, files: Iterable[str]) -> None:
        """Watch the real folders of ``files``, the glob's matches now, from now on."""
        if self._follow(files):
            self.watch_folders()

    def _follow(self, files: Iterable[str]) -> bool:
        # A matching file that is a symlink changes in its target's folder, under its target's name.
        real = {os.path.realpath(path) for path in files}
        names, folders = {os.path.basename(path) for path in real}, {os.path.dirname(path) for path in real}
        changed = folders != self._real_folders
        self._real_names, self._real_folders = names, folders
        return changed

    @property
    def folders(self) -> set[str]:
        """The folders watched now."""
        return set(self._folders)

    def watch_folders(self) -> None:
        """Watch the folders the glob reaches now. Raises OSError when the kernel refuses a watch (none left)."""
        wanted = glob_folders(self.pattern) | self._real_folders
        for folder in wanted - self._folders.keys():
            try:
                self._folders[folder] = self._inotify.add_watch(folder, self._mask)
            except (FileNotFoundError, NotADirectoryError):
                continue  # gone since it was listed: its parent's event brings a new list
        for folder in self._folders.keys() - wanted:
            descriptor = self._folders.pop(folder)
            with contextlib.suppress(OSError):  # the kernel dropped it already (the folder was deleted)
                self._inotify.rm_watch(descriptor)

    def wait(self, timeout_s: float) -> bool:
        """Whether something that may change the glob's matches happened within ``timeout_s``, or ``wake`` was
        called. Folders created or removed meanwhile are watched or dropped before it returns."""
        if not self._poll.poll(max(0, round(timeout_s * 1000))):
            return False
        woken = self._drain_wake()
        relevant = folders_changed = False
        for event in self._inotify.read(timeout=0):
            if event.wd == -1 or event.mask & self._folder_event:  # a queue overflow, or a folder came or went
                folders_changed = True
            elif event.name in self._real_names or fnmatch.fnmatchcase(event.name, self._name):
                relevant = True
        if folders_changed:
            self.watch_folders()
        return woken or relevant or folders_changed

    def wake(self) -> None:
        """Make a ``wait`` in progress, or the next one, return at once."""
        with self._lock:
            if self._closed:
                return
            with contextlib.suppress(BlockingIOError):  # the pipe is full of wake-ups already
                os.write(self._wake_write, b"\0")

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._inotify.close()
            os.close(self._wake_read)
            os.close(self._wake_write)

    def _drain_wake(self) -> bool:
        woken = False
        try:
            while os.read(self._wake_read, 64):
                woken = True
        except BlockingIOError:
            pass
        return woken


def open_watch(pattern: str, files: Iterable[str] = ()) -> GlobWatch | None:
    """A watch on the folders of ``pattern`` (a glob, ``~`` expanded) and of ``files`` (its matches now), or None
    where inotify is missing or cannot be trusted: not Linux, no inotify instance or watch left, a folder on a remote
    file system."""
    watch = _watch_or_why_not(pattern, files)
    return watch if isinstance(watch, GlobWatch) else None


def why_unwatched(pattern: str, files: Iterable[str] = ()) -> str | None:
    """Why ``open_watch`` would give no watch for ``pattern`` (for ``doctor``), None when it would give one."""
    watch = _watch_or_why_not(pattern, files)
    if isinstance(watch, str):
        return watch
    watch.close()
    return None


def _watch_or_why_not(pattern: str, files: Iterable[str]) -> GlobWatch | str:
    try:
        # inotify_simple: a thin, maintained ctypes wrapper; Linux only (see pyproject.toml).
        from inotify_simple import INotify
    except ImportError:
        return "no inotify on this system"
    files = list(files)
    remote = remote_folders(glob_folders(pattern) | {os.path.dirname(os.path.realpath(path)) for path in files})
    if remote:
        return f"{min(remote)} is on a network or user-space file system"
    no_watch = "no inotify instance or watch left (fs.inotify.max_user_instances, fs.inotify.max_user_watches)"
    try:
        inotify = INotify()
    except OSError:
        return no_watch
    watch = GlobWatch(pattern, inotify, files)
    try:
        watch.watch_folders()
    except OSError:
        watch.close()
        return no_watch
    return watch


def glob_folders(pattern: str) -> set[str]:
    """The folders to watch for ``pattern``: the nearest existing ancestor of its fixed root, and every existing
    folder a prefix of its folder part matches. A relative glob is taken from the current folder, as ``glob`` takes
    it."""
    if not os.path.isabs(pattern):
        pattern = os.path.join(os.getcwd(), pattern)
    parts = pattern.split(os.sep)[:-1]
    fixed = next((i for i, part in enumerate(parts) if _MAGIC.search(part)), len(parts))
    root = os.sep.join(parts[:fixed]) or os.sep
    while not os.path.isdir(root) and os.path.dirname(root) != root:
        root = os.path.dirname(root)
    folders = {root}
    for end in range(fixed + 1, len(parts) + 1):
        for match in glob.glob(os.sep.join(parts[:end]), recursive=True):
            if os.path.isdir(match):
                folders.add(os.path.normpath(match))
    return folders


def remote_folders(folders: Iterable[str], mountinfo: str | None = None) -> set[str]:
    """Those of ``folders`` on a file system listed in ``REMOTE_FILE_SYSTEMS``, per ``/proc/self/mountinfo``."""
    types = file_system_types(_read_mountinfo() if mountinfo is None else mountinfo)
    remote = set()
    for folder in folders:
        try:
            device = os.stat(folder).st_dev
        except OSError:
            continue
        kind = types.get((os.major(device), os.minor(device)), "")
        if kind.split(".")[0] in REMOTE_FILE_SYSTEMS:
            remote.add(folder)
    return remote


def file_system_types(mountinfo: str) -> dict[tuple[int, int], str]:
    """Each mounted device's file system type, from the text of ``/proc/<pid>/mountinfo`` (proc(5)): the third field
    is the device's major:minor, the first field after the `` - `` separator the type."""
    types = {}
    for line in mountinfo.splitlines():
        mount, separator, source = line.partition(" - ")
        fields, after = mount.split(), source.split()
        if not separator or len(fields) < 3 or not after or fields[2].count(":") != 1:
            continue
        major, minor = fields[2].split(":")
        if major.isdigit() and minor.isdigit():
            types.setdefault((int(major), int(minor)), after[0])
    return types


def _read_mountinfo() -> str:
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""
