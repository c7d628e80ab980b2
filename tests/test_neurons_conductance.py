"""Conductance-based, continuous and rate models against solve_ivp, refcases and exact solutions."""
import math

import jax

jax.config.update("jax_enable_x64", True)

import numpy as np
import pytest

import braindyn as bd
from braindyn.neurons import (FHN, HH, ConductanceNeuron, HindmarshRose, MorrisLecar, RateUnit, ThresholdLinear,
                              WangBuzsaki, WilsonCowan)
from braindyn.neurons import channels as ch

from test_neurons_refs import crossings_ivp


def run(model, T, dt, I, record=("V", "spike")):
    return bd.run(model, T, dt, inputs=I, record=list(record), check_finite=False)


# ---- Morris-Lecar ----------------------------------------------------------------------------
def ml_f(I):
    def f(t, y):  # Morris & Lecar 1981 with the Rinzel-Ermentrout (1989) parameters
        V, W = y
        m = 0.5 * (1 + math.tanh((V + 1.2) / 18.0))
        Winf = 0.5 * (1 + math.tanh((V - 2.0) / 30.0))
        tau = 1.0 / math.cosh((V - 2.0) / 60.0)
        dV = (I - 4.4 * m * (V - 130.0) - 8.0 * W * (V + 84.0) - 2.0 * (V + 60.0)) / 20.0
        return [dV, 0.04 * (Winf - W) / tau]
    return f


@pytest.fixture(scope="module")
def ml_ref():
    m = MorrisLecar()
    V0 = float(m.resting_potential())
    W0 = 0.5 * (1 + math.tanh((V0 - 2.0) / 30.0))
    t, _ = crossings_ivp(ml_f(100.0), [V0, W0], 500.0, 10.0)
    return V0, t


def test_morris_lecar_rest_is_a_zero_of_the_reference_field(ml_ref):
    V0 = ml_ref[0]
    W0 = 0.5 * (1 + math.tanh((V0 - 2.0) / 30.0))
    assert np.allclose(ml_f(0.0)(0, [V0, W0]), 0.0, atol=1e-9)


def test_morris_lecar_against_solve_ivp(ml_ref):
    ref = ml_ref[1]
    t = run(MorrisLecar(method="rk4"), 500.0, 0.01, 100.0).spike_times()
    assert len(t) == len(ref) >= 5
    assert np.max(np.abs(t - ref)) <= 0.011
    # the book's setting, exponential Euler at dt = 0.1: same count, times within 1 %
    tb = run(MorrisLecar(), 500.0, 0.1, 100.0).spike_times()
    assert len(tb) == len(ref) and np.max(np.abs(tb - ref) / ref) < 0.01


def test_morris_lecar_channel_assembly_is_the_same_neuron():
    m = MorrisLecar()
    c = ConductanceNeuron(m.channels(), C=20.0, V_th=10.0)
    a = run(m, 200.0, 0.1, 100.0)
    b = run(c, 200.0, 0.1, 100.0)
    assert np.max(np.abs(np.asarray(a["V"]) - np.asarray(b["V"]))) < 1e-8


# ---- Wang-Buzsaki ----------------------------------------------------------------------------
def wb_f(I):
    def f(t, y):  # Wang & Buzsaki 1996, J Neurosci 16:6402, eqs. 1-4
        V, h, n = y
        am = 0.1 * (V + 35) / (1 - math.exp(-(V + 35) / 10)) if abs(V + 35) > 1e-9 else 1.0
        bm = 4 * math.exp(-(V + 60) / 18)
        ah, bh = 0.07 * math.exp(-(V + 58) / 20), 1 / (math.exp(-(V + 28) / 10) + 1)
        an = 0.01 * (V + 34) / (1 - math.exp(-(V + 34) / 10)) if abs(V + 34) > 1e-9 else 0.1
        bn = 0.125 * math.exp(-(V + 44) / 80)
        m = am / (am + bm)
        dV = I - 35 * m ** 3 * h * (V - 55) - 9 * n ** 4 * (V + 90) - 0.1 * (V + 65)
        return [dV, 5 * (ah * (1 - h) - bh * h), 5 * (an * (1 - n) - bn * n)]
    return f


def test_wang_buzsaki_against_solve_ivp():
    m = WangBuzsaki()
    y0 = {k: float(np.asarray(v)) for k, v in m.initial().items()}
    assert np.allclose(wb_f(0.0)(0, [y0["V"], y0["h"], y0["n"]]), 0.0, atol=1e-8)  # rest of the reference
    ref, _ = crossings_ivp(wb_f(1.0), [y0["V"], y0["h"], y0["n"]], 100.0, 20.0)
    t = run(WangBuzsaki(method="rk4"), 100.0, 0.01, 1.0).spike_times()
    assert len(t) == len(ref) >= 3
    assert np.max(np.abs(t - ref)) <= 0.011
    # exponential Euler converges slowly on this fast (phi = 5) model: at dt 0.1 its ISI is
    # 25 % too long (documented on the class); at dt 0.01 the ISIs are within 5 %.
    tb = run(WangBuzsaki(), 100.0, 0.01, 1.0).spike_times()
    assert len(tb) == len(ref) and np.max(np.abs(np.diff(tb) / np.diff(ref) - 1)) < 0.05


def test_wang_buzsaki_channel_assembly_is_the_same_neuron():
    m = WangBuzsaki()
    a = run(m, 100.0, 0.1, 1.0)
    b = run(ConductanceNeuron(m.channels()), 100.0, 0.1, 1.0)
    assert np.max(np.abs(np.asarray(a["V"]) - np.asarray(b["V"]))) < 1e-8


# ---- channel-assembled neuron -----------------------------------------------------------------
def hh_parts():
    return {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak()}


def test_channel_hh_rest_refcases():
    y = ConductanceNeuron(hh_parts()).initial()
    assert float(y["V"]) == pytest.approx(-70.6762, abs=1e-3)
    assert (float(y["Na_m"]), float(y["Na_h"]), float(y["K_n"])) == (
        pytest.approx(0.02658, abs=1e-5), pytest.approx(0.77206, abs=1e-5), pytest.approx(0.23536, abs=1e-5))


def test_channel_hh_step_refcases_exact_and_identical_to_hh():
    stim = bd.inputs.section([0.0, 10.0, 0.0], [10.0, 50.0, 10.0])
    c = ConductanceNeuron(hh_parts(), method="rk4")
    t = run(c, 70.0, 0.01, stim).spike_times()
    # refcases, exact: 12.12, 26.79, 40.95, 55.10 (2 decimals)
    assert t == pytest.approx([12.12, 26.79, 40.95, 55.10], abs=0.016)
    a = run(HH(), 70.0, 0.1, stim)
    b = run(ConductanceNeuron(hh_parts()), 70.0, 0.1, stim)
    assert np.max(np.abs(np.asarray(a["V"]) - np.asarray(b["V"]))) < 1e-8


def test_calcium_pool_and_ahp_plug_in():
    base = hh_parts()
    plain = ConductanceNeuron({**base, "Ca": ch.ICa_ML(g=0.05), "pool": ch.CalciumPool()})
    ahp = ConductanceNeuron({**base, "Ca": ch.ICa_ML(g=0.05), "pool": ch.CalciumPool(), "AHP": ch.IK_Ca(g=2.0)})
    rp = run(plain, 300.0, 0.1, 10.0, record=("V", "spike", "pool_c"))
    ra = run(ahp, 300.0, 0.1, 10.0, record=("V", "spike", "pool_c"))
    c = np.asarray(rp["pool_c"])[:, 0]
    assert c.max() > 0.05 * 1.5  # calcium enters with each spike
    # the calcium-activated K current slows firing (spike-frequency adaptation)
    assert 0 < ra.spike_count() < rp.spike_count()
    with pytest.raises(bd.BraindynError, match="CalciumPool"):
        ConductanceNeuron({**base, "AHP": ch.IK_Ca()})


def test_channel_rates_removable_singularities():
    # alpha_m(-40) = 1 and alpha_n(-55) = 0.1 exactly (refcases)
    am = ch.INa_HH.rates(np.float64(-40.0))[0]
    an = ch.IK_HH.rates(np.float64(-55.0))[0]
    assert float(am) == pytest.approx(1.0, abs=1e-12) and float(an) == pytest.approx(0.1, abs=1e-12)


# ---- FitzHugh-Nagumo -------------------------------------------------------------------------
def test_fhn_fixed_point_refcases():
    V, w = FHN().rest(0.8)
    assert (V, w) == (pytest.approx(-0.272901, abs=1e-6), pytest.approx(0.533874, abs=1e-6))
    d = FHN().vector_field(0.0, {"V": np.array([V]), "w": np.array([w])}, {"I": 0.8})
    assert abs(float(d["V"][0])) < 1e-12 and abs(float(d["w"][0])) < 1e-12


def test_fhn_limit_cycle_refcases():
    res = run(FHN(method="rk4"), 400.0, 0.01, 0.8)
    t = res.spike_times()
    assert np.diff(t)[-5:] == pytest.approx(np.full(5, 36.52), abs=0.02)
    V = np.asarray(res["V"])[res.ts > 200.0, 0]
    assert V.min() == pytest.approx(-1.93, abs=0.01) and V.max() == pytest.approx(1.91, abs=0.01)
    # below the Hopf point 0.33128 the rest state is stable: no firing after the onset transient
    assert np.all(run(FHN(method="rk4"), 300.0, 0.05, 0.2).spike_times() < 50.0)


# ---- Hindmarsh-Rose --------------------------------------------------------------------------
def test_hindmarsh_rose_against_solve_ivp():
    def f(t, y):  # Hindmarsh & Rose 1984
        x, yy, z = y
        return [yy - x ** 3 + 3 * x * x - z + 3.0, 1 - 5 * x * x - yy, 0.01 * (4 * (x + 1.6) - z)]

    y0 = [-1.6, 1 - 5 * 1.6 ** 2, 0.0]
    ref, sol = crossings_ivp(f, y0, 300.0, 1.0)
    res = run(HindmarshRose(method="rk4"), 300.0, 0.01, 3.0)
    t = res.spike_times()
    assert len(t) == len(ref) > 10 and np.max(np.abs(t - ref)) <= 0.011
    V = np.asarray(res["V"])[:, 0]
    k = res.ts <= 60.0  # before chaos-free drift accumulates, the trajectory itself agrees
    assert np.max(np.abs(V[k] - sol.sol(res.ts[k])[0])) < 1e-3


# ---- rate units ------------------------------------------------------------------------------
@pytest.mark.parametrize("f,fn", [("sigmoid", lambda x: 1 / (1 + np.exp(-x))), ("tanh", np.tanh),
                                  ("relu", lambda x: np.maximum(x, 0.0)), ("linear", lambda x: x)])
def test_rate_unit_exact_relaxation(f, fn):
    I, tau, g, th = 1.7, 8.0, 1.3, 0.4
    res = bd.run(RateUnit(f=f, tau=tau, gain=g, theta=th, r_init=0.2), 40.0, inputs=I, record="r",
                 check_finite=False)
    r_inf = fn(g * (I - th))
    ref = r_inf + (0.2 - r_inf) * np.exp(-res.ts / tau)  # exponential Euler is exact here
    assert np.asarray(res["r"])[:, 0] == pytest.approx(ref, abs=1e-10)


def test_threshold_linear_steady_states():
    m = ThresholdLinear(n=3, theta=1.0, gain=2.0)
    res = bd.run(m, 200.0, inputs=np.array([0.5, 1.0, 3.0]), record="r", check_finite=False)
    assert np.asarray(res["r"])[-1] == pytest.approx([0.0, 0.0, 4.0], abs=1e-6)
    with pytest.raises(bd.BraindynError):
        ThresholdLinear(f="tanh")


def test_wilson_cowan_against_solve_ivp():
    S = lambda x, a, th: 1 / (1 + np.exp(-a * (x - th))) - 1 / (1 + np.exp(a * th))

    def f(t, y):  # Wilson & Cowan 1972 with the book's parameters
        E, I = y
        return [-E + (1 - E) * S(12 * E - 13 * I + 1.0, 1.2, 2.8), -I + (1 - I) * S(4 * E - 11 * I, 1.0, 4.0)]

    from scipy.integrate import solve_ivp

    sol = solve_ivp(f, (0, 30), [0.3, 0.05], rtol=1e-10, atol=1e-12, dense_output=True)
    res = bd.run(WilsonCowan(method="rk4", rE_init=0.3, rI_init=0.05), 30.0, 0.01, inputs={"I": 1.0},
                 check_finite=False)
    ref = sol.sol(res.ts)
    assert np.max(np.abs(np.asarray(res["rE"])[:, 0] - ref[0])) < 1e-8
    assert np.max(np.abs(np.asarray(res["rI"])[:, 0] - ref[1])) < 1e-8


@pytest.mark.parametrize("make", [
    lambda: MorrisLecar(C=0.0), lambda: WangBuzsaki(gNa=-1.0), lambda: FHN(tau=0.0), lambda: HindmarshRose(r=-0.1),
    lambda: RateUnit(f="sigmoidal"), lambda: RateUnit(tau=-1.0), lambda: WilsonCowan(tau_E=0.0),
    lambda: ConductanceNeuron({}), lambda: ConductanceNeuron({"Na_x": ch.INa_HH()}), lambda: ch.Leak(g=-1.0),
    lambda: HindmarshRose.preset("chaos"),
])
def test_bad_parameters_raise(make):
    with pytest.raises(bd.BraindynError):
        make()


# ---- conductance inputs: I(V) = gE - g V evaluated inside the vector field ---------------------
def _scan(model, inputs, steps, dt=0.05):
    """Spike count and final V of ``model`` under fixed ``inputs`` (own loop: the model alone)."""
    s0 = model.init_state()

    def body(s, k):
        s, _ = model.step(s, inputs, k * dt, dt, None)
        return s, s["spike"]

    final, spikes = jax.lax.scan(body, s0, np.arange(steps))
    return np.asarray(spikes), np.asarray(final["V"])


@pytest.mark.parametrize("method", ["exp_euler", "rk4"])
def test_conductance_input_is_an_extra_leak(method):
    """A Conductance(g, E) input and a Leak(g, E) channel are the same term of the equation,
    so the neurons integrate identically (the input is resolved at the V of every stage)."""
    from braindyn.core import Conductance

    g = np.array([0.5, 1.5])
    syn = Conductance.of(g, 0.0) + 2.0  # an excitatory conductance plus a current
    for base in (lambda **k: HH(**k), lambda **k: ConductanceNeuron({"Na": ch.INa_HH(), "K": ch.IK_HH(),
                                                                     "L": ch.Leak()}, **k)):
        a = _scan(base(n=2, method=method, V_init=-65.0), {"I": syn}, 1000)
        ref = ConductanceNeuron({"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak(), "S": ch.Leak(g=g, E=0.0)},
                                n=2, method=method, V_init=-65.0)
        b = _scan(ref, {"I": 2.0}, 1000)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_allclose(a[1], b[1], rtol=1e-9, atol=1e-9)
        assert a[0].sum(0).min() >= 1  # the conductance drives both neurons to fire
    # the same for a reset neuron: tau V' = -(V - V_rest) + R (gE - g V) is a LIF with another leak
    # (exact for exponential Euler, whose linearisation sees the -g V term)
    g = np.array([0.2, 0.1])
    lif = bd.neurons.LIF(n=2, tau=10.0, V_th=20.0, method=method)
    s, V = _scan(lif, {"I": Conductance.of(g, 60.0)}, 400, dt=0.1)
    V_inf = 60.0 * g / (1 + g)  # 10 and 5.45 mV, below V_th: no spike
    assert s.sum() == 0
    np.testing.assert_allclose(V, V_inf + (-5.0 - V_inf) * np.exp(-40.0 * (1 + g) / 10.0), atol=1e-7)
