"""Gallery entries of trained networks and the training examples, in their quick modes (issue 10)."""
import importlib.util
import json
import math
import pathlib

import pytest

from braindyn import gallery

ROOT = pathlib.Path(__file__).resolve().parents[1]


# rnn-context and rnn-working-memory share rnn-decision's code (their task generators are tested in
# test_tasks.py): they run with BRAINDYN_SLOW=1 to keep the suite's time budget.
@pytest.mark.parametrize("name", ["rnn-decision", pytest.param("rnn-context", marks=pytest.mark.slow),
                                  pytest.param("rnn-working-memory", marks=pytest.mark.slow)])
def test_rnn_entries_quick(name, tmp_path):
    plot = str(tmp_path / "f.png") if name == "rnn-decision" else None
    f = gallery.run_entry(name, {"quick": True}, plot=plot).figures
    json.dumps(f)
    assert 0.0 <= f["accuracy"] <= 1.0 and math.isfinite(f["loss"])
    assert isinstance(f["n_fixed_points"], int) and 0 <= f["n_fixed_points"] <= f["n_slow_points"]
    if plot:
        assert (tmp_path / "f.png").stat().st_size > 0


def test_snn_entries_quick():
    pytest.importorskip("sklearn")
    f = gallery.run_entry("snn-digits", {"quick": True}).figures
    assert set(f) >= {"test_accuracy", "epochs", "train_s"} and 0.0 <= f["test_accuracy"] <= 1.0
    g = gallery.run_entry("snn-working-memory", {"quick": True}).figures
    assert 0.0 <= g["accuracy"] <= 1.0 and g["rate_hz"] >= 0.0


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_example_train_rnn_tasks(tmp_path):
    out = _load("train_rnn_tasks").main(["--short", "--out", str(tmp_path)])
    assert 0.0 <= out["accuracy"] <= 1.0 and (tmp_path / "rnn_decision_pca.png").exists()


@pytest.mark.slow  # its parts run in the suite: snn-digits --quick above, fit_rate_pattern in test_tasks.py
def test_example_train_snn(tmp_path):
    pytest.importorskip("sklearn")
    out = _load("train_snn").main(["--short", "--out", str(tmp_path)])
    assert 0.0 <= out["test_accuracy"] <= 1.0 and (tmp_path / "snn_rate_pattern.png").exists()
