"""Thalamocortical neuron: the rebound burst against an independent numpy/scipy solve of the
same equations (written out here from the published rate functions)."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import braindyn as bd
from braindyn import gallery

F = 96485.33212


def _lin(k, x, s):  # k x / (1 - exp(-x/s)), x != 0 on the reference trajectory
    return k * x / (1.0 - np.exp(-x / s))


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _tc_rhs(I_of_t):
    k_ca = 1e4 / (2 * F * 0.1)
    phi_T = 3.0 ** 1.2

    def f(t, y):
        V, m, h, n, hT, mL, mN, hN, hh, ca = y
        u = V + 52.0
        am, bm = 0.32 * (13 - u) / (np.exp((13 - u) / 4) - 1), 0.28 * (u - 40) / (np.exp((u - 40) / 5) - 1)
        ah, bh = 0.128 * np.exp((17 - u) / 18), 4 / (1 + np.exp((40 - u) / 5))
        an, bn = 0.032 * (15 - u) / (np.exp((15 - u) / 5) - 1), 0.5 * np.exp((10 - u) / 40)
        mT = 1 / (1 + np.exp(-(V + 57) / 6.2))
        hT_inf = 1 / (1 + np.exp((V + 81) / 4))
        tau_hT = (30.8 + (211.4 + np.exp((V + 113.2) / 5)) / (1 + np.exp((V + 84) / 3.2))) / phi_T
        amL, bmL = 0.055 * (-27.01 - V) / (np.exp((-27.01 - V) / 3.8) - 1), 0.94 * np.exp((-63.01 - V) / 17)
        amN, bmN = 0.1967 * (19.88 - V) / (np.exp((19.88 - V) / 10) - 1), 0.046 * np.exp(-V / 20.73)
        ahN, bhN = 1.6e-4 * np.exp(-V / 48.4), 1 / (1 + np.exp((39 - V) / 10))
        h_inf = 1 / (1 + np.exp((V + 75) / 5.5))
        tau_h = 1 / (np.exp(-14.59 - 0.086 * V) + np.exp(-1.87 + 0.0701 * V))
        inact = 1.0 / (1.0 + ca)
        I_T = 2.0 * mT ** 2 * hT * (V - 120)
        I_L = 0.5 * mL ** 2 * inact * (V - 120)
        I_N = 0.5 * mN ** 2 * hN * inact * (V - 120)
        I_Ca = I_T + I_L + I_N
        I = (90 * m ** 3 * h * (V - 50) + 10 * n ** 4 * (V + 100) + I_Ca + 0.05 * ca / (ca + 1) * (V + 100)
             + 0.02 * hh * (V + 43) + 0.05 * (V + 70))
        return [I_of_t(t) - I, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n,
                (hT_inf - hT) / tau_hT, amL * (1 - mL) - bmL * mL, amN * (1 - mN) - bmN * mN,
                ahN * (1 - hN) - bhN * hN, (h_inf - hh) / tau_h, -k_ca * I_Ca - (ca - 0.05) / 5.0]

    return f


T_SETTLE, T_HYP, T_AFTER, AMP = 100.0, 300.0, 60.0, -1.5
OVER = {"t_after": T_AFTER}  # the gallery entry's protocol, shortened after the burst


@pytest.fixture(scope="module")
def report():
    return gallery.run_entry("thalamocortical", OVER)


def test_rebound_burst_matches_scipy(report):
    tc = bd.neurons.thalamocortical(method="rk4")
    order = ["V", "Na_m", "Na_h", "K_n", "T_h", "CaL_m", "CaN_m", "CaN_h", "h_m", "pool_c"]
    y0 = [float(np.asarray(tc.init_state()[k])[0]) for k in order]
    I_of_t = lambda t: AMP if T_SETTLE <= t < T_SETTLE + T_HYP else 0.0
    ev = lambda t, y: y[0] - 0.0
    ev.direction = 1
    segs = [(0, T_SETTLE), (T_SETTLE, T_SETTLE + T_HYP), (T_SETTLE + T_HYP, T_SETTLE + T_HYP + T_AFTER)]
    ref, y = [], y0
    for a, b in segs:  # integrate piece by piece: the current jumps at the boundaries
        sol = solve_ivp(_tc_rhs(lambda t, a=a: I_of_t(a + 1e-9)), (a, b), y, method="LSODA", rtol=1e-9,
                        atol=1e-10, events=ev, max_step=0.05)
        ref += list(sol.t_events[0])
        y = sol.y[:, -1]
    ref = np.array(ref)
    f = report.figures
    got = np.array(f["spike_times"])
    # a rebound burst: several spikes, all after the release, none during the hyperpolarisation
    assert len(ref) >= 3 and ref.min() > T_SETTLE + T_HYP and np.max(np.diff(ref)) < 10.0
    assert len(got) == len(ref), (got, ref)
    np.testing.assert_allclose(got, ref, atol=0.1)
    assert f["rebound_spikes"] == len(ref) and f["burst_count"] == 1
    # the hyperpolarisation de-inactivated I_T (h_T from near 0 at rest towards 1)
    assert f["hT_release"] > 0.5 > f["hT_rest"]


def test_no_rebound_without_T_current(report):
    # the same entry and protocol (no recompilation) with the T current blocked
    f = gallery.run_entry("thalamocortical", {**OVER, "gT": 0.0}).figures
    assert f["spike_count"] == 0 and f["rebound_spikes"] == 0
    with pytest.raises(bd.BraindynError, match="unknown parameter"):
        bd.neurons.thalamocortical(gX=1.0)
