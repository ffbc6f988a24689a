"""The contract between a source and the collector.

An adapter turns one source's API (or files, or the simulator) into normalized records. It fetches since a cursor
and returns a batch plus the new cursor; the collector writes both in one transaction, so a crash between pages
loses nothing and repeats nothing. Adapters never touch SQLite or Textual.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from shiftboard.model import Batch

Cursor = dict[str, Any]


def check_time_zone(value: str | None) -> str | None:
    """``value`` when it names an IANA time zone (or is None); ValueError otherwise (a pydantic field validator)."""
    if value is not None:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
    return value


class SourceSettings(BaseModel):
    """Keys every ``[[sources]]`` table has. Each kind extends this with its own keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="A short unique name shown on the board's health line.")
    kind: str = Field(description="Which adapter reads this source.")
    enabled: bool = Field(True, description="False keeps the table in the file but does not poll it.")
    interval_s: float = Field(30.0, ge=1.0, description="Seconds between polls (floor 1 s).")
    timeout_s: float = Field(10.0, gt=0, description="Seconds before one request is given up.")
    circuit_failures: int = Field(
        5, ge=1, description="Consecutive failed syncs after which the source is only probed now and then."
    )
    circuit_probe_s: float = Field(300.0, ge=1.0, description="Seconds between probes while the circuit is open.")


class HttpSourceSettings(SourceSettings):
    """Keys shared by every source reached over HTTP."""

    url: str = Field(description="Base URL of the API; point it at a proxy, sandbox or emulator as needed.")
    token_env: str | None = Field(None, description="Environment variable that holds the API token.")
    token_file: Path | None = Field(None, description="A file readable by its owner alone that holds the token.")
    verify_tls: bool = Field(True, description="Verify the server's TLS certificate. Turn off only for a lab.")
    max_retries: int = Field(4, ge=0, le=20, description="Retries of one request on 429, 5xx or a dropped link.")


class SourceError(Exception):
    """A source failed in a way a supervisor can act on. ``str(error)`` is the one-line reason shown on the board.

    The reason never contains a secret: adapters build it from status codes and the API's own error text.
    """

    def __init__(self, reason: str, *, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


class ConfigurationError(SourceError):
    """The source's settings or environment are wrong (missing token, bad URL); retrying will not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retryable=False)


@dataclass(slots=True)
class FetchResult:
    """One step of a sync: records, the cursor to resume from, and whether another page is ready now."""

    batch: Batch
    cursor: Cursor | None
    more: bool = False


@dataclass
class AdapterContext:
    """What an adapter may use from its surroundings; tests replace any part."""

    clock: Callable[[], float] = time.time
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    #: Extra keyword arguments for ``httpx.Client`` (tests pass a transport).
    http_options: Mapping[str, Any] = field(default_factory=dict)
    #: Sleep between retries; tests make it instant.
    sleep: Callable[[float], None] = time.sleep


class Adapter(ABC):
    """A source kind. Subclasses set ``kind`` and ``Settings`` and implement ``fetch``."""

    kind: ClassVar[str]
    Settings: ClassVar[type[SourceSettings]] = SourceSettings
    #: Whether a poll that brings nothing may go unwritten for a moment (``collector.IDLE_WRITE_S``): only where
    #: fetching again from the last written cursor brings the same records. Not by default: a cursor can move with
    #: no record (LiveAgent steps through phases), and losing that move delays the next phase by a whole cycle.
    idle_polls_may_wait: ClassVar[bool] = False

    def __init__(self, settings: SourceSettings, context: AdapterContext | None = None) -> None:
        self.settings = settings
        self.context = context or AdapterContext()

    @property
    def name(self) -> str:
        return self.settings.name

    @abstractmethod
    def fetch(self, cursor: Cursor | None, at: float) -> FetchResult:
        """Fetch what changed since ``cursor`` up to ``at`` (now, or a past moment for a replay)."""

    def check(self) -> str:
        """Reach the source and prove the credentials work; return a one-line description. Raises SourceError."""
        result = self.fetch(None, self.context.clock())
        return f"reachable, {len(result.batch)} records on the first page"

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    def wait(self, stop: threading.Event, seconds: float) -> None:
        """Wait before the next poll: ``seconds``, or until ``stop`` is set. A source that can tell cheaply when it
        has something new (a local file grew) returns as soon as it does, so the change need not wait a full
        interval."""
        stop.wait(seconds)

    def wake(self) -> None:  # noqa: B027 - optional hook
        """Make a ``wait`` in progress return at once; called from another thread after ``stop`` is set. Needed only
        by a ``wait`` that blocks on something other than ``stop``."""

    def secret(self, what: str = "token") -> str:
        """Read the source's token from ``token_env`` or ``token_file``; never from the config file itself."""
        settings = self.settings
        env_name = getattr(settings, "token_env", None)
        file_path = getattr(settings, "token_file", None)
        if env_name:
            value = self.context.environ.get(env_name)
            if not value:
                raise ConfigurationError(f"{what}: environment variable {env_name} is not set")
            return value.strip()
        if file_path:
            return read_secret_file(Path(file_path), what)
        raise ConfigurationError(f"{what}: set token_env (or token_file) for source {settings.name!r}")


def read_secret_file(path: Path, what: str = "token") -> str:
    """Read a secret from a file that only its owner can read or write."""
    try:
        info = path.stat()
    except OSError as error:
        raise ConfigurationError(f"{what}: cannot read {path}: {error.strerror}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"{what}: {path} is readable by others; chmod 600 it")
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ConfigurationError(f"{what}: {path} is empty")
    return value
