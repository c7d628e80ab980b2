"""The CLI never shows a raw traceback: bad values are one line and a non-zero status, checked before
any computation; the --plot path is resolved before the run and reported exactly."""
import os

import pytest

from braindyn import gallery
from braindyn.cli import main


def _err(capsys, argv, status=2):
    assert main(argv) == status
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err and cap.out == ""
    lines = [l for l in cap.err.splitlines() if l.strip()]
    return lines


@pytest.mark.parametrize("argv, match", [
    (["run", "ei-balance", "--set", "p=1.5"], "p=1.5 must be in [0, 1]"),
    (["run", "ei-balance", "--set", "seed=-1"], "seed=-1 must be an integer >= 0"),
    (["run", "stdp-window", "--set", "window=-5"], "window=-5.0 must be > 0"),
    (["run", "stp", "--set", "n_spikes=-3"], "n_spikes=-3 must be an integer >= 1"),
    (["run", "stp", "--set", "U=1.5"], "U=1.5 must be in [0, 1]"),
    (["run", "lif", "--set", "tau=nan"], "tau=nan must be finite"),
    (["run", "lif", "--set", "tau=abc"], "cannot read tau='abc'"),
    (["run", "adex", "--set", "I=abc"], "cannot read I='abc'"),
    (["run", "lif", "--set", "I"], "--set expects NAME=VALUE"),
    (["run", "lif", "--dt", "300"], "dt=300.0 ms is longer than duration=200.0 ms"),
    (["run", "qif-phase", "--set", "V_min=0", "--set", "V_max=-10"], "V_min=0.0 must be below V_max=-10.0"),
    (["run", "synapse-exp", "--set", "spike_times=5,-1"], "spike_times (entry -1.0) must be >= 0"),
])
def test_bad_values_are_one_line_before_computing(capsys, argv, match):
    lines = _err(capsys, argv)
    assert len(lines) == 1 and lines[0].startswith("braindyn: error: ") and match in lines[0], lines


@pytest.mark.parametrize("argv", [["bench", "cuba", "--unroll", "0"], ["bench", "cuba", "--n", "0"],
                                  ["bench", "cuba", "--repeats", "-1"], ["run", "lif", "--dt", "0"],
                                  ["run", "lif", "--duration", "nan"]])
def test_option_values_are_usage_errors(capsys, argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument" in err and "Traceback" not in err


def test_bad_plot_path_is_refused_before_the_run(capsys, tmp_path, monkeypatch):
    calls = []
    e = gallery.get("lif")
    monkeypatch.setitem(gallery.entries(), "lif", gallery.Entry(e.name, e.summary, e.defaults,
                                                                lambda p: calls.append(p) or e.compute(p), e.plot,
                                                                e.choices))
    for path, match in [(tmp_path / "no" / "dir" / "x.png", "does not exist"), (tmp_path / "x.foo", "'.foo'"),
                        ("", "not a file name")]:
        lines = _err(capsys, ["run", "lif", "--plot", str(path)])
        assert match in lines[0], lines
    assert calls == []   # nothing was computed


def test_plot_into_a_folder_writes_inside_it_and_reports_the_exact_path(capsys, tmp_path):
    folder = tmp_path / "figs"
    folder.mkdir()
    assert main(["run", "lif", "--set", "duration=40", "--plot", str(folder)]) == 0
    out = capsys.readouterr().out
    written = folder / "lif.png"
    assert written.exists() and written.stat().st_size > 1000
    assert f"plot written to {written}" in out
    assert not os.path.exists(str(folder) + ".png")
    # no extension: '.png' appended, and that is the name reported
    assert main(["run", "lif", "--set", "duration=40", "--plot", str(tmp_path / "trace")]) == 0
    assert f"plot written to {tmp_path / 'trace.png'}" in capsys.readouterr().out
    assert (tmp_path / "trace.png").exists()


def test_unexpected_errors_are_a_summary_and_a_hint(capsys, monkeypatch):
    boom = gallery.Entry("boom", "raises", {"x": 1.0}, lambda p: [][1], lambda r, p: None)
    monkeypatch.setitem(gallery.entries(), "boom", boom)
    lines = _err(capsys, ["run", "boom"], status=1)
    assert lines[0].startswith("braindyn: unexpected error in 'braindyn run boom': IndexError")
    assert "--debug" in lines[1]
    with pytest.raises(IndexError):
        main(["run", "boom", "--debug"])
