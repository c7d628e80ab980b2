"""Voltage clamp of HH against the closed-form gating at the clamped voltage (plain numpy)."""
import numpy as np
import pytest

import braindyn as bd
from braindyn import clamp


def _rates(V):
    am = 0.1 * (V + 40) / (1 - np.exp(-(V + 40) / 10))
    bm = 4 * np.exp(-(V + 65) / 18)
    ah = 0.07 * np.exp(-(V + 65) / 20)
    bh = 1 / (1 + np.exp(-(V + 35) / 10))
    an = 0.01 * (V + 55) / (1 - np.exp(-(V + 55) / 10))
    bn = 0.125 * np.exp(-(V + 65) / 80)
    return (am, bm), (ah, bh), (an, bn)


def _gate(V0, V1, t, which):
    a0, b0 = _rates(V0)[which]
    a1, b1 = _rates(V1)[which]
    x0, xinf, tau = a0 / (a0 + b0), a1 / (a1 + b1), 1 / (a1 + b1)
    return xinf - (xinf - x0) * np.exp(-t / tau)


V_HOLD = -70.0
LEVELS = np.array([-50.0, -30.1, -10.2, 10.3, 30.4])
T_ON, T_STEP, DT = 2.0, 10.0, 0.01


@pytest.fixture(scope="module")
def steps():
    # one clamp per level at once (array-valued command)
    cmd = bd.inputs.section([np.full(5, V_HOLD), LEVELS], [T_ON, T_STEP])
    return clamp.voltage_clamp(bd.neurons.HH(), cmd, T_ON + T_STEP, DT)


def test_clamp_recovers_gK_and_gNa_closed_form(steps):
    res = steps
    on = res.ts >= T_ON - 1e-9
    t = res.ts[on] - T_ON
    for j, V1 in enumerate(LEVELS):
        m = _gate(V_HOLD, V1, t, 0)
        h = _gate(V_HOLD, V1, t, 1)
        n = _gate(V_HOLD, V1, t, 2)
        np.testing.assert_allclose(res.conductances["K"][on, j], 36.0 * n ** 4, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(res.conductances["Na"][on, j], 120.0 * m ** 3 * h, rtol=1e-8, atol=1e-10)
        # the currents: g (V - E), the command held
        np.testing.assert_allclose(res.currents["K"][on, j], 36.0 * n ** 4 * (V1 + 77.0), rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(res.V[on, j], V1)
    # steady g_K(V) = 36 n_inf^4 and the analytic peak of g_Na (dense closed-form curve)
    tt = np.linspace(0, T_STEP, 200001)
    for j, V1 in enumerate(LEVELS):
        (an, bn) = _rates(V1)[2]
        if 1 / (an + bn) > T_STEP / 9:  # not yet steady at the end of the step
            continue
        assert res.conductances["K"][-1, j] == pytest.approx(36 * (an / (an + bn)) ** 4, rel=2e-3)
        g = 120.0 * _gate(V_HOLD, V1, tt, 0) ** 3 * _gate(V_HOLD, V1, tt, 1)
        assert res.conductances["Na"][on, j].max() == pytest.approx(g.max(), rel=2e-3)


def test_clamp_current_and_block(steps):
    res = steps
    # before the step the cell is at the steady state of V_HOLD: the clamp current is the
    # steady ionic current there; at the step the capacitive transient C dV/dt appears
    k = int(round(T_ON / DT))
    assert res.I_clamp[k, 0] - res.I_ion[k, 0] == pytest.approx(1.0 * (LEVELS[0] - V_HOLD) / DT)
    np.testing.assert_allclose(res.I_clamp[k + 1:], res.I_ion[k + 1:])
    cmd = bd.inputs.section([V_HOLD, 0.0], [T_ON, 5.0])
    ttx = clamp.voltage_clamp(bd.neurons.HH(), cmd, T_ON + 5.0, DT, block=("TTX",))
    tea = clamp.voltage_clamp(bd.neurons.HH(), cmd, T_ON + 5.0, DT, block=("TEA",))
    full = clamp.voltage_clamp(bd.neurons.HH(), cmd, T_ON + 5.0, DT)
    assert np.all(ttx.currents["Na"] == 0) and np.all(tea.currents["K"] == 0)
    # separation: I_Na = I_total - I_total(TTX) (the book's subtraction), the same for K
    np.testing.assert_allclose(full.I_ion - ttx.I_ion, full.currents["Na"], atol=1e-9)
    np.testing.assert_allclose(full.I_ion - tea.I_ion, full.currents["K"], atol=1e-9)
    with pytest.raises(bd.BraindynError, match="unknown channel or drug"):
        clamp.block(bd.neurons.HH(), "Ca")


def test_clamp_ramp_array_and_other_models():
    hh = bd.neurons.HH()
    # a ramp given as an array equals the same ramp given as an Input (which takes its value
    # at the middle of each step)
    ts = np.arange(500) * 0.01 + 0.005
    arr = clamp.voltage_clamp(hh, -70.0 + 10.0 * ts, 5.0, 0.01)
    ramp = clamp.voltage_clamp(hh, bd.inputs.ramp(-70.0, -20.0, 0.0, 5.0), 5.0, 0.01)
    np.testing.assert_allclose(arr.V, ramp.V, atol=1e-9)
    np.testing.assert_allclose(arr.currents["K"], ramp.currents["K"], rtol=1e-9, atol=1e-12)
    wb = clamp.voltage_clamp(bd.neurons.WangBuzsaki(), -20.0, 5.0, 0.01, V_hold=-65.0)
    assert set(wb.currents) == {"Na", "K", "L"} and wb.conductances["K"][-1] > wb.conductances["K"][0]
    with pytest.raises(bd.BraindynError, match="not a conductance model"):
        clamp.voltage_clamp(bd.neurons.LIF(), -20.0, 5.0)


def test_current_clamp_reports_channel_currents():
    res = clamp.current_clamp(bd.neurons.HH(), bd.inputs.section([0.0, 10.0], [5.0, 20.0]), 25.0, 0.01)
    assert res.V.max() > 20.0
    # the membrane equation holds on the records: C dV/dt = I_inj - sum I_k (first order in dt)
    dVdt = np.diff(res.V) / 0.01
    rhs = res.I_clamp[1:] - res.I_ion[:-1]
    assert np.max(np.abs(dVdt - rhs)) / np.max(np.abs(rhs)) < 0.1
