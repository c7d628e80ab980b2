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
T_ON, T_STEP, DT = 5.0, 20.0, 0.01  # the durations of the gallery entry: one compilation for both


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
    cmd = bd.inputs.section([np.full(5, V_HOLD), LEVELS], [T_ON, T_STEP])  # as the fixture: no recompilation
    ttx = clamp.voltage_clamp(bd.neurons.HH(), cmd, T_ON + T_STEP, DT, block=("TTX",))
    tea = clamp.voltage_clamp(bd.neurons.HH(), cmd, T_ON + T_STEP, DT, block=("TEA",))
    full = res
    assert np.all(ttx.currents["Na"] == 0) and np.all(tea.currents["K"] == 0)
    # separation: I_Na = I_total - I_total(TTX) (the book's subtraction), the same for K
    np.testing.assert_allclose(full.I_ion - ttx.I_ion, full.currents["Na"], atol=1e-9)
    np.testing.assert_allclose(full.I_ion - tea.I_ion, full.currents["K"], atol=1e-9)
    with pytest.raises(bd.BraindynError, match="unknown channel or drug"):
        clamp.block(bd.neurons.HH(), "Ca")


def test_clamp_array_command_and_other_models():
    # an arbitrary array command (a ramp sampled every dt): the gates follow the command
    ts = np.arange(500) * 0.01
    arr = clamp.voltage_clamp(bd.neurons.HH(), -70.0 + 10.0 * ts, 5.0, 0.01)
    np.testing.assert_allclose(arr.V, -70.0 + 10.0 * ts, atol=1e-9)
    assert np.all(np.diff(arr.conductances["K"])[1:] > 0)
    # the ramp's capacitive current C dV/dt = 10 uA/cm2 after the first step
    np.testing.assert_allclose((arr.I_clamp - arr.I_ion)[1:], 10.0, rtol=1e-9)
    wb = clamp.voltage_clamp(bd.neurons.WangBuzsaki(), -20.0, 5.0, 0.01, V_hold=-65.0)
    assert set(wb.currents) == {"Na", "K", "L"} and wb.conductances["K"][-1] > wb.conductances["K"][0]
    with pytest.raises(bd.BraindynError, match="not a conductance model"):
        clamp.voltage_clamp(bd.neurons.LIF(), -20.0, 5.0)


def test_gallery_hh_voltage_clamp(tmp_path, capsys):
    import json

    from braindyn import cli

    png = tmp_path / "clamp.png"
    assert cli.main(["run", "hh-voltage-clamp", "--quick", "--json", "--plot", str(png)]) == 0
    f = json.loads(capsys.readouterr().out)
    V_rest = f["V_rest_mV"]
    assert f["V_command_mV"] == pytest.approx(V_rest + 56.0, abs=1e-3)
    # closed form at the command potential from the resting gates (dense time grid)
    tt = np.linspace(0, 20.0, 400001)
    V1 = f["V_command_mV"]
    g = 120.0 * _gate(V_rest, V1, tt, 0) ** 3 * _gate(V_rest, V1, tt, 1)
    (an, bn) = _rates(V1)[2]
    assert f["gNa_peak"] == pytest.approx(g.max(), rel=1e-3)
    assert f["t_gNa_peak_ms"] == pytest.approx(tt[np.argmax(g)], abs=0.011)
    assert f["gK_steady"] == pytest.approx(36.0 * (an / (an + bn)) ** 4, rel=1e-3)
    # the book's reference numbers (refcases.md): 26.91 mS/cm2 at 0.80 ms, g_K steady 19.72
    assert (round(f["gNa_peak"], 2), round(f["t_gNa_peak_ms"], 2), round(f["gK_steady"], 2)) == (26.91, 0.8, 19.72)
    # the fit of the n^4 time course recovers tau_n = 1/(alpha_n + beta_n)
    assert f["tau_n_fit_ms"] == pytest.approx(1 / (an + bn), rel=1e-3)
    assert png.stat().st_size > 1000


def test_example_runs_in_its_short_mode(tmp_path):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "ch2_biophysics.py"
    spec = importlib.util.spec_from_file_location("ch2_biophysics", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--short", "--out", str(tmp_path)])
    eq = out["equilibria"]
    assert eq["E"]["K"] < eq["V_rest"] < eq["E"]["Na"] and abs(eq["I_rest"]) < 1e-9
    f = out["hh-voltage-clamp"]
    assert f["V_command_mV"] == pytest.approx(f["V_rest_mV"] + 56.0, abs=1e-3)
    assert (tmp_path / "hh-voltage-clamp.png").exists() and (tmp_path / "nernst-ghk.png").exists()
