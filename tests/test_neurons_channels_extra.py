"""A-type K current (Connor-Stevens, Dayan & Abbott ch. 6) and Ih (Huguenard & McCormick 1992):
gates against their closed forms, behaviour in a neuron, and the model harness."""
import jax

jax.config.update("jax_enable_x64", True)

import numpy as np
import pytest

import braindyn as bd
from braindyn.neurons import ConductanceNeuron
from braindyn.neurons import channels as ch
from braindyn.neurons.channels_extra import IA_CS, Ih_HM
from braindyn.testing import check_model

V = np.linspace(-120.0, 40.0, 161)


# ---- closed forms, written independently of the module (V in mV, tau in ms) -------------------
def a_inf_ref(v):  # Dayan & Abbott, Theoretical Neuroscience, ch. 6.2
    return (0.0761 * np.exp(0.0314 * (v + 94.22)) / (1.0 + np.exp(0.0346 * (v + 1.17)))) ** (1.0 / 3.0)


def tau_a_ref(v):
    return 0.3632 + 1.158 / (1.0 + np.exp(0.0497 * (v + 55.96)))


def b_inf_ref(v):
    return (1.0 / (1.0 + np.exp(0.0688 * (v + 53.3)))) ** 4


def tau_b_ref(v):
    return 1.24 + 2.678 / (1.0 + np.exp(0.0624 * (v + 50.0)))


def mh_inf_ref(v):  # Huguenard & McCormick 1992
    return 1.0 / (1.0 + np.exp((v + 75.0) / 5.5))


def tau_mh_ref(v):
    return 1.0 / (np.exp(-14.59 - 0.086 * v) + np.exp(-1.87 + 0.0701 * v))


def test_ka_gates_match_closed_form():
    c = IA_CS()
    s = c.gates_inf(V, {})
    assert np.asarray(s["a"]) == pytest.approx(a_inf_ref(V), rel=1e-12)
    assert np.asarray(s["b"]) == pytest.approx(b_inf_ref(V), rel=1e-12)
    # kinetics: relaxation to the steady state with the published time constants (tested
    # through the derivative at a displaced gate, x = 0.3, and with phi = 2)
    d = IA_CS(phi=2.0).derivs(V, {"a": np.full_like(V, 0.3), "b": np.full_like(V, 0.3)}, {})
    assert np.asarray(d["a"]) == pytest.approx(2.0 * (a_inf_ref(V) - 0.3) / tau_a_ref(V), rel=1e-10, abs=1e-14)
    assert np.asarray(d["b"]) == pytest.approx(2.0 * (b_inf_ref(V) - 0.3) / tau_b_ref(V), rel=1e-10, abs=1e-14)
    zero = c.derivs(V, s, {})
    assert np.max(np.abs(np.asarray(zero["a"]))) < 1e-12 and np.max(np.abs(np.asarray(zero["b"]))) < 1e-12
    # current: g a^3 b (V - E_A), E_A = -75 mV
    I = c.current(V, s, {})
    assert np.asarray(I) == pytest.approx(47.7 * a_inf_ref(V) ** 3 * b_inf_ref(V) * (V + 75.0), rel=1e-10, abs=1e-12)


def test_ih_gate_matches_closed_form():
    c = Ih_HM()
    s = c.gates_inf(V, {})
    assert np.asarray(s["m"]) == pytest.approx(mh_inf_ref(V), rel=1e-12)
    d = Ih_HM(phi=3.0).derivs(V, {"m": np.full_like(V, 0.4)}, {})
    assert np.asarray(d["m"]) == pytest.approx(3.0 * (mh_inf_ref(V) - 0.4) / tau_mh_ref(V), rel=1e-10, abs=1e-15)
    assert np.asarray(c.current(V, s, {})) == pytest.approx(0.02 * mh_inf_ref(V) * (V + 43.0), rel=1e-10, abs=1e-14)
    # tau_m is slow: of order a second near -80 mV, tens of ms at -40 and -120 mV
    assert 900.0 < tau_mh_ref(-80.0) < 1100.0 and tau_mh_ref(-40.0) < 200.0


def test_neuron_initial_state_uses_the_gate_steady_states():
    n = ConductanceNeuron({"L": ch.Leak(g=0.1, E=-65.0), "A": IA_CS(g=1.0), "h": Ih_HM(g=0.05)})
    y = n.initial()
    v = float(y["V"])
    assert abs(float(n.steady_current(v))) < 1e-9  # the rest balances the currents
    assert float(y["A_a"]) == pytest.approx(a_inf_ref(v), rel=1e-12)
    assert float(y["A_b"]) == pytest.approx(b_inf_ref(v), rel=1e-12)
    assert float(y["h_m"]) == pytest.approx(mh_inf_ref(v), rel=1e-12)


# ---- behaviour -------------------------------------------------------------------------------
def hh_parts():
    return {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak(g=0.3)}


@pytest.mark.parametrize("I", [15.0, 20.0])
def test_ka_delays_first_spike_and_lowers_rate(I):
    stim = bd.inputs.section([0.0, I], [20.0, 300.0])
    out = {}
    for gA in (0.0, 10.0):
        m = ConductanceNeuron({**hh_parts(), "A": IA_CS(g=gA)})
        t = bd.run(m, 320.0, 0.025, inputs=stim, record=["V", "spike"], check_finite=False).spike_times()
        out[gA] = (t[0] - 20.0, len(t))
    (lat0, n0), (lat1, n1) = out[0.0], out[10.0]
    assert n0 >= 15 and n1 >= 10  # both fire tonically
    assert lat1 > 1.15 * lat0  # first-spike latency after the step is longer with g_A
    assert n1 < 0.85 * n0  # and the rate lower


def test_ih_sag_and_rebound():
    step = bd.inputs.section([0.0, -2.0, 0.0], [200.0, 1500.0, 1500.0])
    out = {}
    for gh in (0.0, 0.1):
        cell = ConductanceNeuron({"L": ch.Leak(g=0.1, E=-65.0), "h": Ih_HM(g=gh)})
        res = bd.run(cell, 3200.0, 0.1, inputs=step, record="V", check_finite=False)
        v, ts = np.asarray(res["V"])[:, 0], np.asarray(res.ts)
        during, after = (ts > 200.0) & (ts <= 1700.0), ts > 1700.0
        rest = v[0]
        out[gh] = (v[during].min() - rest, v[during][-1] - v[during].min(), v[after].max() - rest)
    peak0, sag0, reb0 = out[0.0]
    peak1, sag1, reb1 = out[0.1]
    # passive cell: monotone charging to -20 mV below rest, no sag, no overshoot on release
    assert peak0 == pytest.approx(-20.0, abs=0.05) and sag0 < 0.05 and reb0 < 0.05
    # with Ih: V reaches a minimum, then relaxes back toward rest by several mV (the sag) ...
    assert peak1 < -10.0 and sag1 > 4.0
    # ... and after release overshoots the resting potential (rebound depolarisation)
    assert reb1 > 2.0


# ---- model harness ---------------------------------------------------------------------------
def test_conductance_neuron_with_ka_and_ih_passes_check_model():
    # a leaky cell carrying both new pieces, their conductances scaled by the traced parameter
    # (the Na/K spiking pieces are covered by the behavioural tests; leaving them out keeps the
    # harness's compilations short)
    def factory(p):
        return ConductanceNeuron({"L": ch.Leak(g=0.1, E=-65.0), "A": IA_CS(g=p), "h": Ih_HM(g=0.01 * p)},
                                 V_init=-65.0)

    out = check_model(factory, [5.0, 10.0], inputs=1.0, n_steps=100, dt=0.1, grad_inputs=1.0)
    assert out["jit"] and out["vmap"] and np.isfinite(out["grad"])
    assert out["dtype"] == ["float32", "float64"]
    g, fd = out["grad_vs_fd"]
    assert g < 0  # more A-current (reversal -75 mV) pulls V down


def test_parameter_checks():
    with pytest.raises(bd.BraindynError):
        IA_CS(g=-1.0)
    with pytest.raises(bd.BraindynError):
        Ih_HM(phi=0.0)
