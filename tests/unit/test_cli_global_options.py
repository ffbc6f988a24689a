"""Options shared by every command work before and after the command name."""

from pathlib import Path

from shiftboard.cli import build_parser


def test_config_and_verbose_before_the_command_are_kept():
    args = build_parser().parse_args(["--config", "a.toml", "-v", "snapshot", "--json"])
    assert args.config == Path("a.toml") and args.verbose is True and args.command == "snapshot"


def test_config_after_the_command_and_the_defaults():
    assert build_parser().parse_args(["snapshot", "--config", "b.toml"]).config == Path("b.toml")
    args = build_parser().parse_args(["doctor"])
    assert args.config is None and args.verbose is False
    assert build_parser().parse_args([]).config is None


def test_at_before_or_after_board_is_kept():
    assert build_parser().parse_args(["--at", "2026-11-22T10:00:00Z", "board"]).at == "2026-11-22T10:00:00Z"
    assert build_parser().parse_args(["board", "--at", "2026-11-22T11:00:00Z"]).at == "2026-11-22T11:00:00Z"
    assert build_parser().parse_args(["board"]).at is None
