"""Configuration: where it is found, env overrides, and one clear line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiftboard.config import ConfigError, find_config, load_settings


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch):
    """No real user config or cache: HOME and XDG dirs point into tmp_path, cwd is empty."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("SHIFTBOARD_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)


def _write(tmp_path: Path, text: str, name: str = "shiftboard.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_search_order_explicit_then_env_then_cwd_then_user_dir(tmp_path: Path):
    user = tmp_path / "xdg-config" / "shiftboard" / "shiftboard.toml"
    user.parent.mkdir(parents=True)
    user.write_text("")
    assert find_config(None, {}) == user
    local = _write(tmp_path, "")
    assert find_config(None, {}) == local
    assert find_config(None, {"SHIFTBOARD_CONFIG": "/etc/x.toml"}) == Path("/etc/x.toml")
    assert find_config(Path("given.toml"), {"SHIFTBOARD_CONFIG": "/etc/x.toml"}) == Path("given.toml")


def test_no_file_gives_defaults_and_the_platform_cache_path(tmp_path: Path):
    settings = load_settings(None, {})
    assert settings.origin is None
    assert settings.metrics.service_level_threshold_s == 20
    assert settings.cache.resolved_path() == tmp_path / "xdg-data" / "shiftboard" / "cache.sqlite"


def test_file_values_and_environment_overrides(tmp_path: Path, monkeypatch):
    path = _write(tmp_path, "[board]\nrefresh_s = 5\n[metrics]\nabandon_policy = 'all_abandons'\n")
    monkeypatch.setenv("SHIFTBOARD_BOARD__REFRESH_S", "3")
    settings = load_settings(path)
    assert settings.board.refresh_s == 3
    assert settings.metrics.abandon_policy == "all_abandons"


def test_refresh_has_a_floor_of_one_second(tmp_path: Path):
    assert load_settings(_write(tmp_path, "[board]\nrefresh_s = 0.1\n")).board.refresh_s == 1.0


def test_per_queue_metric_overrides_inherit_the_rest(tmp_path: Path):
    path = _write(
        tmp_path, "[metrics]\nshort_abandon_s = 3\n[metrics.queues.Billing]\nservice_level_threshold_s = 30\n"
    )
    billing = load_settings(path).metrics.for_queue("Billing")
    assert (billing.service_level_threshold_s, billing.short_abandon_s) == (30, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[board]\nrefresh = 2\n", "board.refresh: unknown key"),
        ("[metrics]\nservice_level_threshold_s = 'soon'\n", "metrics.service_level_threshold_s: Input should be"),
        ("[metrics]\nabandon_policy = 'sometimes'\n", "metrics.abandon_policy: Input should be"),
        ("[metrics]\ntimezone = 'Mars/Olympus'\n", "unknown time zone 'Mars/Olympus'"),
        ("[metrics]\nwindow = 'forever'\n", 'expected "today" or whole minutes'),
        ("[[sources]]\nname = 'x'\nkind = 'zendsk'\n", "sources[0] ('x').kind: unknown kind 'zendsk'"),
        ("[[sources]]\nname = 'x'\n", "sources[0] ('x').kind: missing"),
        ("token = 'abc'\n", "token: unknown key"),
        ("[board\n", "not valid TOML"),
    ],
)
def test_bad_config_names_file_key_and_expectation(tmp_path: Path, text: str, expected: str):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert all(line.startswith(str(path)) for line in caught.value.problems)
    assert any(expected in line for line in caught.value.problems), caught.value.problems


def test_every_problem_gets_its_own_line(tmp_path: Path):
    path = _write(tmp_path, "[board]\nrefresh = 2\n[metrics]\nshort_abandon_s = -1\nwindow = 'x'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert len(caught.value.problems) == 3


def test_secret_values_are_never_echoed(tmp_path: Path):
    path = _write(tmp_path, "api_token = 'sk-live-123456'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "sk-live-123456" not in str(caught.value)


def test_missing_and_unreadable_files(tmp_path: Path):
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(tmp_path)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(binary)


def test_no_sources_key_runs_the_simulator_and_an_empty_list_runs_none(tmp_path: Path):
    assert [(s.name, s.kind) for s in load_settings(None, {}).source_settings()] == [("simulator", "simulator")]
    assert [s.kind for s in load_settings(_write(tmp_path, "[board]\nrefresh_s = 2\n")).source_settings()] == [
        "simulator"
    ]
    viewer = load_settings(_write(tmp_path, "sources = []\n[board]\nrefresh_s = 2\n", "viewer.toml"))
    assert viewer.source_settings() == []
