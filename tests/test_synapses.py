"""Synaptic kinetics against closed forms, solve_ivp and the reference numbers; outputs; gap junctions."""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

from braindyn import BraindynError  # noqa: E402
from braindyn.synapses import (AMPA, NMDA, Alpha, ConductanceOutput, CurrentOutput, Delta,  # noqa: E402
                               DualExponential, Exponential, GABAa, GABAb, GapJunction, MgBlockOutput)

F64 = jnp.float64


def one_spike(syn, n_steps, dt=0.1, w=1.0, var=None):
    """Conductance (or a state variable) at steps 0..n_steps-1 after one spike arriving at step 0."""
    st = syn.init_state(1, F64)
    upd = jax.jit(lambda st, a: syn.update(st, a, dt))
    out = []
    for k in range(n_steps):
        st = upd(st, jnp.array([w if k == 0 else 0.0], F64))
        out.append(float((syn.conductance(st) if var is None else st[var])[0]))
    return np.array(out)


def test_exponential_closed_form():
    g = one_spike(Exponential(tau=5.0), 300, w=0.6)
    t = 0.1 * np.arange(300)
    np.testing.assert_allclose(g, 0.6 * np.exp(-t / 5.0), rtol=1e-12)


def test_delta_is_unit_area_pulse():
    g = one_spike(Delta(), 5, w=2.0)
    np.testing.assert_allclose(g, [20.0, 0, 0, 0, 0])
    assert g.sum() * 0.1 == pytest.approx(2.0)


def test_alpha_closed_form_and_peak():
    syn = Alpha(tau=6.0)
    g = one_spike(syn, 400)
    t = 0.1 * np.arange(400)
    np.testing.assert_allclose(g, t * np.exp(-t / 6.0), rtol=1e-10, atol=1e-14)
    assert np.argmax(g) == 60 and g.max() == pytest.approx(2.2073, abs=1e-4)
    tp, gp = syn.peak()
    assert tp == pytest.approx(6.0) and gp == pytest.approx(2.2073, abs=1e-4)
    assert Alpha(tau=6.0, normalize=True).peak()[1] == pytest.approx(1.0)


def test_dual_exponential_closed_form_and_peak():
    syn = DualExponential(tau_rise=2.0, tau_decay=20.0)
    g = one_spike(syn, 600)
    t = 0.1 * np.arange(600)
    closed = 20 * 2 / 18 * (np.exp(-t / 20) - np.exp(-t / 2))
    np.testing.assert_allclose(g, closed, rtol=1e-10, atol=1e-14)
    tp, gp = syn.peak()
    assert tp == pytest.approx(5.117, abs=1e-3) and gp == pytest.approx(1.5485, abs=1e-4)
    assert g.max() == pytest.approx(1.5485, abs=2e-4)


def test_dual_exponential_normalised():
    syn = DualExponential(tau_rise=1.0, tau_decay=5.0, normalize=True)
    assert syn.jump == pytest.approx(1.49535, abs=1e-5)
    tp, gp = syn.peak()
    assert tp == pytest.approx(2.012, abs=1e-3) and gp == pytest.approx(1.0)
    g = one_spike(syn, 700, dt=0.004)  # fine grid up to 2.8 ms: sampled maximum ~ 1
    assert g.max() == pytest.approx(1.0, abs=1e-5)


def _pulse_ref(rhs, y0, T_conc, T_dur, t_end, t_eval):
    """solve_ivp (LSODA, rtol 1e-10) with the transmitter pulse integrated piecewise."""
    on = solve_ivp(lambda t, y: rhs(y, T_conc), (0, T_dur), y0, method="LSODA", rtol=1e-10, atol=1e-13,
                   max_step=0.01, dense_output=True)
    off = solve_ivp(lambda t, y: rhs(y, 0.0), (T_dur, t_end), on.y[:, -1], method="LSODA", rtol=1e-10,
                    atol=1e-13, max_step=0.05, dense_output=True)
    return np.array([on.sol(t) if t <= T_dur else off.sol(t) for t in t_eval]).T


@pytest.mark.parametrize("cls, peak", [(AMPA, 0.20819), (GABAa, 0.37948)])
def test_ampa_gabaa_against_solve_ivp_and_refcases(cls, peak):
    syn = cls()
    n, dt = 300, 0.1
    s = one_spike(syn, n, dt)
    t = dt * np.arange(n)
    ref = _pulse_ref(lambda y, T: [syn.alpha * T * (1 - y[0]) - syn.beta * y[0]], [0.0], syn.T, syn.T_dur,
                     t[-1], t)[0]
    np.testing.assert_allclose(s, ref, atol=1e-8)
    # peak at the end of the pulse: exactly T_dur/dt steps after the arrival (no off-by-one window)
    k = int(round(syn.T_dur / dt))
    assert np.argmax(s) == k and s[k] == pytest.approx(peak, abs=1e-5)
    # then pure decay with rate beta
    assert s[k + 50] / s[k] == pytest.approx(np.exp(-syn.beta * 5.0), rel=1e-9)


def test_transmitter_window_exact_for_any_dt():
    syn = AMPA()
    dt = 0.03  # 0.5 ms pulse is 16.67 steps: split exactly inside a step
    s = one_spike(syn, 100, dt)
    t = dt * np.arange(100)
    ref = _pulse_ref(lambda y, T: [syn.alpha * T * (1 - y[0]) - syn.beta * y[0]], [0.0], syn.T, syn.T_dur,
                     t[-1], t)[0]
    np.testing.assert_allclose(s, ref, atol=1e-8)


def test_nmda_against_solve_ivp_and_mg_block():
    syn = NMDA()
    n, dt = 2000, 0.1
    s = one_spike(syn, n, dt)
    t = dt * np.arange(n)
    ref = _pulse_ref(lambda y, T: [syn.alpha * T * (1 - y[0]) - syn.beta * y[0]], [0.0], syn.T, syn.T_dur,
                     t[-1], t)[0]
    np.testing.assert_allclose(s, ref, atol=1e-8)
    out = MgBlockOutput(E=0.0, Mg=1.2)
    V = np.array([-65.0, -40.0, -20.0, 0.0])
    np.testing.assert_allclose(out.block(V), [0.05022, 0.19945, 0.46263, 0.74843], atol=5e-6)
    Vs = np.linspace(-100, 40, 50)
    assert np.all(np.diff(np.asarray(out.block(Vs))) > 0)
    # the NMDA current at several voltages: g s B(V) (E - V)
    g = 2.0 * s[20]
    I = out(jnp.full(4, g), {"V": jnp.asarray(V)})
    np.testing.assert_allclose(I, g * np.array([0.05022, 0.19945, 0.46263, 0.74843]) * (0 - V), rtol=1e-4)
    assert float(I[-1]) == 0.0


def test_gabab_against_solve_ivp():
    syn = GABAb()
    n, dt = 3000, 0.1
    r = one_spike(syn, n, dt, var="r")
    G = one_spike(syn, n, dt, var="G")
    t = dt * np.arange(n)

    def rhs(y, T):
        return [syn.k1 * T * (1 - y[0]) - syn.k2 * y[0], syn.k3 * y[0] - syn.k4 * y[1]]

    ref = _pulse_ref(rhs, [0.0, 0.0], syn.T, syn.T_dur, t[-1], t)
    np.testing.assert_allclose(r, ref[0], atol=1e-9)
    np.testing.assert_allclose(G, ref[1], atol=1e-8)
    g = one_spike(syn, n, dt)
    np.testing.assert_allclose(g, ref[1] ** 4 / (ref[1] ** 4 + syn.Kd), atol=1e-9)
    assert g.max() > 0


def test_two_spikes_superpose_for_linear_kinetics():
    syn = DualExponential(tau_rise=1.0, tau_decay=8.0)
    st = syn.init_state(1, F64)
    gs = []
    for k in range(200):
        st = syn.update(st, jnp.array([1.0 if k in (0, 30) else 0.0]), 0.1)
        gs.append(float(syn.conductance(st)[0]))
    one = one_spike(syn, 200)
    both = one + np.concatenate([np.zeros(30), one[:170]])
    np.testing.assert_allclose(gs, both, rtol=1e-10, atol=1e-14)


def test_outputs():
    g = jnp.array([0.5, 2.0])
    post = {"V": jnp.array([-60.0, -80.0])}
    np.testing.assert_allclose(CurrentOutput()(g, post), g)
    np.testing.assert_allclose(ConductanceOutput(E=0.0)(g, post), [30.0, 160.0])
    np.testing.assert_allclose(ConductanceOutput(E=-80.0)(g, post), [-10.0, 0.0])
    with pytest.raises(BraindynError, match="'V'"):
        ConductanceOutput(E=0.0)(g, {"v": post["V"]})


def test_gap_junction_dense_and_csr_agree():
    import braindyn.connect as bc

    rng = np.random.default_rng(0)
    m = (rng.random((6, 6)) < 0.5).astype(float)
    V = {"V": jnp.asarray(rng.normal(-60, 5, 6))}
    _, I_dense = GapJunction("A", "A", m, g=0.2).deliver({}, V, V, 0.0, 0.1)
    _, I_csr = GapJunction("A", "A", bc.from_matrix(m), g=0.2).deliver({}, V, V, 0.0, 0.1)
    v = np.asarray(V["V"])
    ref = 0.2 * np.array([sum(m[j, i] * (v[j] - v[i]) for j in range(6)) for i in range(6)])
    np.testing.assert_allclose(I_dense, ref, atol=1e-10)
    np.testing.assert_allclose(I_csr, ref, atol=1e-10)


def test_gap_junction_equalises_two_passive_cells():
    """Two LIF-like passive cells coupled both ways: the difference decays at rate 1/tau + 2 g R/tau."""
    import braindyn as bd

    lif = bd.neurons.LIF(n=2, V_rest=0.0, V_th=1e9, tau=10.0, R=1.0, t_ref=0.0, V_init=0.0)
    gj = GapJunction("A", "A", np.array([[0.0, 1.0], [1.0, 0.0]]), g=0.5)
    net = bd.Network({"A": lif}, {"gap": gj})
    st = net.init_state()
    st["pop"]["A"]["V"] = jnp.array([10.0, 0.0])
    res = bd.run(net, 5.0, 0.001, state0=st, record="pop.A.V", check_finite=False)
    d = res["pop.A.V"][:, 0] - res["pop.A.V"][:, 1]
    assert d[-1] == pytest.approx(10.0 * np.exp(-5.0 * (1 / 10 + 2 * 0.5 / 10)), rel=2e-3)


@pytest.mark.parametrize("make, name", [
    (lambda: Exponential(tau=-1.0), "tau"),
    (lambda: DualExponential(tau_rise=0.0), "tau_rise"),
    (lambda: AMPA(T_dur=0.0), "T_dur"),
    (lambda: GABAb(n=0), "'n'"),
    (lambda: MgBlockOutput(Mg=-1.0), "Mg"),
    (lambda: ConductanceOutput(E=float("nan")), "E"),
    (lambda: GapJunction("A", "A", np.ones(3), g=1.0), "2-D"),
])
def test_bad_parameters_raise_clear_errors(make, name):
    with pytest.raises(BraindynError, match=name):
        make()
