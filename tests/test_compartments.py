"""Compartmental neurons: tree solve, geometry, cable discretisation against matrix-exponential
references written here independently, the cable/axon/dendrite cases, gradients, errors."""
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

import braindyn as bd
from braindyn import BraindynError
from braindyn.compartments import (CompartmentalNeuron, Morphology, Section, cable_constants, hines_solve,
                                   load_swc)
from braindyn.gallery import get
from braindyn.neurons import channels as ch

DATA = pathlib.Path(__file__).parent / "data"


def test_hines_solve_random_tree():
    rng = np.random.default_rng(1)
    N = 60
    par = np.concatenate([[-1], [rng.integers(0, i) for i in range(1, N)]])
    a = -rng.uniform(0.1, 2.0, N)
    d = 3.0 * np.abs(a) + rng.uniform(0.5, 1.0, N) + 2.0
    M = np.diag(d)
    for i in range(1, N):
        M[i, par[i]] = M[par[i], i] = a[i]
    b = rng.normal(size=(N, 3))
    x = hines_solve(jnp.asarray(np.repeat(d[:, None], 3, 1)), jnp.asarray(a), jnp.asarray(b), par)
    np.testing.assert_allclose(x, np.linalg.solve(M, b), rtol=1e-12, atol=1e-12)


def test_swc_fixture_geometry():
    m = load_swc(DATA / "y_neuron.swc", max_seg_um=20.0)
    assert list(m.sections) == ["soma", "dend_0", "dend_1", "dend_2", "axon_0"]  # depth-first tree order
    s = m.sections
    assert s["soma"].length == s["soma"].diam == 20.0
    assert math.isclose(s["dend_0"].length, 110.0) and math.isclose(s["dend_0"].diam, 2.0)
    assert math.isclose(s["dend_1"].length, 100.0) and math.isclose(s["dend_1"].diam, 1.25)
    assert math.isclose(s["axon_0"].length, 210.0) and s["axon_0"].parent == "soma"
    assert s["dend_1"].parent == s["dend_2"].parent == "dend_0"
    assert all(sec.nseg % 2 == 1 and sec.length / sec.nseg <= 20.0 for sec in s.values())
    # areas: pi d L per section; root axial resistance 0; parents before children
    for name, sec in s.items():
        np.testing.assert_allclose(m.area[m.indices(name)].sum(), math.pi * sec.diam * sec.length * 1e-8, rtol=1e-12)
    assert m.r_axial[0] == 0 and np.all(m.parent[1:] < np.arange(1, m.n_comp))


def _passive_reference(m, g_leak, E, cm, Ra, inj, I_nA, ts, V0):
    """Exact solution of the compartment ODEs, assembled here from the geometry formulas:
    C dV/dt = -g A (V - E) + sum g_ax (V_j - V_i) + I at compartment ``inj``."""
    N = m.n_comp
    A = np.zeros((N, N))
    b = np.zeros(N)
    C = np.zeros(N)
    for name, sec in m.sections.items():
        h = sec.length / sec.nseg * 1e-4  # cm
        area = math.pi * sec.diam * 1e-4 * h
        for i in m.indices(name):
            C[i] = cm * area * 1e3  # nF
            A[i, i] -= g_leak * area * 1e3  # uS
            b[i] += g_leak * area * 1e3 * E
    for name, sec in m.sections.items():
        rh = Ra * 0.5 * sec.length / sec.nseg * 1e-4 / (math.pi * (0.5 * sec.diam * 1e-4) ** 2)
        idx = m.indices(name)
        for k in range(1, len(idx)):
            g = 1e6 / (2 * rh)
            i, j = idx[k], idx[k - 1]
            A[i, i] -= g; A[j, j] -= g; A[i, j] += g; A[j, i] += g
        if sec.parent is not None:
            ps = m.sections[sec.parent]
            j = m.index(sec.parent, sec.parent_x)
            prh = Ra * 0.5 * ps.length / ps.nseg * 1e-4 / (math.pi * (0.5 * ps.diam * 1e-4) ** 2)
            g = 1e6 / (rh + (prh if sec.parent_x in (0.0, 1.0) else 0.0))
            i = idx[0]
            A[i, i] -= g; A[j, j] -= g; A[i, j] += g; A[j, i] += g
    b[inj] += I_nA
    A = A / C[:, None]
    b = b / C
    Vss = np.linalg.solve(A, -b)
    return np.stack([Vss + scipy.linalg.expm(A * t) @ (V0 - Vss) for t in ts])


def _y_passive(scheme):
    m = Morphology([Section("soma", 20.0, 20.0), Section("d0", 100.0, 2.0, "soma", 1.0, 3),
                    Section("d1", 150.0, 1.0, "d0", 1.0, 5), Section("d2", 80.0, 1.5, "d0", 0.5, 3)])
    cell = CompartmentalNeuron(m, {"all": {"L": ch.Leak(g=0.2, E=-70.0)}}, cm=1.0, Ra=120.0, V_init=-65.0,
                               sites={"tip": ("d1", 1.0)}, scheme=scheme)
    return m, cell


@pytest.mark.parametrize("scheme,order", [("backward_euler", 1), ("crank_nicolson", 2)])
def test_passive_tree_against_matrix_exponential_and_order(scheme, order):
    m, cell = _y_passive(scheme)
    T = 4.0
    ref = _passive_reference(m, 0.2, -70.0, 1.0, 120.0, m.index("d1", 1.0), 0.05, [T], np.full(m.n_comp, -65.0))[0]

    errs = []
    dts = (0.1, 0.05, 0.025)
    for dt in dts:
        st = cell.init_state()
        fin, _, _ = bd.simulate(cell, st, int(round(T / dt)), dt, inputs={"tip": 0.05}, record=lambda s: {})
        errs.append(np.abs(np.asarray(fin["V"])[0] - ref).max())
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert abs(slope - order) < 0.2, (errs, slope)
    assert errs[-1] < (1e-2 if order == 1 else 1e-4)


def test_cable_lambda_tau_within_1_percent():
    f = get("cable").compute(get("cable").params({"quick": True})).figures
    an = cable_constants(1.0, 0.1, 100.0)
    assert abs(f["lambda_um"] / an["lambda_um"] - 1) < 0.01
    assert abs(f["tau_ms"] / an["tau_ms"] - 1) < 0.01


def test_axon_velocity_sqrt_d_and_mesh():
    from braindyn.gallery.compartments import axon_velocity

    v40 = axon_velocity(1.0, 2000.0, 40.0, 0.02)
    v20 = axon_velocity(1.0, 2000.0, 20.0, 0.02)
    v4 = axon_velocity(4.0, 2000.0, 20.0, 0.02)
    # v ~ sqrt(d): a 4x thicker axon conducts 2x faster, within 5 %
    assert abs((v4 / v20) / 2.0 - 1) < 0.05
    assert abs(v20 / v40 - 1) < 0.01  # 40 um -> 20 um compartments change the velocity by < 1 %
    # the HH squid axon (21 m/s at 476 um, 18.5 C in HH 1952) scaled to 1 um and 6.3 C: below 1 m/s
    assert 0.3 < v20 < 1.0


@pytest.mark.slow
def test_axon_converged_full():
    e = get("axon")
    f = e.compute(e.params({})).figures
    assert abs(f["exponent"] - 0.5) < 0.025
    mv = np.asarray(f["mesh_velocities_m_per_s"])
    steps = np.abs(np.diff(mv))
    assert np.all(steps[1:] < steps[:-1]) and steps[-1] / mv[-1] < 2e-3


def test_myelinated_faster_than_unmyelinated():
    from braindyn.gallery.compartments import axon_velocity

    # one compartment per 100 um internode (coarse, cheap); fibres under ~8 mm overstate the velocity
    v_m = axon_velocity(1.0, 8000.0, 100.0, 0.025, myelinated=True)
    v_u = axon_velocity(1.0, 2000.0, 20.0, 0.025)
    assert v_m > 3 * v_u


@pytest.mark.slow
def test_myelinated_converged():
    from braindyn.gallery.compartments import axon_velocity

    v50 = axon_velocity(1.0, 12000.0, 50.0, 0.01, myelinated=True)
    v25 = axon_velocity(1.0, 12000.0, 25.0, 0.01, myelinated=True)
    v_u = axon_velocity(1.0, 4000.0, 10.0, 0.01)
    assert abs(v25 / v50 - 1) < 0.02 and v25 > 3 * v_u


def test_dendrite_nmda_plateau_in_network():
    from braindyn.gallery.compartments import _dendrite_net

    p = get("dendrite").params({})
    out = {}
    for name, w in (("clustered", (2.0, 0.0)), ("distributed", (1.0, 1.0))):
        net, cell = _dendrite_net(p, *w)
        res = bd.run(net, 25.0, dt=0.025, record=["pop.cell.spike", "pop.cell.V_b1"])
        out[name] = (res.spike_count(), float(np.max(res["pop.cell.V_b1"])))
    # the same total NMDA conductance: clustered on one branch relieves the Mg block (a plateau near
    # 0 mV, a somatic spike); spread over two branches it stays blocked (no spike)
    assert out["clustered"][0] == 1 and out["distributed"][0] == 0
    assert out["clustered"][1] > -10.0 and out["distributed"][1] < -25.0


def test_gradient_wrt_compartment_conductances():
    m = Morphology([Section("soma", 20.0, 20.0), Section("dend", 100.0, 1.0, "soma", 1.0, 3)])
    cell = CompartmentalNeuron(m, {"soma": {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak(g=0.3, E=-54.3)},
                                   "dend": {"L": ch.Leak(g=0.1, E=-65.0)}}, sites={"tip": ("dend", 1.0)})
    st = cell.init_state()

    def loss(gL, gK):
        c = jax.tree_util.tree_map(lambda x: x, cell)
        c = eqx_set(c, gL, gK)
        _, rec, _ = bd.simulate(c, st, 100, 0.1, inputs={"I": 0.05, "tip": 0.02}, record=lambda s: {"V": s["V"]})
        return jnp.mean(rec["V"])

    gL, gK = cell.mechs["L"].g, cell.mechs["K"].g
    assert gL.shape == (4,) and gK.shape == (1,)
    g1, g2 = jax.jit(jax.grad(loss, argnums=(0, 1)))(gL, gK)
    f = jax.jit(loss)
    for k in range(4):
        e = jnp.zeros(4).at[k].set(1e-5)
        fd = (f(gL + e, gK) - f(gL - e, gK)) / 2e-5
        np.testing.assert_allclose(g1[k], fd, rtol=1e-5)
    fd = (f(gL, gK + 1e-5) - f(gL, gK - 1e-5)) / 2e-5
    np.testing.assert_allclose(g2[0], fd, rtol=1e-5)


def eqx_set(cell, gL, gK):
    import equinox as eqx

    cell = eqx.tree_at(lambda c: c.mechs["L"].g, cell, gL)
    return eqx.tree_at(lambda c: c.mechs["K"].g, cell, gK)


def test_population_batch_and_network_site():
    m = Morphology([Section("soma", 20.0, 20.0), Section("dend", 100.0, 1.0, "soma", 1.0, 3)])
    hh = {"Na": ch.INa_HH(), "K": ch.IK_HH(), "L": ch.Leak(g=0.3, E=-54.3)}
    cell = CompartmentalNeuron(m, {"soma": hh, "dend": {"L": ch.Leak(g=0.1, E=-65.0)}}, n=2,
                               sites={"tip": ("dend", 1.0)})
    res = bd.run(cell, 20.0, dt=0.025, inputs={"I": jnp.array([0.0, 0.3])}, record="spike")
    counts = np.asarray(res["spike"]).sum(axis=0)
    assert counts[0] == 0 and counts[1] >= 1
    # a synapse onto the site 'tip' through a Network equals the same conductance given directly
    from braindyn.synapses import ConductanceOutput, Exponential, SynapticProjection

    src = bd.neurons.SpikeTimeGroup(1, indices=[0], times=[1.0])
    proj = SynapticProjection("src", "cell", np.ones((1, 2)), 0.01, Exponential(5.0), ConductanceOutput(E=0.0),
                              target="tip", dt=0.025)
    net = bd.Network({"src": src, "cell": cell}, {"syn": proj})
    r1 = bd.run(net, 10.0, dt=0.025, record="pop.cell.V_tip")
    v = np.asarray(r1["pop.cell.V_tip"])
    assert v.max() > -64.0  # the synapse depolarises its site
    def tip(t):  # the source spikes in the step from 1.0; the synapse sees it one step later
        return bd.core.Conductance.of(jnp.full((2,), 0.01 * jnp.exp(-(t - 1.025) / 5.0) * (t >= 1.025 - 1e-9)), 0.0)
    r2 = bd.run(cell, 10.0, dt=0.025, inputs={"tip": tip}, record="V_tip")
    np.testing.assert_allclose(v, np.asarray(r2["V_tip"]), atol=0.05)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(BraindynError, match="length"):
        Section("d", -5.0, 1.0)
    with pytest.raises(BraindynError, match="nseg"):
        Section("d", 5.0, 1.0, nseg=0)
    with pytest.raises(BraindynError, match="parent"):
        Morphology([Section("soma", 20.0, 20.0), Section("d", 5.0, 1.0, "nope")])
    m = Morphology([Section("soma", 20.0, 20.0)])
    with pytest.raises(BraindynError, match="not a section"):
        CompartmentalNeuron(m, {"dend": {"L": ch.Leak()}})
    with pytest.raises(BraindynError, match="Channel"):
        CompartmentalNeuron(m, {"soma": {"L": 0.3}})
    with pytest.raises(BraindynError, match="scheme"):
        CompartmentalNeuron(m, {"soma": {"L": ch.Leak()}}, scheme="rk4")
    cell = CompartmentalNeuron(m, {"soma": {"L": ch.Leak()}})
    with pytest.raises(BraindynError, match="no site 'apical'"):
        cell.step(cell.init_state(), {"apical": 1.0}, 0.0, 0.1)
