"""Cross-check of braindyn.compartments against NEURON (the field's reference simulator).

Both simulators run the same cells with the same scheme (Crank--Nicolson, NEURON's
``secondorder = 2``, staggered gates) and NEURON's ``hh`` rate tables switched off
(``usetable_hh = 0``: with its tables NEURON interpolates the rates on a 1 mV grid, an error
of ~0.1 mV RMS in a spike train that is NEURON's, not the equations'). Compared: the passive
cable (traces and λ), the HH axon's conduction velocity, and a branched (Y-shaped) neuron
with an HH soma, passive dendrites and current injection (spike times and traces).
Skipped when NEURON is not installed (``pip install neuron``; it is in the ``test`` extra).
"""
import math

import numpy as np
import pytest

neuron = pytest.importorskip("neuron", reason="NEURON is not installed: pip install 'neuron>=8.2' "
                                              "(the 'test' extra) to run the cross-check against NEURON")

import braindyn as bd  # noqa: E402
from braindyn.compartments import (CompartmentalNeuron, Morphology, Section, cable_constants,  # noqa: E402
                                   conduction_velocity)
from braindyn.neurons import channels as ch  # noqa: E402


@pytest.fixture(scope="module")
def h():
    from neuron import h as _h

    _h.load_file("stdrun.hoc")
    _h.usetable_hh = 0
    _h.secondorder = 2
    _h.celsius = 6.3
    return _h


def _run_nrn(h, dt, tstop, recs):
    vecs = [h.Vector().record(seg._ref_v) for seg in recs]
    h.dt = dt
    h.steps_per_ms = 1.0 / dt
    h.finitialize(-65.0)
    h.continuerun(tstop)
    return np.stack([np.asarray(v)[1:] for v in vecs], axis=1)  # drop t = 0; braindyn stamps step ends


def _spike_times(ts, v, th=0.0):
    up = np.where((v[:-1] <= th) & (v[1:] > th))[0]
    return ts[up] + (th - v[up]) / (v[up + 1] - v[up]) * (ts[up + 1] - ts[up])


def test_passive_cable_matches_neuron(h):
    diam, gl, Ra, nseg, L, dt, T = 1.0, 0.1, 100.0, 201, 3000.0, 0.05, 100.0
    sec = h.Section(name="cable")
    sec.L, sec.diam, sec.nseg, sec.Ra, sec.cm = L, diam, nseg, Ra, 1.0
    sec.insert("pas")
    sec.g_pas, sec.e_pas = gl * 1e-3, -65.0
    ic = h.IClamp(sec(0.5 / nseg))
    ic.delay, ic.dur, ic.amp = 0.0, 90.0, 0.01
    xs = (np.arange(nseg) + 0.5) / nseg
    vn = _run_nrn(h, dt, T, [sec(x) for x in xs])
    m = Morphology([Section("cable", L, diam, nseg=nseg)])
    cell = CompartmentalNeuron(m, {"cable": {"L": ch.Leak(g=gl, E=-65.0)}}, Ra=Ra, V_init=-65.0,
                               spike_site=("cable", 0.0), V_th=1e9, scheme="crank_nicolson")
    res = bd.run(cell, T, dt=dt, inputs={"I": bd.inputs.section([0.01, 0.0], [90.0, 10.0])}, record="V")
    vb = np.asarray(res["V"])[:, 0, :]
    rms = np.sqrt(np.mean((vb - vn) ** 2))
    assert rms < 1e-4, rms  # same discretisation: agreement to round-off of the two solvers
    # length constant of both at t = 90 ms (9 tau: steady state) against the closed form
    lam = cable_constants(diam, gl, Ra)["lambda_um"]
    x = m.x_um
    sel = (x >= 0.2 * lam) & (x <= 2.0 * lam)
    k = int(round(90.0 / dt)) - 1
    for v in (vb, vn):
        fit = -1.0 / np.polyfit(x[sel], np.log(v[k, sel] + 65.0), 1)[0]
        assert abs(fit / lam - 1) < 0.01


def _nrn_axon_velocity(h, diam, length, dx, dt):
    sec = h.Section(name="axon")
    sec.L, sec.diam, sec.nseg, sec.Ra = length, diam, int(math.ceil(length / dx)), 35.4
    sec.insert("hh")
    n = sec.nseg
    ic = h.IClamp(sec(0.5 / n))
    ic.delay, ic.dur, ic.amp = 0.5, 1.0, 0.2 * diam ** 1.5
    xs = (np.arange(n) + 0.5) / n
    T = dt * int(np.ceil((2.0 + length / (500.0 * np.sqrt(diam)) * 1.5) / dt))
    v = _run_nrn(h, dt, T, [sec(x) for x in xs])
    ts = dt * np.arange(1, v.shape[0] + 1)
    return conduction_velocity(ts, v, xs * length, 0.25 * length, 0.75 * length)


def test_axon_velocity_matches_neuron(h):
    from braindyn.gallery.compartments import axon_velocity

    vb = axon_velocity(1.0, 2000.0, 10.0, 0.01)
    vn10 = _nrn_axon_velocity(h, 1.0, 2000.0, 10.0, 0.01)
    vn20 = _nrn_axon_velocity(h, 1.0, 2000.0, 20.0, 0.02)
    assert abs(vn10 / vn20 - 1) < 5e-3  # NEURON converged: halving dx and dt changes it by < 0.5 %
    assert abs(vb / vn10 - 1) < 1e-3, (vb, vn10)


def _y_cell_nrn(h, nseg):
    soma = h.Section(name="soma")
    soma.L = soma.diam = 20.0
    soma.insert("hh")
    d = [h.Section(name=f"d{i}") for i in range(3)]
    d[0].connect(soma(1))
    d[1].connect(d[0](1))
    d[2].connect(d[0](1))
    for s, L, di in zip(d, (100.0, 150.0, 200.0), (2.0, 1.0, 1.5)):
        s.L, s.diam, s.nseg = L, di, nseg
        s.insert("pas")
        s.g_pas, s.e_pas = 1e-4, -65.0
    for s in [soma] + d:
        s.Ra = 100.0
    ic = h.IClamp(soma(0.5))
    ic.delay, ic.dur, ic.amp = 2.0, 20.0, 0.4
    return soma, d, ic


def test_branched_neuron_traces_and_spikes_match_neuron(h):
    nseg, dt, T = 41, 0.025, 30.0
    soma, d, ic = _y_cell_nrn(h, nseg)
    vn = _run_nrn(h, dt, T, [soma(0.5), d[1](0.95)])
    m = Morphology([Section("soma", 20.0, 20.0), Section("d0", 100.0, 2.0, "soma", nseg=nseg),
                    Section("d1", 150.0, 1.0, "d0", nseg=nseg), Section("d2", 200.0, 1.5, "d0", nseg=nseg)])
    pas = ch.Leak(g=0.1, E=-65.0)
    cell = CompartmentalNeuron(m, {"soma": {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak(g=0.3, E=-54.3)},
                                   "d0": {"L": pas}, "d1": {"L": pas}, "d2": {"L": pas}}, Ra=100.0,
                               sites={"tip": ("d1", 0.95)}, scheme="crank_nicolson")
    res = bd.run(cell, T, dt=dt, inputs={"I": bd.inputs.section([0.0, 0.4, 0.0], [2.0, 20.0, 8.0])},
                 record=["V_tip", "V"])
    vs = np.asarray(res["V"])[:, 0, 0]
    vt = np.asarray(res["V_tip"])[:, 0]
    ts = res.ts
    sn, sb = _spike_times(ts, vn[:, 0]), _spike_times(ts, vs)
    assert len(sn) == len(sb) >= 2
    np.testing.assert_allclose(sb, sn, atol=0.1)  # spike times within 0.1 ms (measured: ~0.005 ms)
    # traces within 0.1 mV RMS; the remaining difference is the junction of the two daughter
    # branches (NEURON: a zero-area node, braindyn: direct coupling), first order in dx
    assert np.sqrt(np.mean((vs - vn[:, 0]) ** 2)) < 0.1
    assert np.sqrt(np.mean((vt - vn[:, 1]) ** 2)) < 0.1
