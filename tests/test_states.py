"""Network states beyond the book: Brunel (2000) and the ring model of Ben-Yishai et al. (1995)."""
import json
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import erf

import braindyn as bd
from braindyn.cli import main
from braindyn.gallery import get
from braindyn.gallery.states import classify, ring_moments
from braindyn.models import states as M


def _phi_direct(mu, sig, tau, trp, theta=20.0, Vr=10.0):
    # the first-passage formula written with exp(u^2) (1 + erf u) directly (valid for moderate bounds)
    val, _ = quad(lambda u: math.exp(u * u) * (1 + erf(u)), (Vr - mu) / sig, (theta - mu) / sig)
    return 1.0 / (trp + tau * math.sqrt(math.pi) * val)


@pytest.mark.parametrize("g,nu", [(5.0, 2.0), (6.0, 4.0), (4.5, 0.9), (8.0, 2.0)])
def test_brunel_rate_solves_the_self_consistency(g, nu):
    r = M.brunel_rate(g, nu)
    tau, trp, CE, J = 0.02, 0.002, 1000, 0.1
    nx = nu * 10.0                                  # nu_thr = 20 / (0.1 * 1000 * 20 ms) = 10 Hz
    mu = CE * J * tau * (nx + r * (1 - g / 4))
    sig = J * math.sqrt(CE * tau * (nx + r * (1 + g * g / 4)))
    assert abs(_phi_direct(mu, sig, tau, trp) - r) < 1e-6 * max(r, 1.0)
    assert M.brunel_nu_thr() == pytest.approx(10.0)


def test_brunel_network_structure():
    net, info = M.brunel_network(400, 5.0, 2.0, epsilon=0.1)
    assert (info["N_I"], info["C_E"], info["C_I"]) == (100, 40, 10)
    assert net.projections["EE"].conn.nnz == 400 * 40 and net.projections["IE"].conn.nnz == 400 * 10
    # the external trains sum to C_E nu_ext per neuron with at most p_max per step
    assert float(net.populations["XE"].rate) * info["k_ext"] == pytest.approx(info["C_E"] * info["nu_ext_hz"])
    assert float(net.populations["XE"].rate) * 0.1e-3 <= 0.05 + 1e-12
    with pytest.raises(bd.BraindynError):
        M.brunel_network(400, -1.0, 2.0)


@pytest.mark.filterwarnings("ignore::braindyn.UnitWarning")   # 3 ms on purpose: one delayed spike
def test_brunel_delta_synapse_moves_V_by_J():
    # one presynaptic spike moves a silent LIF by exactly J mV (after the delay)
    net, _ = M.brunel_network(40, 0.0, 0.0, epsilon=1.0, J=0.1, D=1.5)
    st = net.init_state(E={"V": np.full(40, 5.0)}, I={"V": np.full(10, 5.0)})
    st["pop"]["E"]["V"] = st["pop"]["E"]["V"].at[0].set(25.0)      # neuron 0 fires at the first step
    res = bd.run(net, 3.0, 0.1, state0=st, record="pop.E.V", key=0)
    V = np.asarray(res["pop.E.V"])[:, 1]
    decay = 5.0 * np.exp(-np.arange(1, V.size + 1) * 0.1 / 20.0)
    jump = V - decay
    assert np.allclose(jump[:14], 0.0, atol=1e-5)
    k = int(np.argmax(jump > 0.05))
    assert 14 <= k <= 16 and jump[k] == pytest.approx(0.1 * np.exp(-0.0), abs=3e-3)


def test_feedforward_LIF_rate_and_cv_match_the_diffusion_formulas():
    # the external drive alone (no recurrence): mu = 20 nu_ext mV, sigma = J sqrt(C_E tau nu_x)
    net, info = M.brunel_network(1000, 5.0, 1.0)
    sub = bd.Network({"E": net.populations["E"], "XE": net.populations["XE"]}, {"XE": net.projections["XE"]})
    res = bd.run(sub, 1100.0, 0.1, record="pop.E.spike", key=3)
    spk = np.asarray(res["pop.E.spike"].dense())[1000:]
    cnt = spk.sum(0)
    times = np.asarray(bd.measure.spike_times(spk, 0.1, max_spikes=int(cnt.max())))
    cv = float(np.nanmean(np.asarray(bd.measure.cv_isi(times, ddof=1))[cnt >= 4]))
    mu, sig = M.brunel_moments(5.0, 1.0, 0.0, C_E=info["C_E"])
    assert (mu, sig) == pytest.approx((20.0, 0.1 * math.sqrt(200.0)))
    nu_th, cv_th = M.brunel_cv(mu, sig)
    assert abs(cnt.mean() - nu_th) < 0.05 * nu_th          # 16.4 Hz
    assert abs(cv - cv_th) < 0.05                          # 0.364


def test_brunel_AI_rate_matches_the_mean_field_and_SR_is_regular_and_synchronous():
    e = get("brunel")
    ai = e.compute(e.params({"quick": True, "g": 5.0, "nu_ext": 2.0})).figures
    sr = e.compute(e.params({"quick": True, "g": 3.0, "nu_ext": 2.0})).figures
    # AI (Fig. 8C): simulated rate within 5 % of the self-consistent rate (37.95 Hz)
    assert ai["rate_mf_hz"] == pytest.approx(37.95, abs=0.01)
    assert abs(ai["rate_hz"] - ai["rate_mf_hz"]) < 0.05 * ai["rate_mf_hz"]
    assert ai["cv"] > 0.35 and ai["state"] != "SR"
    assert 0.6 < ai["cv_mf"] < 0.75
    # SR (Fig. 8A): regular firing (CV ~ 0) near saturation, classified SR
    assert sr["cv"] < 0.05 and sr["state"] == "SR"
    assert sr["rate_hz"] > 250.0
    assert sr["synchrony"] > 0.4


def test_classify_rule():
    assert classify(0.05, 0.9, 300.0) == "SR"
    assert classify(0.9, 0.2, 100.0) == "AI"
    assert classify(0.9, 0.7, 180.0) == "SI-fast"
    assert classify(0.9, 0.7, 20.0) == "SI-slow"


def _numpy_ring(n, J0, J2, c, eps, tau=10.0, dt=0.1, T=500.0):
    th = -np.pi / 2 + np.pi * np.arange(n) / n
    W = (-J0 + J2 * np.cos(2 * (th[:, None] - th[None, :]))) / n
    I = c * ((1 - eps) + eps * np.cos(2 * th))
    r = np.zeros(n)
    a = math.exp(-dt / tau)
    for _ in range(int(round(T / dt))):
        # exponential Euler with the input frozen over the step (ThresholdLinear's default)
        r = a * r + (1 - a) * np.maximum(W.T @ r + I, 0.0)
    return r


def test_ring_matches_the_analytic_marginal_solution_and_numpy():
    e = get("ring")
    f = e.compute(e.params()).figures
    assert abs(f["bump_width_rad"] - f["width_analytic_rad"]) < 2e-3
    assert abs(f["tuning_amplitude"] - f["amplitude_analytic"]) < 2e-3 * f["amplitude_analytic"]
    # the epsilon -> 0 closed form: 2 theta_c - sin(4 theta_c)/2 = 2 pi / J2
    tc = M.ring_width_eps0(6.0)
    assert 2 * tc - math.sin(4 * tc) / 2 == pytest.approx(2 * math.pi / 6.0, abs=1e-12)
    assert M.ring_solution(2.0, 6.0, 1.0, 1e-6)[0] == pytest.approx(tc, abs=1e-4)
    # a broader bump for weaker J2, still marginal
    assert M.ring_width_eps0(3.0) > tc
    net = M.ring_network(64, 2.0, 6.0)
    res = bd.run(net, 500.0, 0.1, inputs={"R": M.ring_input(64, 1.0, 0.1)}, record="pop.R.r")
    r_np = _numpy_ring(64, 2.0, 6.0, 1.0, 0.1)
    assert np.allclose(np.asarray(res["pop.R.r"][-1]), r_np, atol=1e-4)
    assert ring_moments(r_np, 64, 1.0, 0.1, 2.0, 6.0) == pytest.approx(M.ring_solution(2.0, 6.0)[0], abs=5e-3)


def test_ring_cli_json(capsys):
    assert main(["run", "ring", "--set", "n=64", "--duration", "300", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"bump_width_rad", "tuning_amplitude"}
    assert 1.2 < out["bump_width_rad"] < 1.4
