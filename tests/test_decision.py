"""The reduced decision model with OU background noise (Wong & Wang 2006) and its gallery entry.

References: the fixed points of refcases.md (mu0 20 Hz: stable (0.63785, 0.04281), its mirror,
saddle (0.22022, 0.22022); c = 100 %: (0.68137, 0.02532)); scipy on the equations written
again in NumPy; braindyn.analysis on WongWang; the exact statistics of the prescribed
Euler--Maruyama OU recursion.
"""
from __future__ import annotations

import importlib.util
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
import braindyn.analysis as an
from braindyn import BraindynError, gallery
from braindyn.models import WongWangOU, decide, fixed_points_scipy
from braindyn.models.decision_rate import WongWang

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _rows(fps):
    return sorted((float(f.coords[0]), float(f.coords[1]), bool(f.stable)) for f in fps)


@pytest.mark.parametrize("c, expected", [
    (0.0, [(0.04281, 0.63785, True), (0.22022, 0.22022, False), (0.63785, 0.04281, True)]),
    (100.0, [(0.68137, 0.02532, True)]),
])
def test_fixed_points_scipy_analysis_and_reference_agree(c, expected):
    sp = fixed_points_scipy(c)
    b2 = _rows(an.find_fixed_points(an.from_model(WongWang(), params=["coherence"]), {"coherence": c},
                                    bounds=[(0, 1), (0, 1)]))
    # the noisy model with its noise off: the same points, the OU currents at 0
    vf4 = an.from_model(WongWangOU(sigma=0.0), params=["coherence"])
    fp4 = an.find_fixed_points(vf4, {"coherence": c}, bounds=[(0, 1), (0, 1), (-0.01, 0.01), (-0.01, 0.01)])
    b4 = _rows(fp4)
    assert len(sp) == len(b2) == len(b4) == len(expected)
    for (x, y, st), (x2, y2, st2), (x4, y4, st4), (xe, ye, ste) in zip(sp, b2, b4, expected):
        assert st == st2 == st4 == ste
        assert abs(x - xe) < 1e-5 and abs(y - ye) < 1e-5          # scipy vs the published values
        assert abs(x - x2) < 1e-5 and abs(y - y2) < 1e-5          # scipy vs braindyn.analysis
        assert abs(x - x4) < 1e-5 and abs(y - y4) < 1e-5
    assert all(np.max(np.abs(f.coords[2:])) < 1e-8 for f in fp4)


def test_noise_free_field_is_wong_wang():
    y = {"s1": jnp.array([0.3]), "s2": jnp.array([0.1])}
    for c in (0.0, 12.8, -40.0):
        f2 = WongWang(coherence=c).vector_field(0.0, y, {"I1": 0.01})
        m = WongWangOU(coherence=c)
        f4 = m.vector_field(0.0, {**y, "In1": jnp.array([0.01]), "In2": jnp.array([0.0])}, {})
        for k in ("s1", "s2"):
            np.testing.assert_allclose(f4[k], f2[k], rtol=1e-6)
        np.testing.assert_allclose(f4["In1"], -0.01 / m.tau_n, rtol=1e-6)
    # the stimulus gate switches the stimulus term off
    off = WongWangOU(coherence=30.0).currents(y | {"In1": 0.0, "In2": 0.0}, {"stim": 0.0})
    on = WongWang(mu0=0.0).currents(y, {})
    np.testing.assert_allclose(off, on, rtol=1e-6)


def test_ou_noise_follows_the_prescribed_recursion():
    """I <- I - I dt/tau + sigma sqrt(dt/tau) xi: stationary variance sigma^2 / (2 - dt/tau),
    lag-1 autocorrelation 1 - dt/tau (the s variables do not feed back on the noise)."""
    dt, tau, sigma = 0.1, 2.0, 0.02
    m = WongWangOU(sigma=sigma, tau_n=tau)
    st = m.init_state(In1=0.0, In2=0.0)
    _, rec, _ = jax.jit(lambda s: bd.simulate(m, s, 200_000, dt, key=jax.random.PRNGKey(3),
                                              record=lambda s: {"a": s["In1"][0], "b": s["In2"][0]}))(st)
    r = dt / tau
    for name in ("a", "b"):
        x = np.asarray(rec[name])[2000:]
        var_th = sigma**2 / (2 - r)
        assert abs(x.mean()) < 4 * np.sqrt(var_th / len(x) * (2 / r))   # SE with the correlation time
        assert abs(x.var() / var_th - 1) < 0.05
        ac = np.corrcoef(x[:-1], x[1:])[0, 1]
        assert abs(ac - (1 - r)) < 0.01
    a, b = np.asarray(rec["a"]), np.asarray(rec["b"])
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.05                     # independent per population


def test_noise_free_trial_settles_on_the_winners_fixed_point():
    m = WongWangOU(coherence=25.6, sigma=0.0)
    stim = bd.inputs.section([0.0, 1.0], [100.0, 3000.0])
    final, _, _ = bd.simulate(m, m.init_state(), 31000, 0.1, inputs={"stim": stim}, key=jax.random.PRNGKey(0),
                              record=lambda s: {})
    (x, y, _), = [p for p in fixed_points_scipy(25.6) if p[2] and p[0] > p[1]]
    assert abs(float(final["s1"][0]) - x) < 1e-4 and abs(float(final["s2"][0]) - y) < 1e-4


def test_decide_rules():
    ts = np.arange(0.0, 301.0, 1.0)
    ramp = lambda t0, slope: np.clip((ts - t0) * slope, 0, None)
    r1 = np.stack([ramp(120, 0.5), ramp(100, 0.01), np.full_like(ts, 20.0), ramp(100, 0.05)])
    r2 = np.stack([ramp(100, 0.1), ramp(100, 0.02), np.zeros_like(ts), ramp(100, 0.04)])
    choice, rt, und = decide(ts, r1, r2, t_on=100.0, t_off=300.0, threshold=15.0)
    choice, rt, und = np.asarray(choice), np.asarray(rt), np.asarray(und)
    # trial 0: A crosses at 150 ms (B would at 250): A, RT 50; trial 1: nobody crosses, B higher
    # at the end; trial 2: A above threshold from onset: RT 0; trial 3: neither crosses, A higher
    np.testing.assert_array_equal(choice, [True, False, True, True])
    np.testing.assert_array_equal(und, [False, True, False, True])
    np.testing.assert_allclose(rt[[0, 2]], [50.0, 0.0], atol=1e-6)
    assert np.isnan(rt[[1, 3]]).all()
    # crossing between samples: linear interpolation
    c, rt_i, _ = decide(ts, (ts - 100.5) * 0.3, np.zeros_like(ts), t_on=100.0, t_off=300.0)
    assert abs(float(rt_i) - 50.5) < 1e-4 and bool(c)


@pytest.fixture(scope="module")
def psychometric():
    return gallery.run_entry("decision-rate", {"quick": True, "psychometric": True}).figures


def test_psychometric_curve_rises_and_rt_falls(psychometric):
    f = psychometric
    pc, se = np.asarray(f["p_correct"]), np.asarray(f["p_correct_se"])
    assert f["coherences"][0] == 0.0 and f["trials"] == 200
    # monotonic within two standard errors; chance at 0 %; certain at 51.2 %
    assert np.all(np.diff(pc) >= -2 * np.hypot(se[1:], se[:-1]))
    assert abs(pc[0] - 0.5) < 3 * 0.5 / np.sqrt(f["trials"])
    assert pc[-1] > 0.95 and pc[-1] > pc[0] + 0.3
    rt, rse = np.asarray(f["mean_rt_ms"], float), np.asarray(f["rt_se_ms"], float)
    assert np.all(np.diff(rt) < 2 * np.hypot(rse[1:], rse[:-1]))
    assert rt[-1] < rt[0] - 200
    assert all(0 <= u < 0.1 for u in f["p_undecided"])
    # a decision state: the winner near its attractor's rate, the loser suppressed
    assert all(w > 15.0 > 5.0 > lo for w, lo in zip(f["rate_winner_hz"], f["rate_loser_hz"]))
    assert f["batch_trials"] == 800 and f["batch_s"] > 0


def test_batch_is_the_single_trials():
    """A vmapped batch gives what separate simulate calls with the same keys give."""
    m = WongWangOU(coherence=6.4)
    stim = bd.inputs.section([0.0, 1.0], [100.0, 400.0])
    keys = jax.random.split(jax.random.PRNGKey(7), 3)

    def trial(key):
        f, _, _ = bd.simulate(m, m.init_state(), 5000, 0.1, inputs={"stim": stim}, key=key, record=lambda s: {})
        return f["s1"][0], f["s2"][0]

    b1, b2 = jax.jit(jax.vmap(trial))(keys)
    for i, k in enumerate(keys):
        s1, s2 = jax.jit(trial)(k)
        assert abs(float(s1) - float(b1[i])) < 1e-5 and abs(float(s2) - float(b2[i])) < 1e-5
    assert len({round(float(v), 6) for v in b1}) == 3                  # different keys, different trials


def test_cli_decision_rate_json(capsys):
    from braindyn.cli import main

    assert main(["run", "decision-rate", "--quick", "--json", "--set", "coherence=51.2", "--set", "trials=40"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["trials"] == 40 and d["coherence"] == 51.2
    assert d["p_choice_A"] > 0.9 and 100 < d["mean_rt_ms"] < 1000 and d["p_undecided"] < 0.1
    assert d["rate_winner_hz"] > 15 > d["rate_loser_hz"]


def test_example_runs_in_its_short_mode(tmp_path):
    spec = importlib.util.spec_from_file_location("ch7_decision", ROOT / "examples" / "ch7_decision.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--short", "--out", str(tmp_path)])
    b2, b4, sp = out["fixed_points"][0.0]
    assert len(b2) == len(b4) == len(sp) == 3
    assert out["decision-rate"]["p_correct"][-1] > 0.95
    assert (tmp_path / "decision-rate.png").exists()
    g = out["decision-spiking"]                        # the spiking network's quick mode
    assert g["coherences"] == [0.0, 51.2] and g["n_neurons"] == 500 and g["batch_trials"] == 8
    assert all(0.0 <= q <= 1.0 for q in g["p_correct"]) and 0.5 < g["rate_spont_hz"][0] < 5.0
    assert (tmp_path / "decision-spiking.png").exists()


def test_errors_name_the_fix():
    with pytest.raises(BraindynError, match="tau_n"):
        WongWangOU(tau_n=-1.0)
    with pytest.raises(BraindynError, match="sigma"):
        WongWangOU(sigma=-0.1)
    m = WongWangOU()
    with pytest.raises(BraindynError, match="key"):
        bd.simulate(m, m.init_state(), 10, 0.1)
