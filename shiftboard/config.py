"""Configuration: a TOML file validated by pydantic-settings, with SHIFTBOARD_* environment overrides.

Where the file is found, first match wins: ``--config FILE``, ``$SHIFTBOARD_CONFIG``, ``./shiftboard.toml``, then
``shiftboard.toml`` in the user config dir. With no file at all the board runs on the built-in simulator.
Secrets never live in the file: a source names the environment variable that holds its token.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import time as clock_time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shiftboard.adapters import adapter_class, kinds
from shiftboard.adapters.base import SourceSettings, check_time_zone
from shiftboard.errors import ConfigError

APP_NAME = "shiftboard"
CONFIG_ENV = "SHIFTBOARD_CONFIG"
FILE_NAME = "shiftboard.toml"
REFRESH_FLOOR_S = 1.0
#: The source list when the configuration names none.
_SIMULATOR: list[dict[str, Any]] = [{"name": "simulator", "kind": "simulator"}]

AbandonPolicy = Literal[
    "answered_only",
    "all_abandons",
    "exclude_short",
    "abandoned_after_threshold",
    "abandons_within_threshold_met",
]
ABANDON_POLICIES: tuple[str, ...] = AbandonPolicy.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CacheSettings(_Strict):
    path: Path | None = Field(None, description="SQLite cache file; default: the platform's user data dir.")
    retention_days: int = Field(90, ge=1, description="Records older than this are pruned.")

    def resolved_path(self) -> Path:
        if self.path is not None:
            return self.path.expanduser()
        return Path(platformdirs.user_data_dir(APP_NAME)) / "cache.sqlite"


class Threshold(_Strict):
    """A figure is WARN past ``warn`` and BREACH past ``breach``. When warn > breach, lower is worse."""

    warn: float
    breach: float


class BusinessHours(_Strict):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = ["mon", "tue", "wed", "thu", "fri"]
    start: clock_time = clock_time(8, 0)
    end: clock_time = clock_time(18, 0)
    holidays: list[str] = Field(default_factory=list, description="ISO dates (YYYY-MM-DD) when closed.")

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class SlaTarget(_Strict):
    first_reply_min: float | None = Field(None, gt=0)
    resolution_min: float | None = Field(None, gt=0)
    business_hours: bool = False


def _default_sla() -> dict[str, SlaTarget]:
    return {
        "urgent": SlaTarget(first_reply_min=30, resolution_min=4 * 60),
        "high": SlaTarget(first_reply_min=60, resolution_min=8 * 60),
        "normal": SlaTarget(first_reply_min=4 * 60, resolution_min=24 * 60),
        "low": SlaTarget(first_reply_min=8 * 60, resolution_min=72 * 60),
    }


class QueueMetrics(_Strict):
    """Per-queue overrides of the ``[metrics]`` keys; unset keys inherit."""

    service_level_threshold_s: float | None = Field(None, gt=0)
    service_level_target_pct: float | None = Field(None, gt=0, le=100)
    abandon_policy: AbandonPolicy | None = None
    short_abandon_s: float | None = Field(None, ge=0)
    repeat_window_h: float | None = Field(None, gt=0)


class MetricsSettings(_Strict):
    service_level_threshold_s: float = Field(20, gt=0)
    service_level_target_pct: float = Field(80, gt=0, le=100)
    abandon_policy: AbandonPolicy = "exclude_short"
    short_abandon_s: float = Field(5, ge=0)
    repeat_window_h: float = Field(24, gt=0)
    sla_at_risk_min: float = Field(30, ge=0, description="An open case is at risk this close to an SLA target.")
    window: str = Field("today", description='"today" (since local midnight) or minutes, e.g. "60m".')
    timezone: str | None = Field(None, description="IANA zone for 'today' and business hours; default: local.")
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    sla: dict[Literal["low", "normal", "high", "urgent"], SlaTarget] = Field(default_factory=_default_sla)
    queues: dict[str, QueueMetrics] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return check_time_zone(value)

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        if value != "today" and not (value.endswith("m") and value[:-1].isdigit() and int(value[:-1]) > 0):
            raise ValueError('expected "today" or whole minutes such as "60m"')
        return value

    def for_queue(self, queue: str) -> MetricsSettings:
        """These settings with the queue's overrides applied."""
        override = self.queues.get(queue)
        if override is None:
            return self
        changes = {key: value for key, value in override.model_dump().items() if value is not None}
        return self.model_copy(update=changes)

    def zone(self) -> ZoneInfo | Any:
        if self.timezone:
            return ZoneInfo(self.timezone)
        from datetime import datetime

        return datetime.now().astimezone().tzinfo


def _default_thresholds() -> dict[str, Threshold]:
    return {
        "service_level_pct": Threshold(warn=80, breach=70),
        "longest_wait_s": Threshold(warn=60, breach=180),
        "waiting_now": Threshold(warn=5, breach=15),
        "asa_s": Threshold(warn=20, breach=45),
        "abandon_rate_pct": Threshold(warn=5, breach=10),
        "blocked": Threshold(warn=1, breach=10),
        "backlog_open": Threshold(warn=200, breach=400),
        "sla_breached": Threshold(warn=1, breach=5),
    }


class BoardSettings(_Strict):
    refresh_s: float = Field(2.0, description=f"Seconds between cache reads (floor {REFRESH_FLOOR_S:g} s).")
    theme: str | None = Field(None, description="Textual theme; default picks an ANSI theme on 16 colours.")
    thresholds: dict[str, Threshold] = Field(default_factory=_default_thresholds)
    queues: dict[str, dict[str, Threshold]] = Field(
        default_factory=dict, description="Per-queue threshold overrides, by figure."
    )
    wall_rotate_s: float = Field(15.0, ge=3)
    rewind_step_min: float = Field(5.0, gt=0, description="Minutes [ and ] move the board back and forward.")
    bell: bool = False

    @field_validator("refresh_s")
    @classmethod
    def _floor(cls, value: float) -> float:
        return max(value, REFRESH_FLOOR_S)


class CostSettings(_Strict):
    period_cost: float | None = Field(None, ge=0, description="Support cost of one period, in your currency.")
    period: Literal["day", "week", "month"] = "month"


class Settings(BaseSettings):
    """The whole configuration. See config.example.toml for every key."""

    model_config = SettingsConfigDict(env_prefix="SHIFTBOARD_", env_nested_delimiter="__", extra="forbid", frozen=True)

    #: None when the file has no ``sources`` at all (the simulator runs); ``sources = []`` names no source: the board
    #: only reads a cache that ``shiftboard collect`` (here or elsewhere) fills.
    sources: list[dict[str, Any]] | None = None
    cache: CacheSettings = Field(default_factory=CacheSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    board: BoardSettings = Field(default_factory=BoardSettings)
    costs: CostSettings = Field(default_factory=CostSettings)
    keys: dict[str, str] = Field(default_factory=dict, description="Binding id → keys, e.g. quit = 'q,ctrl+c'.")

    #: Where the settings came from (None: defaults only); not a config key.
    origin: Path | None = Field(None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's table arrives as init kwargs; the environment overrides it.
        return (env_settings, init_settings)

    def source_settings(self) -> list[SourceSettings]:
        """Each ``[[sources]]`` table validated by its kind; the simulator when the file has no ``sources`` at all."""
        tables = _SIMULATOR if self.sources is None else self.sources
        result, problems = _validate_sources(tables, self.origin)
        if problems:
            raise ConfigError(problems)
        return result


def find_config(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The config file to read, by the documented order; None when there is none."""
    if explicit is not None:
        return explicit
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    local = Path.cwd() / FILE_NAME
    if local.is_file():
        return local
    user = Path(platformdirs.user_config_dir(APP_NAME)) / FILE_NAME
    return user if user.is_file() else None


def load_settings(explicit: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Find, read and validate the configuration. Raises ConfigError with one line per problem."""
    environ = os.environ if environ is None else environ
    path = find_config(explicit, environ)
    data: dict[str, Any] = {}
    where = "defaults"
    if path is not None:
        where = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([f"{where}: no such file"]) from None
        except PermissionError:
            raise ConfigError([f"{where}: not readable (permission denied)"]) from None
        except IsADirectoryError:
            raise ConfigError([f"{where}: is a directory, expected a TOML file"]) from None
        except UnicodeDecodeError:
            raise ConfigError([f"{where}: not UTF-8 text"]) from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError([f"{where}: not valid TOML: {error}"]) from None
    try:
        settings = Settings(**data, origin=path)
    except ValidationError as error:
        raise ConfigError([_describe(where, item) for item in error.errors()]) from None
    _, problems = _validate_sources(_SIMULATOR if settings.sources is None else settings.sources, path)
    if problems:
        raise ConfigError(problems)
    return settings


def check_environment(settings: Settings, environ: Mapping[str, str] | None = None) -> None:
    """Raise ConfigError when a polled source's ``token_env`` names an unset variable: a configuration problem
    found when a command starts, not a failure discovered on the first sync. (Separate from ``load_settings`` so a
    file can be validated on a machine without the tokens.) The variable's value is never read into a message."""
    environ = os.environ if environ is None else environ
    where = str(settings.origin) if settings.origin else "defaults"
    problems = []
    for source in settings.source_settings():
        variable = getattr(source, "token_env", None)
        if source.enabled and variable and not environ.get(variable, "").strip():
            problems.append(f"{where}: sources ({source.name!r}).token_env: environment variable {variable} is not set")
    if problems:
        raise ConfigError(problems)


def _validate_sources(tables: list[dict[str, Any]], origin: Path | None) -> tuple[list[SourceSettings], list[str]]:
    where = str(origin) if origin else "defaults"
    result: list[SourceSettings] = []
    problems: list[str] = []
    names: set[str] = set()
    for index, table in enumerate(tables):
        label = f"sources[{index}]"
        if not isinstance(table, dict):
            problems.append(f"{where}: {label}: expected a [[sources]] table")
            continue
        if table.get("name"):
            label += f" ({table['name']!r})"
        kind = table.get("kind")
        if not kind:
            problems.append(f"{where}: {label}.kind: missing; expected one of {', '.join(kinds())}")
            continue
        try:
            model = adapter_class(str(kind)).Settings
        except KeyError:
            problems.append(f"{where}: {label}.kind: unknown kind {kind!r}; expected one of {', '.join(kinds())}")
            continue
        try:
            source = model(**table)
        except ValidationError as error:
            problems.extend(_describe(where, item, prefix=label) for item in error.errors())
            continue
        if source.name in names:
            problems.append(f"{where}: {label}.name: {source.name!r} is used by another source")
        names.add(source.name)
        result.append(source)
    return result, problems


def _describe(where: str, item: Mapping[str, Any], prefix: str = "") -> str:
    """One line for one validation error: file, dotted key, what was expected."""
    location = ".".join(str(part) for part in item.get("loc", ()))
    key = ".".join(part for part in (prefix, location) if part) or "(top level)"
    message = str(item.get("msg", "invalid"))
    if item.get("type") == "extra_forbidden":
        message = "unknown key"
    elif item.get("type") == "missing":
        message = "required key is missing"
    elif "input" in item and item.get("type") not in ("missing",):
        shown = repr(item["input"])
        if len(shown) > 40:
            shown = shown[:37] + "..."
        message = f"{message} (got {shown})"
    return f"{where}: {key}: {message}"
