"""Pinsky-Rinzel two-compartment neuron against an independent scipy solve of the published
equations, written here in the paper's own convention (voltages relative to rest, U = V + 60 mV)."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import braindyn as bd
from braindyn import gallery
from braindyn.gallery.biophysics_neurons import count_bursts


def _pr_rhs(Is, gc, p=0.5):
    def f(t, y):
        Us, Ud, h, n, s, c, q, ca = y
        am = 0.32 * (13.1 - Us) / (np.exp((13.1 - Us) / 4) - 1)
        bm = 0.28 * (Us - 40.1) / (np.exp((Us - 40.1) / 5) - 1)
        ah, bh = 0.128 * np.exp((17 - Us) / 18), 4 / (1 + np.exp((40 - Us) / 5))
        an = 0.016 * (35.1 - Us) / (np.exp((35.1 - Us) / 5) - 1)
        bn = 0.25 * np.exp(0.5 - 0.025 * Us)
        as_ = 1.6 / (1 + np.exp(-0.072 * (Ud - 65)))
        bs = 0.02 * (Ud - 51.1) / (np.exp((Ud - 51.1) / 5) - 1)
        if Ud <= 50:
            ac = np.exp((Ud - 10) / 11 - (Ud - 6.5) / 27) / 18.975
            bc = 2 * np.exp((6.5 - Ud) / 27) - ac
        else:
            ac, bc = 2 * np.exp((6.5 - Ud) / 27), 0.0
        aq, bq = min(0.00002 * ca, 0.01), 0.001
        minf = am / (am + bm)
        ICa = 10 * s ** 2 * (Ud - 140)
        dUs = (-0.1 * Us - 30 * minf ** 2 * h * (Us - 120) - 15 * n * (Us + 15) + gc / p * (Ud - Us) + Is / p) / 3
        dUd = (-0.1 * Ud - ICa - 0.8 * q * (Ud + 15) - 15 * c * min(ca / 250, 1) * (Ud + 15)
               + gc / (1 - p) * (Us - Ud)) / 3
        return [dUs, dUd, ah * (1 - h) - bh * h, an * (1 - n) - bn * n, as_ * (1 - s) - bs * s,
                ac * (1 - c) - bc * c, aq * (1 - q) - bq * q, -0.13 * ICa - 0.075 * ca]

    return f


T, DT = 400.0, 0.02


def _reference(model, Is, gc):
    st = model.init_state()
    order = ["Vs", "Vd", "h", "n", "s", "c", "q", "Ca"]
    y0 = [float(np.asarray(st[k])[0]) for k in order]
    y0[0] += 60.0
    y0[1] += 60.0
    ev = lambda t, y: y[0] - 40.0  # V_th = -20 mV
    ev.direction = 1
    sol = solve_ivp(_pr_rhs(Is, gc), (0, T), y0, method="LSODA", rtol=1e-9, atol=1e-10, events=ev, max_step=0.05)
    return sol.t_events[0]


@pytest.fixture(scope="module")
def runs():
    # the gallery entry (its default: I_s = 1.5, rk4 at dt 0.02) at weak and strong coupling
    return {gc: gallery.run_entry("pinsky-rinzel", {"duration": T, "g_c": gc}).figures for gc in (2.1, 10.5)}


@pytest.mark.parametrize("gc", [2.1, 10.5])
def test_spike_times_match_scipy(runs, gc):
    f = runs[gc]
    assert f["dt_ms"] == DT and f["method"] == "rk4"
    ref = _reference(bd.neurons.PinskyRinzel(gc=gc), f["I"], gc)
    got = np.array(f["spike_times"])
    assert len(ref) >= 5
    assert len(got) == len(ref), (got, ref)
    np.testing.assert_allclose(got, ref, atol=0.1)


def test_weak_coupling_bursts_strong_coupling_does_not(runs):
    weak, strong = runs[2.1], runs[10.5]
    assert weak["burst_count"] == count_bursts(weak["spike_times"]) >= 3
    assert strong["burst_count"] == 0 and strong["spike_count"] >= 3
    assert count_bursts([10.0, 14.0, 17.0, 100.0, 160.0, 163.0]) == 2


def test_bad_p():
    with pytest.raises(bd.BraindynError, match="'p'"):
        bd.neurons.PinskyRinzel(p=1.5)
