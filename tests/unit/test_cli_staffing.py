"""`shiftboard staffing`: figures from Erlang C, one clear line and exit 2 for bad values."""

import json

import pytest

from shiftboard.cli import main


def test_staffing_json_matches_published_case(capsys):
    # A = 200/h × 180 s = 10 Erlangs, 80/20 → 14 agents, SL 0.88835, ASA 7.836 s, P(wait) 0.1741 (metrics.md §9.4).
    assert main(["staffing", "--calls-per-hour", "200", "--aht", "180", "--shrinkage", "0.3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["agents"] == 14
    assert data["scheduled_agents"] == 20
    assert data["service_level_pct"] == pytest.approx(88.835, abs=1e-3)
    assert data["asa_s"] == pytest.approx(7.8359, abs=1e-3)
    assert data["p_wait_pct"] == pytest.approx(17.4132, abs=1e-3)
    assert data["occupancy_pct"] == pytest.approx(71.4286, abs=1e-3)


def test_staffing_text_with_target_and_max_occupancy(capsys):
    assert main(["staffing", "--calls-per-hour", "720", "--aht", "240", "--target", "70/15"]) == 0
    assert "agents needed: 53" in capsys.readouterr().out
    assert main(["staffing", "--calls-per-hour", "200", "--aht", "180", "--max-occupancy", "0.7"]) == 0
    out = capsys.readouterr().out
    assert "agents needed: 15" in out
    assert "occupancy: 66.7 %" in out


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--calls-per-hour", "x", "--aht", "180"], "--calls-per-hour"),
        (["--calls-per-hour", "0", "--aht", "180"], "--calls-per-hour"),
        (["--calls-per-hour", "10", "--aht", "-1"], "--aht"),
        (["--calls-per-hour", "10", "--aht", "180", "--target", "80"], "--target"),
        (["--calls-per-hour", "10", "--aht", "180", "--target", "100/20"], "--target"),
        (["--calls-per-hour", "10", "--aht", "180", "--shrinkage", "1"], "--shrinkage"),
        (["--calls-per-hour", "10", "--aht", "180", "--max-occupancy", "1.5"], "--max-occupancy"),
        (["--calls-per-hour", "1e15", "--aht", "180"], "agents"),
        (["--calls-per-hour", "inf", "--aht", "180"], "calls per hour"),
    ],
)
def test_bad_values_give_one_line_and_exit_2(capsys, args, word):
    assert main(["staffing", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert word in lines[0]
