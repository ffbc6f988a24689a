"""Tokens come only from the environment or a file readable by its owner alone, and never appear in a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiftboard.adapters.base import Adapter, AdapterContext, ConfigurationError, HttpSourceSettings
from shiftboard.config import ConfigError, load_settings

TOKEN = "file-sekrit-0042"


class _Probe(Adapter):
    kind = "probe"

    def fetch(self, cursor, at):  # pragma: no cover - not called
        raise NotImplementedError


def _secret(tmp_path: Path, mode: int | None, environ: dict[str, str] | None = None, **keys) -> str:
    path = tmp_path / "token"
    if mode is not None:
        path.write_text(TOKEN + "\n")
        path.chmod(mode)
    settings = HttpSourceSettings(name="s", kind="probe", url="http://127.0.0.1:9", **keys)
    return _Probe(settings, AdapterContext(environ=environ or {})).secret()


def test_an_owner_only_token_file_is_read(tmp_path: Path):
    assert _secret(tmp_path, 0o600, token_file=tmp_path / "token") == TOKEN
    assert _secret(tmp_path, 0o400, token_file=tmp_path / "token") == TOKEN


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o666])
def test_a_token_file_others_can_read_is_refused_without_showing_it(tmp_path: Path, mode: int):
    with pytest.raises(ConfigurationError) as caught:
        _secret(tmp_path, mode, token_file=tmp_path / "token")
    assert "readable by others; chmod 600" in str(caught.value) and TOKEN not in str(caught.value)


def test_missing_file_and_variable_name_the_place_not_the_value(tmp_path: Path):
    with pytest.raises(ConfigurationError, match="cannot read"):
        _secret(tmp_path, None, token_file=tmp_path / "token")
    with pytest.raises(ConfigurationError, match="environment variable T_ENV is not set"):
        _secret(tmp_path, None, token_env="T_ENV")
    assert _secret(tmp_path, None, {"T_ENV": f" {TOKEN} "}, token_env="T_ENV") == TOKEN


def test_a_token_written_in_the_config_file_is_refused_and_not_echoed(tmp_path: Path):
    config = tmp_path / "shiftboard.toml"
    config.write_text(f"[[sources]]\nname = 'd'\nkind = 'freshdesk'\nurl = 'http://x'\ntoken = '{TOKEN}'\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    text = "\n".join(caught.value.problems)
    assert "token: unknown key" in text and TOKEN not in text
