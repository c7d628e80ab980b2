"""The CLI contract: list, run (with --json: exactly one JSON object), errors, --set."""
import json

import pytest

from braindyn.cli import main


def _json_out(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr().out
    lines = [l for l in out.splitlines() if l.strip()]
    assert len(lines) == 1, out
    return json.loads(lines[0])


def test_list_contains_foundation_entries(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "hh " in out and "lif " in out


def test_run_hh_json_matches_book(capsys, tmp_path):
    fig = tmp_path / "hh.png"
    d = _json_out(capsys, ["run", "hh", "--json", "--plot", str(fig)])
    assert d["spike_count"] == 4
    # exp-Euler at dt 0.1 (refcases: 4 spikes for the book's step); times within the step
    assert len(d["spike_times"]) == 4 and 12.0 < d["spike_times"][0] < 13.0
    assert fig.exists() and fig.stat().st_size > 10000


def test_run_lif_with_overrides(capsys):
    d = _json_out(capsys, ["run", "lif", "--json", "--set", "I=30", "--set", "refractory_rule=exact", "--dt", "0.01"])
    # analytic period for I = 30: 5 + 10 ln(35/10)
    import math

    assert d["analytic_period_ms"] == pytest.approx(5 + 10 * math.log(3.5), abs=1e-3)
    assert d["mean_isi_ms"] == pytest.approx(d["analytic_period_ms"], abs=0.02)


def test_run_errors_are_clear(capsys):
    assert main(["run", "lif", "--set", "tau=-1"]) == 2
    assert "tau" in capsys.readouterr().err
    assert main(["run", "hhh"]) == 2
    assert "Did you mean 'hh'" in capsys.readouterr().err
    assert main(["run", "lif", "--set", "nonsense=1"]) == 2
    assert "no parameter 'nonsense'" in capsys.readouterr().err
    assert main(["run", "lif", "--method", "rk5"]) == 2
    assert "rk4" in capsys.readouterr().err
