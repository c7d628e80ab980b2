"""The neuron library in the CLI gallery: every model listed, runnable, with JSON figures and a plot."""
import json

import numpy as np
import pytest

from braindyn import cli, gallery

NAMES = ["hh", "morris-lecar", "wang-buzsaki", "conductance", "lif", "qif", "theta", "expif", "adex", "adqif",
         "izhikevich", "gif", "hindmarsh-rose", "fhn", "rate-unit", "wilson-cowan", "threshold-linear",
         "poisson-group", "spike-time-group"]
SPIKING = {"hh", "morris-lecar", "wang-buzsaki", "conductance", "lif", "qif", "theta", "expif", "adex", "adqif",
           "izhikevich", "gif", "hindmarsh-rose", "fhn", "poisson-group", "spike-time-group"}


def test_every_model_is_listed(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for n in NAMES:
        assert any(line.split()[0] == n for line in out.splitlines() if line.strip()), n


@pytest.mark.parametrize("name", [n for n in NAMES if n not in ("hh", "lif")])
def test_entry_runs_with_key_figures(name):
    e = gallery.get(name)
    over = {"duration": min(e.defaults["duration"], 100.0)}
    rep = gallery.run_entry(name, over)
    json.dumps(cli._jsonable(rep.figures))  # JSON-ready
    if name in SPIKING:
        assert {"spike_count", "spike_times"} <= set(rep.figures)
        assert rep.figures["spike_count"] == len(rep.figures["spike_times"]) or name == "poisson-group"


def test_cli_json_and_plot_for_presets(tmp_path, capsys):
    png = tmp_path / "adex.png"
    assert cli.main(["run", "adex", "--set", "pattern=bursting", "--json", "--plot", str(png)]) == 0
    figs = json.loads(capsys.readouterr().out)
    assert figs["classified_pattern"] == "bursting" and figs["spike_count"] == 33  # refcases: 33 spikes in 500 ms
    assert png.stat().st_size > 1000
    assert cli.main(["run", "izhikevich", "--set", "pattern=chattering", "--json"]) == 0
    figs = json.loads(capsys.readouterr().out)
    assert figs["classified_pattern"] == "bursting" and figs["spike_count"] == 22  # refcases: CH 22 spikes
    assert cli.main(["run", "gif", "--set", "pattern=tonic_bursting", "--duration", "300", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["classified_pattern"] == "bursting"


def test_cli_plots_rate_and_raster(tmp_path):
    for name in ("wilson-cowan", "poisson-group"):
        png = tmp_path / f"{name}.png"
        assert cli.main(["run", name, "--duration", "50", "--plot", str(png)]) == 0
        assert png.stat().st_size > 1000


def test_bad_preset_is_a_clear_error(capsys):
    assert cli.main(["run", "adex", "--set", "pattern=burstin"]) == 2
    assert "bursting" in capsys.readouterr().err
