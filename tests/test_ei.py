"""Chapter 6 networks against independent references: the balanced state (linear algebra), a NumPy
integration of the rate network with its dense matrix, the fixed point of the Vogels rule, a
linear fit of the spiking network's rate response, and the membrane time constant."""
from __future__ import annotations

import importlib.util
import json
import pathlib

import jax.numpy as jnp
import numpy as np
import pytest

import braindyn as bd
from braindyn._errors import BraindynError
from braindyn.models import balanced_rates, ei_rate_network, plastic_inhibition_network

ROOT = pathlib.Path(__file__).resolve().parents[1]
J, IEXT = [[0.2, -1.6], [0.2, -1.44]], [0.2, 0.16]


def _mean_rates():
    return {"rE": lambda s: jnp.mean(s["pop"]["E"]["r"]), "rI": lambda s: jnp.mean(s["pop"]["I"]["r"])}


def test_balanced_state_is_the_solution_of_the_balance_equations():
    # independent: the balance equations written out by hand, K_E J_aE r_E + K_I J_aI r_I + ext = O(1)
    A = np.array([[0.2, -1.6 * 0.25], [0.2, -1.44 * 0.25]])
    r_inf = balanced_rates(J, IEXT, 400, 100, finite=False)
    assert np.allclose(A @ r_inf + IEXT, 0.0, atol=1e-12) and np.allclose(r_inf, [1.0, 1.0])
    # the finite-K fixed point r = sqrt(K) (A r + I) approaches it, as eps A^-1 r_inf (eps = 1/sqrt(K)) for large K
    Ks = (100, 400, 1600, 6400, 25600)
    dev = [np.abs(balanced_rates(J, IEXT, K, K // 4) - r_inf).max() for K in Ks]
    assert np.all(np.diff(dev) < 0)
    K = 10**8
    lead = np.linalg.solve(A, r_inf) / np.sqrt(K)
    np.testing.assert_allclose(balanced_rates(J, IEXT, K, K // 4) - r_inf, lead, rtol=0.01, atol=1e-5)
    for K in (100, 400):
        r = balanced_rates(J, IEXT, K, K // 4)
        assert np.allclose(r, np.sqrt(K) * (A @ r + IEXT), rtol=1e-12)


def test_rate_network_reaches_the_finite_K_fixed_point_and_its_balance():
    K = 200
    net, s = ei_rate_network(n_e=4 * K, n_i=K, K_E=K, K_I=K // 4, j=J, seed=3)
    rng = np.random.default_rng(0)
    st = net.init_state(E={"r": rng.uniform(0, 2, 4 * K)}, I={"r": rng.uniform(0, 2, K)})
    res = bd.run(net, 300.0, state0=st, inputs={"E": s * IEXT[0], "I": s * IEXT[1]}, record=_mean_rates())
    r_K = balanced_rates(J, IEXT, K, K // 4)
    final = res.run_state.state["pop"]
    for name, k in (("E", 0), ("I", 1)):
        r = np.asarray(final[name]["r"])
        assert abs(r.mean() - r_K[k]) < 1e-4 * r_K[k] and r.std() < 1e-3 * r_K[k]     # homogeneous fixed point
    # balance: each input part grows as sqrt(K), their sum stays O(1)
    rE, rI = r_K
    exc, inh, ext = np.sqrt(K) * 0.2 * rE, np.sqrt(K) * (-1.6 / 4) * rI, np.sqrt(K) * 0.2
    assert abs(exc + inh + ext) < 0.4 * exc


def test_rate_network_matches_a_numpy_integration_with_its_dense_matrices():
    net, s = ei_rate_network(n_e=200, n_i=50, K_E=40, K_I=10, j=J, seed=1)
    rng = np.random.default_rng(1)
    r0 = {"E": rng.uniform(0, 3, 200), "I": rng.uniform(0, 3, 50)}
    dt, steps = 0.1, 300
    res = bd.run(net, steps * dt, dt, state0=net.init_state(E={"r": r0["E"]}, I={"r": r0["I"]}),
                 inputs={"E": s * IEXT[0], "I": s * IEXT[1]}, record=["pop.E.r", "pop.I.r"])
    W = {k: pr.conn.to_dense() * float(pr.weight) for k, pr in net.projections.items()}  # (n_pre, n_post)
    ext = {"E": s * IEXT[0], "I": s * IEXT[1]}
    r = {k: v.copy() for k, v in r0.items()}
    e = np.exp(-dt / 10.0)
    out = []
    for _ in range(steps):      # exponential Euler, coupling read at the start of the step
        inp = {a: r["E"] @ W["E" + a] + r["I"] @ W["I" + a] + ext[a] for a in "EI"}
        r = {a: r[a] * e + (1 - e) * np.maximum(inp[a], 0.0) for a in "EI"}
        out.append(r["E"].copy())
    np.testing.assert_allclose(np.asarray(res["pop.E.r"]), np.array(out), rtol=1e-5, atol=1e-6)


def test_gallery_rate_entry_quick():
    f = bd.gallery.run_entry("ei-balance-rate", {"quick": True}).figures
    assert abs(f["rate_E"] - f["rate_E_finite_K"]) < 0.01 * f["rate_E_finite_K"]
    assert abs(f["rate_I"] - f["rate_I_finite_K"]) < 0.01 * f["rate_I_finite_K"]
    assert f["rate_E_balanced"] == pytest.approx(1.0) and abs(f["mean_input_E"] - f["rate_E"]) < 1e-3
    assert f["input_exc_E"] > 0 > f["input_inh_E"] and f["balance_index"] < 0.6


def test_plastic_inhibition_rate_form_reaches_the_rule_fixed_point():
    rho0 = 5.0
    net = plastic_inhibition_network(n_post=30, form="rate", w_inh=0.05, eta=1e-5, rho0=rho0, seed=2)
    res = bd.run(net, 500.0, record={"y": "pop.post.r"})
    y = np.asarray(res["y"][-1])
    assert np.all(np.abs(y - rho0) < 1e-3 * rho0)
    # the fixed point of dw = eta x (y - rho0) in the input of each unit: W_I^T x = W_E^T x - rho0
    WE = net.projections["XP"].conn.to_dense() * 0.3
    WI_mask = net.projections["YP"].conn.to_dense()
    w = np.asarray(res.run_state.state["proj"]["YP"]["w"])
    WI = net.projections["YP"].conn.to_dense(weights=w)
    x = 10.0
    np.testing.assert_allclose(x * WI.sum(0), x * WE.sum(0) - rho0, rtol=1e-3)
    assert np.all(WI[WI_mask > 0] > 0.05)           # every inhibitory weight grew from 0.05


def test_plastic_inhibition_spike_form_drives_the_rate_to_alpha_over_2tau():
    f = bd.gallery.run_entry("ei-plastic-inhibition", {"quick": True}).figures
    assert f["alpha"] == pytest.approx(2 * 0.005 * 20.0)       # alpha = 2 rho0 tau, rho0 = 5 Hz
    assert f["rate_before_hz"] > 10 * f["target_hz"]
    assert abs(f["rate_after_hz"] - f["target_hz"]) < 0.4 * f["target_hz"], f
    assert f["weights_mean"] > 10 * f["weights_mean_before"]


def test_spiking_network_linear_response_and_fast_tracking(capsys):
    from braindyn.cli import main

    assert main(["run", "ei-linear-response", "--quick", "--json"]) == 0
    f = json.loads(capsys.readouterr().out)
    x, y = np.array(f["input"]), np.array(f["rate_E_hz"])
    slope, icept = np.polyfit(x, y, 1)                     # our own fit
    r2 = 1 - np.sum((y - slope * x - icept) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2 > 0.97 and f["r2"] == pytest.approx(r2, abs=1e-4) and slope > 0
    # the balance of the mean drift (measured mean V) predicts the slope within a factor 2
    assert 0.5 < f["slope_hz_per_mV"] / f["slope_balance_hz_per_mV"] < 2.0

    g = bd.gallery.run_entry("ei-tracking", {"quick": True}).figures
    assert g["rate_after_hz"] > g["rate_before_hz"] + 2 * g["noise_hz"]
    tau_m = 20.0
    assert g["tracking_time_ms"] < tau_m / 4 and g["tau_eff_ms"] < tau_m / 4


def test_errors_name_the_fix():
    with pytest.raises(BraindynError, match="K_E"):
        ei_rate_network(n_e=10, n_i=10, K_E=20, K_I=5)
    with pytest.raises(BraindynError, match="2 x 2"):
        ei_rate_network(n_e=10, n_i=10, K_E=5, K_I=5, j=[1.0, 2.0])
    with pytest.raises(BraindynError, match="form"):
        plastic_inhibition_network(form="hebb")
    with pytest.raises(BraindynError, match="quick"):
        bd.gallery.get("ei-tracking").params({"quik": True})


def test_example_runs_in_its_short_mode(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("ch6_ei_balance", ROOT / "examples" / "ch6_ei_balance.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sim, finite, _ = mod.rate_demo(K=40, duration=150.0)
    assert np.allclose(sim, finite, rtol=1e-3)
    assert mod.ENTRIES == ["ei-balance-rate", "ei-linear-response", "ei-tracking", "ei-plastic-inhibition"]
    # the figures of every entry (the full --short run repeats the entries tested above: run it with plots only
    # for the two cheap ones)
    monkeypatch.setattr(mod, "ENTRIES", ["ei-balance-rate", "ei-plastic-inhibition"])
    out = mod.main(["--short", "--out", str(tmp_path)])
    assert len(list(tmp_path.glob("*.png"))) == 2 and out["ei-plastic-inhibition"]["form"] == "spike"
