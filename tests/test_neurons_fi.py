"""f-I curves in one vmapped run per model, and rheobases against analytic/reference values."""
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import braindyn as bd
from braindyn.neurons import HH, LIF, QIF, AdEx, ExpIF, Izhikevich, Theta, fi_curve, rheobase


def test_lif_fi_refcases():
    # refcases: tau 5, t_ref 5, dt 0.01, 1000 ms; analytic 1000/(5 + 5 ln((I+5)/(I-20))) within 1
    I = np.array([22.0, 30.0, 50.0, 100.0, 200.0, 400.0])
    fi = fi_curve(LIF(tau=5.0), I, 1000.0, 0.01)
    assert fi.counts.tolist() == [55, 89, 125, 158, 177, 188]
    assert np.all(np.abs(fi.counts - 1000.0 / (5 + 5 * np.log((I + 5) / (I - 20)))) <= 1.0)


def test_qif_and_theta_fi_match_analytic_periods():
    I = np.array([4.5, 5.0, 6.0, 8.0, 12.0])
    fi = fi_curve(QIF(method="rk4", refractory_rule="exact"), I, 1000.0, 0.01)
    m, q = -57.5, I / 0.07 - 56.25  # arctan formula for tau V' = a0 (V+65)(V+50) + I, reset -68 -> 0
    T = 5.0 + 10.0 / (0.07 * np.sqrt(q)) * (np.arctan(57.5 / np.sqrt(q)) - np.arctan(-10.5 / np.sqrt(q)))
    assert fi.rate_isi_hz == pytest.approx(1000.0 / T, rel=2e-3)
    J = np.array([0.1, 0.5, 1.0, 2.0])
    fth = fi_curve(Theta(method="rk4"), J, 500.0, 0.01)
    assert fth.rate_isi_hz == pytest.approx(1000.0 * np.sqrt(J) / (math.pi * 10.0), rel=2e-3)


@pytest.mark.parametrize("model,lo,hi,ref,why", [
    (LIF(), 15.0, 25.0, 20.0, "(V_th - V_rest)/R"),
    (QIF(), 3.0, 5.0, 3.9375, "a0 (V_c - V_rest)^2 / 4 (refcases)"),
    (ExpIF(), 3.0, 5.0, 4.0, "V_T - V_rest - Delta_T (refcases)"),
    (AdEx.preset("tonic"), 30.0, 40.0, 36.0, "(V_T - V_rest - Delta_T)/R with a = 0"),
    (Izhikevich(), 3.0, 5.0, 3.7975, "Hopf point of the resting state (refcases)"),
])
def test_rheobase_within_2_percent(model, lo, hi, ref, why):
    rb = rheobase(model, lo, hi, duration=1000.0, min_spikes=2)
    assert abs(rb / ref - 1) < 0.02, (rb, ref, why)


def test_theta_rheobase_is_zero():
    assert abs(rheobase(Theta(), -0.5, 0.5, duration=1000.0)) < 0.02


def _hh_spikes_ivp(I, T=500.0):
    # Hodgkin-Huxley with the book's parameters (refcases.md), re-typed here
    def rates(V):
        am = 0.1 * (V + 40) / (1 - math.exp(-(V + 40) / 10)) if abs(V + 40) > 1e-9 else 1.0
        an = 0.01 * (V + 55) / (1 - math.exp(-(V + 55) / 10)) if abs(V + 55) > 1e-9 else 0.1
        return (am, 4 * math.exp(-(V + 65) / 18), 0.07 * math.exp(-(V + 65) / 20),
                1 / (1 + math.exp(-(V + 35) / 10)), an, 0.125 * math.exp(-(V + 65) / 80))

    def f(t, y):
        V, m, h, n = y
        am, bm, ah, bh, an, bn = rates(V)
        dV = I - 120 * m ** 3 * h * (V - 50) - 36 * n ** 4 * (V + 77) - 0.03 * (V + 54.387)
        return [dV, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n]

    y0 = {k: float(np.asarray(v).ravel()[0]) for k, v in HH().init_state().items()}
    ev = lambda t, y: y[0] - 20.0
    ev.direction = 1
    sol = solve_ivp(f, (0, T), [y0["V"], y0["m"], y0["h"], y0["n"]], method="LSODA", rtol=1e-8, atol=1e-8,
                    events=ev, max_step=0.1)
    return len(sol.t_events[0])


def test_hh_fi_and_rheobase_against_solve_ivp():
    fi = fi_curve(HH(), np.array([0.0, 2.0, 5.0, 10.0, 15.0, 20.0]), 300.0, t_discard=100.0)
    r = fi.rate_hz
    assert r[0] == 0 and np.all(np.diff(r[2:]) > 0)  # firing grows with the current
    rb = rheobase(HH(), 1.0, 6.0, duration=500.0, n_grid=11, rounds=2)
    # the reference (LSODA, tight tolerance) must switch to repetitive firing inside +-2 %
    assert _hh_spikes_ivp(0.98 * rb) < 2 <= _hh_spikes_ivp(1.02 * rb)


def test_fi_one_vmapped_run_and_errors():
    fi = fi_curve(AdEx.preset("tonic"), np.linspace(0.0, 200.0, 9), 500.0)
    assert fi.counts[0] == 0 and np.all(np.diff(fi.counts) >= 0) and fi.counts[-1] > 10
    fiz = fi_curve(Izhikevich(), np.linspace(0.0, 20.0, 6), 500.0)
    assert np.all(np.diff(fiz.counts) >= 0)
    fe = fi_curve(ExpIF(), np.array([3.0, 5.0, 10.0]), 500.0)
    assert fe.counts.tolist()[0] == 0 and fe.counts[2] > fe.counts[1] == 11  # refcases: 11 spikes at I = 5
    with pytest.raises(bd.BraindynError):
        fi_curve(LIF(n=2), [1.0], 10.0)
    with pytest.raises(bd.BraindynError):
        rheobase(LIF(), 25.0, 30.0, 200.0)  # fires already at I_low
