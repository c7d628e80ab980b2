"""Synaptic kinetics against closed forms, solve_ivp and the reference numbers; outputs; gap junctions."""
import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

from braindyn import BraindynError  # noqa: E402
from braindyn.core import Conductance  # noqa: E402
from braindyn.synapses import (AMPA, NMDA, Alpha, ConductanceOutput, CurrentOutput, Delta,  # noqa: E402
                               DualExponential, Exponential, GABAa, GABAb, GapJunction, Instant, MgBlockOutput,
                               WangNMDA)

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
    tp, gp = map(float, syn.peak())
    assert tp == pytest.approx(6.0) and gp == pytest.approx(2.2073, abs=1e-4)
    assert float(Alpha(tau=6.0, normalize=True).peak()[1]) == pytest.approx(1.0)


def test_dual_exponential_closed_form_and_peak():
    syn = DualExponential(tau_rise=2.0, tau_decay=20.0)
    g = one_spike(syn, 600)
    t = 0.1 * np.arange(600)
    closed = 20 * 2 / 18 * (np.exp(-t / 20) - np.exp(-t / 2))
    np.testing.assert_allclose(g, closed, rtol=1e-10, atol=1e-14)
    tp, gp = map(float, syn.peak())
    assert tp == pytest.approx(5.117, abs=1e-3) and gp == pytest.approx(1.5485, abs=1e-4)
    assert g.max() == pytest.approx(1.5485, abs=2e-4)


def test_dual_exponential_normalised():
    syn = DualExponential(tau_rise=1.0, tau_decay=5.0, normalize=True)
    assert float(syn.jump) == pytest.approx(1.49535, abs=1e-5)
    tp, gp = map(float, syn.peak())
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
    al, be, T, T_dur = (float(getattr(syn, k)) for k in ("alpha", "beta", "T", "T_dur"))
    ref = _pulse_ref(lambda y, T: [al * T * (1 - y[0]) - be * y[0]], [0.0], T, T_dur, t[-1], t)[0]
    np.testing.assert_allclose(s, ref, atol=1e-8)
    # peak at the end of the pulse: exactly T_dur/dt steps after the arrival (no off-by-one window)
    k = int(round(T_dur / dt))
    assert np.argmax(s) == k and s[k] == pytest.approx(peak, abs=1e-5)
    # then pure decay with rate beta
    assert s[k + 50] / s[k] == pytest.approx(np.exp(-be * 5.0), rel=1e-9)


def test_transmitter_window_exact_for_any_dt():
    syn = AMPA()
    dt = 0.03  # 0.5 ms pulse is 16.67 steps: split exactly inside a step
    s = one_spike(syn, 100, dt)
    t = dt * np.arange(100)
    al, be, T, T_dur = (float(getattr(syn, k)) for k in ("alpha", "beta", "T", "T_dur"))
    ref = _pulse_ref(lambda y, T: [al * T * (1 - y[0]) - be * y[0]], [0.0], T, T_dur, t[-1], t)[0]
    np.testing.assert_allclose(s, ref, atol=1e-8)


def test_nmda_against_solve_ivp_and_mg_block():
    syn = NMDA()
    n, dt = 2000, 0.1
    s = one_spike(syn, n, dt)
    t = dt * np.arange(n)
    al, be, T, T_dur = (float(getattr(syn, k)) for k in ("alpha", "beta", "T", "T_dur"))
    ref = _pulse_ref(lambda y, T: [al * T * (1 - y[0]) - be * y[0]], [0.0], T, T_dur, t[-1], t)[0]
    np.testing.assert_allclose(s, ref, atol=1e-8)
    out = MgBlockOutput(E=0.0, Mg=1.2)
    V = np.array([-65.0, -40.0, -20.0, 0.0])
    np.testing.assert_allclose(out.block(V), [0.05022, 0.19945, 0.46263, 0.74843], atol=5e-6)
    Vs = np.linspace(-100, 40, 50)
    assert np.all(np.diff(np.asarray(out.block(Vs))) > 0)
    # the NMDA current at several voltages: g s B(V) (E - V), a conductance with the block at V
    g = 2.0 * s[20]
    c = out(jnp.full(4, g), {"V": jnp.asarray(V)})
    assert isinstance(c, Conductance)
    I = c.current(jnp.asarray(V))
    np.testing.assert_allclose(I, g * np.array([0.05022, 0.19945, 0.46263, 0.74843]) * (0 - V), rtol=1e-4)
    assert float(I[-1]) == 0.0
    # the block is held at the start-of-step V0, the driving force follows the neuron's V
    np.testing.assert_allclose(c.current(jnp.asarray(V) + 10.0), g * np.asarray(out.block(V)) * (0 - V - 10.0),
                               rtol=1e-12)


def test_gabab_against_solve_ivp():
    syn = GABAb()
    n, dt = 3000, 0.1
    r = one_spike(syn, n, dt, var="r")
    G = one_spike(syn, n, dt, var="G")
    t = dt * np.arange(n)

    k1, k2, k3, k4, Kd = (float(getattr(syn, k)) for k in ("k1", "k2", "k3", "k4", "Kd"))

    def rhs(y, T):
        return [k1 * T * (1 - y[0]) - k2 * y[0], k3 * y[0] - k4 * y[1]]

    ref = _pulse_ref(rhs, [0.0, 0.0], float(syn.T), float(syn.T_dur), t[-1], t)
    np.testing.assert_allclose(r, ref[0], atol=1e-9)
    np.testing.assert_allclose(G, ref[1], atol=1e-8)
    g = one_spike(syn, n, dt)
    np.testing.assert_allclose(g, ref[1] ** 4 / (ref[1] ** 4 + Kd), atol=1e-9)
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
    V = jnp.array([-60.0, -80.0])
    post = {"V": V}
    np.testing.assert_allclose(CurrentOutput()(g, post), g)
    np.testing.assert_allclose(CurrentOutput(scale=-2.0)(g, post), -2.0 * g)
    c0, c80 = ConductanceOutput(E=0.0)(g, post), ConductanceOutput(E=-80.0)(g, post)
    assert isinstance(c0, Conductance) and isinstance(c80, Conductance)
    np.testing.assert_allclose(c0.current(V), [30.0, 160.0])
    np.testing.assert_allclose(c80.current(V), [-10.0, 0.0])
    # the pair (g, E) is kept, not a current frozen at V: at another V the current follows
    np.testing.assert_allclose(c0.current(V + 10.0), [25.0, 140.0])
    # conductances and currents add: (g1 + g2, g1 E1 + g2 E2 + I0)
    total = c0 + c80 + jnp.array([1.0, 1.0])
    np.testing.assert_allclose(total.g, 2 * g)
    np.testing.assert_allclose(total.current(V), c0.current(V) + c80.current(V) + 1.0)
    with pytest.raises(BraindynError, match="'V'"):
        MgBlockOutput(E=0.0)(g, {"v": post["V"]})


def test_conductance_output_makes_exponential_euler_exact():
    """A LIF with a constant synaptic conductance g (E_syn) relaxes with rate (1 + gR)/tau to
    V_inf = (V_rest + g R E)/(1 + g R): exponential Euler with the (g, E) pair is exact at any dt."""
    import braindyn as bd
    import braindyn.connect as bc
    from braindyn.synapses import SynapticProjection

    class Const(bd.Dynamics):
        n: int = 1

        def init_state(self, *, key=None, dtype=None, **initial):
            return {"r": jnp.ones((1,), dtype or jnp.float64)}

        def step(self, state, inputs, t, dt, key=None):
            return state, {}

    g, E, tau, R = 0.5, 0.0, 10.0, 1.0
    lif = bd.neurons.LIF(n=1, V_rest=-70.0, V_th=1e9, tau=tau, R=R, V_init=-70.0)
    for dt in (0.5, 2.0):
        proj = SynapticProjection("c", "A", np.ones((1, 1)), g, Instant(), ConductanceOutput(E=E), signal="r")
        net = bd.Network({"c": Const(), "A": lif}, {"p": proj})
        res = bd.run(net, 20.0, dt, record="pop.A.V", check_finite=False)
        t = dt * np.arange(1, res["pop.A.V"].shape[0] + 1)
        v_inf = (-70.0 + g * R * E) / (1 + g * R)
        exact = v_inf + (-70.0 - v_inf) * np.exp(-(1 + g * R) * t / tau)
        np.testing.assert_allclose(np.asarray(res["pop.A.V"])[:, 0], exact, rtol=1e-10)


def test_instant_is_stateless_and_passes_the_drive():
    syn = Instant()
    assert syn.init_state(3, F64) == {}
    st, g = syn.step({}, jnp.array([1.0, -2.0, 0.5]), 0.1)
    assert st == {} and g.tolist() == [1.0, -2.0, 0.5]


def _wang_ref(syn, spike_times, t_eval):
    """solve_ivp (LSODA, rtol 1e-11) of Wang's NMDA between spikes; x jumps by 1 at each spike."""
    td, tr, a = float(syn.tau_decay), float(syn.tau_rise), float(syn.a)

    def rhs(t, y):
        s, x = y
        return [-s / td + a * x * (1 - s), -x / tr]

    y = np.array([0.0, 0.0])
    edges = [0.0] + list(spike_times) + [t_eval[-1] + 1e-9]
    out = np.zeros((2, len(t_eval)))
    for k in range(len(edges) - 1):
        t0, t1 = edges[k], edges[k + 1]
        if k > 0:
            y = y + np.array([0.0, 1.0])
        sol = solve_ivp(rhs, (t0, t1), y, method="LSODA", rtol=1e-11, atol=1e-14, dense_output=True)
        sel = (t_eval >= t0) & (t_eval < t1)
        if k == 0:
            sel = t_eval < t1
        out[:, sel] = sol.sol(t_eval[sel])
        y = sol.y[:, -1]
    return out


@pytest.mark.parametrize("dt", [0.1, 0.5])
def test_wang_nmda_against_solve_ivp(dt):
    syn = WangNMDA()
    spike_steps = [int(round(t / dt)) for t in (5.0, 12.0, 14.0, 15.0, 60.0)]
    n = int(round(200.0 / dt))
    st = syn.init_state(1, F64)
    upd = jax.jit(lambda st, a: syn.step(st, a, dt))
    s, x = [], []
    for k in range(n):
        st, g = upd(st, jnp.array([1.0 if k in spike_steps else 0.0], F64))
        s.append(float(g[0]))
        x.append(float(st["x"][0]))
    # the state after step k is the solution at t_k = k dt, with the spikes of step k applied
    t = dt * np.arange(n)
    ref = _wang_ref(syn, [k * dt for k in spike_steps], t + 1e-12)
    np.testing.assert_allclose(x, ref[1], atol=1e-9)
    np.testing.assert_allclose(s, ref[0], atol=1e-8)
    assert 0.0 < max(s) < 1.0


def test_wang_nmda_silent_synapse_decays_exactly_and_stays_bounded():
    syn = WangNMDA(tau_decay=50.0)
    st = {"s": jnp.array([0.8], F64), "x": jnp.array([0.0], F64)}
    st, s = syn.step(st, jnp.array([0.0], F64), 2.0)
    assert float(s[0]) == pytest.approx(0.8 * np.exp(-2.0 / 50.0), rel=1e-14)
    # a huge burst with a coarse step: s stays in [0, 1]
    st = {"s": jnp.array([0.9], F64), "x": jnp.array([200.0], F64)}
    st, s = syn.step(st, jnp.array([0.0], F64), 5.0)
    assert 0.0 <= float(s[0]) <= 1.0


def test_wang_nmda_through_a_projection_with_mg_block():
    import braindyn as bd
    import braindyn.connect as bc
    from braindyn.synapses import SynapticProjection

    pre = bd.neurons.LIF(n=4, V_rest=-70.0, V_reset=-70.0, V_th=-50.0, tau=10.0)
    post = bd.neurons.LIF(n=3, V_rest=-70.0, V_reset=-70.0, V_th=-50.0, tau=10.0)
    proj = SynapticProjection("A", "B", bc.fixed_prob(4, 3, 0.7, seed=2), 0.1, WangNMDA(), MgBlockOutput(E=0.0, Mg=1.0))
    net = bd.Network({"A": pre, "B": post}, {"p": proj})
    res = bd.run(net, 100.0, 0.1, inputs={"A": 30.0}, record=["proj.p.syn.s", "pop.B.V"], check_finite=False)
    s = np.asarray(res["proj.p.syn.s"])
    assert s.shape[1] == 4 and s.max() > 0.1 and np.all(s <= 1.0)
    assert np.asarray(res["pop.B.V"]).max() > -70.0


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
    (lambda: GABAb(k4=-1.0), "k4"),
    (lambda: WangNMDA(a=0.0), "'a'"),
    (lambda: CurrentOutput(scale="big"), "scale"),
    (lambda: MgBlockOutput(Mg=-1.0), "Mg"),
    (lambda: ConductanceOutput(E=float("nan")), "E"),
    (lambda: GapJunction("A", "A", np.ones(3), g=1.0), "2-D"),
])
def test_bad_parameters_raise_clear_errors(make, name):
    with pytest.raises(BraindynError, match=name):
        make()
